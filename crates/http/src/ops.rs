//! Operational endpoints: `/health` (the process is up), `/ready` (every app's database
//! answers) and `/metrics` (Prometheus).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use plinth_core::AppService;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) fn router(apps: Vec<Arc<AppService>>) -> Router {
    crate::metrics::init();
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ready", get(ready))
        .route("/metrics", get(crate::metrics::serve))
        .with_state(Arc::new(apps))
}

async fn ready(State(apps): State<Arc<Vec<Arc<AppService>>>>) -> (StatusCode, Json<Value>) {
    let mut report = Map::new();
    let mut all_ok = true;
    for app in apps.iter() {
        let status = match tokio::time::timeout(READY_TIMEOUT, app.ping()).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::warn!(app = %app.name(), error = %e, "database not ready");
                "unavailable"
            }
            Err(_) => "timeout",
        };
        all_ok &= status == "ok";
        report.insert(app.name().to_string(), json!({"database": status}));
    }
    let (code, status) = if all_ok {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    (code, Json(json!({"status": status, "apps": report})))
}
