//! One attempt of one claimed job: run it with its capability under a timeout, contain a
//! panic, stop it when told it was cancelled, decide the outcome (completed, retry later,
//! failed, dead) and record it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use plinth_core::jobs::{BoxFuture, Job, JobError, JobOutput, JobRun, Outcome};
use plinth_core::AppService;
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::worker::{Held, WorkerOptions};

/// A duration from the manifest (`10m`, `250ms`), or the default.
fn manifest_ms(d: &Option<String>, default: u64) -> Duration {
    d.as_deref()
        .and_then(plinth_manifest::duration_ms)
        .map_or(Duration::from_millis(default), Duration::from_millis)
}

/// Run `job` to its end as far as this worker is concerned. Plain completions of untracked
/// jobs go to `done` to be marked in a batch; every other outcome is recorded here.
pub(crate) async fn run_one(
    app: Arc<AppService>,
    job: Job,
    options: Arc<WorkerOptions>,
    done: mpsc::UnboundedSender<Uuid>,
    held: Held,
) {
    let owner: Arc<str> = options.owner.as_str().into();
    let def = app.manifest().jobs.get(&job.kind).cloned();
    let timeout = def.as_ref().map_or(Duration::from_secs(300), |d| {
        manifest_ms(&d.timeout, 300_000)
    });
    let base = def
        .as_ref()
        .map_or(Duration::from_secs(1), |d| manifest_ms(&d.backoff, 1000));
    let runner = def
        .as_ref()
        .and_then(|d| app.runners().get(&d.run).cloned());
    let labels = [("app", app.name().to_string()), ("kind", job.kind.clone())];
    if let Some(t) = job
        .record
        .get("run_at")
        .and_then(|v| v.as_str())
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    {
        let wait = (Utc::now() - t.with_timezone(&Utc))
            .num_microseconds()
            .unwrap_or(0);
        metrics::histogram!("plinth_job_start_delay_seconds", &labels)
            .record(wait.max(0) as f64 / 1e6);
    }
    let cancelled = held
        .lock()
        .ok()
        .and_then(|h| h.get(&job.id).map(watch::Sender::subscribe))
        .unwrap_or_else(|| watch::channel(false).1);
    let started = Instant::now();
    let outcome = match runner {
        None => Outcome::Failed(format!("no capability runs job kind `{}`", job.kind)),
        Some(_) if job.attempts > job.max_attempts => {
            Outcome::Dead("its worker stopped during the last attempt".into())
        }
        Some(runner) => {
            if let Err(e) = app.start_job(&job, &owner).await {
                tracing::warn!(job = %job.id, error = %e, "could not mark the job started");
            }
            let run = JobRun {
                app: app.clone(),
                job: job.clone(),
                owner: owner.clone(),
                cancelled: cancelled.clone(),
            };
            match supervise(runner.run(run), timeout, cancelled, options.lease).await {
                Ok(out) => Outcome::Completed(out),
                Err(JobError::Fail(e)) => Outcome::Failed(e),
                Err(JobError::Retry(e)) if job.attempts >= job.max_attempts => Outcome::Dead(e),
                Err(JobError::Retry(error)) => {
                    let wait = crate::backoff(base, job.attempts.max(1) as u32);
                    let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                    Outcome::Retry { error, at }
                }
            }
        }
    };
    let status = match &outcome {
        Outcome::Completed(_) => "completed",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed(_) => "failed",
        Outcome::Dead(_) => "dead",
    };
    if let Outcome::Retry { error, .. } | Outcome::Failed(error) | Outcome::Dead(error) = &outcome {
        tracing::info!(app = %app.name(), job = %job.id, kind = job.kind, attempt = job.attempts, status, error, "job attempt failed");
    }
    let labels = [
        labels[0].clone(),
        labels[1].clone(),
        ("status", status.to_string()),
    ];
    let record = |labels: &[(&'static str, String); 3]| {
        metrics::counter!("plinth_jobs_finished_total", labels).increment(1);
        metrics::histogram!("plinth_job_run_seconds", labels)
            .record(started.elapsed().as_secs_f64());
    };
    if let Outcome::Completed(out) = &outcome {
        let plain = out.result.is_none() && out.result_uri.is_none() && out.unit.is_empty();
        if plain && !app.tracks(&job.kind) && done.send(job.id).is_ok() {
            record(&labels);
            return;
        }
    }
    match app.finish_job(&job, &owner, outcome).await {
        Ok(true) => record(&labels),
        Ok(false) => {
            tracing::info!(job = %job.id, "job no longer ours (cancelled or lease lost): result dropped")
        }
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "could not finish the job; it runs again after its lease")
        }
    }
    if let Ok(mut h) = held.lock() {
        h.remove(&job.id);
    }
}

/// Drive a runner's attempt: stop it at the timeout, contain a panic, and stop it a lease
/// after it was told the job is no longer ours if it has not stopped by itself.
async fn supervise(
    attempt: BoxFuture<'static, Result<JobOutput, JobError>>,
    timeout: Duration,
    mut cancelled: watch::Receiver<bool>,
    lease: Duration,
) -> Result<JobOutput, JobError> {
    let mut task = tokio::spawn(attempt);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut told = false;
    loop {
        tokio::select! {
            r = &mut task => {
                return r.unwrap_or_else(|_| Err(JobError::Retry("the job's code panicked".into())));
            }
            _ = &mut deadline => {
                task.abort();
                let secs = timeout.as_secs_f64();
                return Err(JobError::Retry(format!("timed out after {secs} s")));
            }
            r = cancelled.wait_for(|c| *c), if !told => {
                told = true;
                if r.is_ok() {
                    deadline.as_mut().reset((Instant::now() + lease).into());
                }
            }
        }
    }
}
