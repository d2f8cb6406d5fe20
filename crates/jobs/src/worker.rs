//! Workers: one loop per queue claims as many jobs as it has free slots, runs each in its
//! own task under a renewed lease and a timeout, and finishes it. A job whose worker dies
//! is claimed again once its lease runs out (at least once, docs/jobs.md).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use plinth_core::jobs::{Job, JobError, JobRun, Outcome};
use plinth_core::AppService;
use tokio::sync::{watch, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

/// How this node's workers behave.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The name written as lease owner (unique per process).
    pub owner: String,
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// How often an idle queue looks for due jobs (wake-ups come sooner after an enqueue
    /// on this node).
    pub poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

/// Running workers of one app; [`Workers::stop`] lets running jobs finish.
pub struct Workers {
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stop claiming, wait for running jobs, and return.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for l in self.loops {
            let _ = l.await;
        }
    }
}

/// Start a loop for every queue the app's jobs use, and its schedules.
pub fn spawn(app: Arc<AppService>, options: WorkerOptions) -> Workers {
    let (stop, stop_rx) = watch::channel(false);
    let manifest = app.manifest().clone();
    let mut queues: Vec<String> = manifest.jobs.values().map(|j| j.queue.clone()).collect();
    queues.sort();
    queues.dedup();
    let options = Arc::new(options);
    let mut loops = Vec::new();
    for queue in queues {
        let concurrency = manifest.queues.get(&queue).map_or(4, |q| q.concurrency) as usize;
        loops.push(tokio::spawn(queue_loop(
            app.clone(),
            queue,
            concurrency,
            options.clone(),
            stop_rx.clone(),
        )));
    }
    loops.push(tokio::spawn(crate::schedule::run_schedules(
        app.clone(),
        stop_rx,
    )));
    Workers { stop, loops }
}

async fn queue_loop(
    app: Arc<AppService>,
    queue: String,
    concurrency: usize,
    options: Arc<WorkerOptions>,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut wake = app.job_wakeups();
    let mut running = JoinSet::new();
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(30));
    while !*stop.borrow() {
        while running.try_join_next().is_some() {}
        let free = slots.available_permits();
        let mut claimed = 0;
        if free > 0 {
            wake.borrow_and_update();
            match app
                .claim_jobs(&queue, &options.owner, free as u64, Utc::now() + lease)
                .await
            {
                Ok(jobs) => {
                    claimed = jobs.len();
                    for job in jobs {
                        let Ok(slot) = slots.clone().try_acquire_owned() else {
                            break;
                        };
                        let (app, options) = (app.clone(), options.clone());
                        running.spawn(async move {
                            run_one(app, job, options).await;
                            drop(slot);
                        });
                    }
                }
                Err(e) => {
                    tracing::warn!(app = %app.name(), queue, error = %e, "claiming jobs failed")
                }
            }
        }
        if claimed > 0 && claimed < free {
            // Took what there was; sleep until told of more.
        } else if claimed > 0 {
            // Every slot taken: wait for one to free up.
            tokio::select! {
                _ = running.join_next() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        tokio::select! {
            _ = wake.changed() => {}
            _ = tokio::time::sleep(options.poll) => {}
            _ = stop.changed() => {}
            Some(_) = running.join_next(), if free == 0 => {}
        }
    }
    while running.join_next().await.is_some() {}
}

/// Run one claimed job to its end, as far as this worker is concerned.
async fn run_one(app: Arc<AppService>, job: Job, options: Arc<WorkerOptions>) {
    let owner: Arc<str> = options.owner.as_str().into();
    let def = app.manifest().jobs.get(&job.kind).cloned();
    let ms = |d: &Option<String>, default: u64| {
        d.as_deref()
            .and_then(plinth_manifest::duration_ms)
            .map_or(Duration::from_millis(default), Duration::from_millis)
    };
    let timeout = def
        .as_ref()
        .map_or(Duration::from_secs(300), |d| ms(&d.timeout, 300_000));
    let base = def
        .as_ref()
        .map_or(Duration::from_secs(1), |d| ms(&d.backoff, 1000));
    let runner = def
        .as_ref()
        .and_then(|d| app.runners().get(&d.run).cloned());
    let labels = [("app", app.name().to_string()), ("kind", job.kind.clone())];
    if let Some(run_at) = job.record.get("run_at").and_then(|v| v.as_str()) {
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(run_at) {
            let wait = (Utc::now() - t.with_timezone(&Utc))
                .num_microseconds()
                .unwrap_or(0);
            metrics::histogram!("plinth_job_start_delay_seconds", &labels)
                .record(wait.max(0) as f64 / 1e6);
        }
    }
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
            let (cancel, cancelled) = watch::channel(false);
            let run = JobRun {
                app: app.clone(),
                job: job.clone(),
                owner: owner.clone(),
                cancelled,
            };
            let result = supervise(
                &app,
                &job,
                &owner,
                &options,
                runner.run(run),
                timeout,
                cancel,
            )
            .await;
            match result {
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
    match app.finish_job(&job, &owner, outcome).await {
        Ok(true) => {
            let labels = [
                labels[0].clone(),
                labels[1].clone(),
                ("status", status.to_string()),
            ];
            metrics::counter!("plinth_jobs_finished_total", &labels).increment(1);
            metrics::histogram!("plinth_job_run_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
        }
        Ok(false) => {
            tracing::info!(job = %job.id, "job no longer ours (cancelled or lease lost): result dropped")
        }
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "could not finish the job; it runs again after its lease")
        }
    }
}

/// Drive a runner's attempt: renew the lease while it runs, stop it at the timeout, tell
/// it when the job is no longer ours, and contain a panic.
async fn supervise(
    app: &AppService,
    job: &Job,
    owner: &str,
    options: &WorkerOptions,
    attempt: plinth_core::jobs::BoxFuture<'static, Result<plinth_core::jobs::JobOutput, JobError>>,
    timeout: Duration,
    cancel: watch::Sender<bool>,
) -> Result<plinth_core::jobs::JobOutput, JobError> {
    let mut task = tokio::spawn(attempt);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut renew = tokio::time::interval(options.lease / 3);
    renew.tick().await;
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(30));
    let mut lost_at: Option<Instant> = None;
    loop {
        tokio::select! {
            r = &mut task => {
                return r.unwrap_or_else(|_| Err(JobError::Retry("the job's code panicked".into())));
            }
            _ = &mut deadline => {
                task.abort();
                return Err(JobError::Retry(format!("timed out after {} s", timeout.as_secs_f64())));
            }
            _ = renew.tick() => {
                if let Some(t) = lost_at {
                    // Told to stop a lease ago and still running: stop it.
                    if t.elapsed() >= options.lease {
                        task.abort();
                        return Err(JobError::Retry("stopped after cancellation".into()));
                    }
                    continue;
                }
                match app.renew_lease(job, owner, Utc::now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        cancel.send_replace(true);
                        lost_at = Some(Instant::now());
                    }
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "lease renewal failed"),
                }
            }
        }
    }
}
