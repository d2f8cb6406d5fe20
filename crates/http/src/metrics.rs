//! Prometheus metrics: request counts and latencies per app, served at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const DURATION: &str = "plinth_http_request_duration_seconds";
const REQUESTS: &str = "plinth_http_requests_total";

/// The process-wide recorder (metrics macros report to one global recorder), installed on
/// first use; `None` if something else installed a recorder first.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ];
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), &buckets)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Install the recorder now, so the first requests are counted too.
pub(crate) fn init() {
    let _ = handle();
}

/// `GET /metrics`, in Prometheus' text format.
pub(crate) async fn serve() -> Response {
    match handle() {
        Some(h) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            h.render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Count and time every request to an app.
pub(crate) async fn track(State(app): State<String>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "app" => app.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "app" => app).record(start.elapsed().as_secs_f64());
    res
}
