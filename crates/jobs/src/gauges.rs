//! Queue gauges for `/metrics`: how many jobs of the app are pending, in progress, failed
//! and dead, read every few seconds on nodes that run workers.

use std::sync::Arc;
use std::time::Duration;

use plinth_core::jobs::JOBS;
use plinth_core::AppService;
use tokio::sync::watch;

/// The statuses counted.
const COUNTED: &[&str] = &["pending", "in-progress", "failed", "dead"];

/// Update `plinth_jobs{app, status}` every `every` until `stop`.
pub(crate) async fn sample(app: Arc<AppService>, every: Duration, mut stop: watch::Receiver<bool>) {
    let Some(coll) = app.any_collection(JOBS).cloned() else {
        return;
    };
    let ctx = app.system_ctx();
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        for status in COUNTED {
            let pairs = vec![
                ("status".to_owned(), (*status).to_owned()),
                ("limit".to_owned(), "1".to_owned()),
                ("count".to_owned(), "exact".to_owned()),
            ];
            if let Ok(page) = app.list(&ctx, &coll, &pairs).await {
                let n = page.total.map_or(0, |t| t.count);
                let labels = [
                    ("app", app.name().to_string()),
                    ("status", (*status).to_owned()),
                ];
                metrics::gauge!("plinth_jobs", &labels).set(n as f64);
            }
        }
    }
}
