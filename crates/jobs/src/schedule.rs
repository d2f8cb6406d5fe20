//! Cron schedules: every node computes the same ticks and enqueues each under the key
//! `cron:<schedule>:<tick>`; the queue's unique key lets only the first insert in, so a
//! tick fires once however many nodes run (docs/jobs.md). Also the pruning of old jobs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use plinth_core::jobs::NewJob;
use plinth_core::{AppService, Ctx};
use plinth_manifest::{CronSpec, Missed, Schedule};
use tokio::sync::watch;

/// Finished jobs are kept this long, then pruned.
const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// Run every schedule of the app, and the hourly pruning, until `stop`.
pub async fn run_schedules(app: Arc<AppService>, stop: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for (name, s) in app.manifest().schedules.clone() {
        match CronSpec::parse(&s.cron, s.timezone.as_deref()) {
            Ok(spec) => tasks.push(tokio::spawn(one_schedule(
                app.clone(),
                name,
                s,
                spec,
                stop.clone(),
            ))),
            Err(e) => {
                tracing::error!(app = %app.name(), schedule = name, error = e, "bad schedule")
            }
        }
    }
    tasks.push(tokio::spawn(prune(app, stop)));
    for t in tasks {
        let _ = t.await;
    }
}

async fn one_schedule(
    app: Arc<AppService>,
    name: String,
    s: Schedule,
    spec: CronSpec,
    mut stop: watch::Receiver<bool>,
) {
    if s.missed == Missed::RunOnce {
        // The last tick before now: if it fired, its key is taken and this is a no-op; if
        // every node was down then, it runs now, once.
        if let Some(t) = spec.last_at_or_before(Utc::now()) {
            fire(&app, &name, &s, t).await;
        }
    }
    while !*stop.borrow() {
        let Some(next) = spec.next_after(Utc::now()) else {
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => fire(&app, &name, &s, next).await,
            _ = stop.changed() => return,
        }
    }
}

async fn fire(app: &AppService, name: &str, s: &Schedule, tick: DateTime<Utc>) {
    let ctx = Ctx::system(app.name().clone());
    let job = NewJob {
        kind: s.job.clone(),
        params: s.params.clone().unwrap_or(serde_json::json!({})),
        run_at: Some(tick),
        unique_key: Some(format!("cron:{name}:{}", tick.timestamp())),
        ..NewJob::default()
    };
    match app.enqueue(&ctx, job).await {
        Ok(Some(job)) => {
            tracing::info!(app = %app.name(), schedule = name, job = %job.id, "schedule fired")
        }
        Ok(None) => {
            tracing::debug!(app = %app.name(), schedule = name, "tick already fired on another node")
        }
        Err(e) => {
            tracing::warn!(app = %app.name(), schedule = name, error = %e, "schedule could not enqueue")
        }
    }
}

async fn prune(app: Arc<AppService>, mut stop: watch::Receiver<bool>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => match app.prune_jobs(Utc::now() - RETENTION).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(app = %app.name(), jobs = n, "pruned finished jobs"),
                Err(e) => tracing::warn!(app = %app.name(), error = %e, "pruning jobs failed"),
            },
            _ = stop.changed() => return,
        }
    }
}
