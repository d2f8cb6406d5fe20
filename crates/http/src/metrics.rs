//! Prometheus metrics: request counts and latencies per app, served at `/metrics`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
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
                .inspect(|_| crate::metrics_catalogue::describe())
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

/// An app's request metrics, their handles registered once: looking a labelled metric up
/// in the registry on every request (label strings allocated, hashed) showed in profiles.
pub(crate) struct AppMetrics {
    app: String,
    duration: metrics::Histogram,
    counts: RwLock<HashMap<(Method, u16), metrics::Counter>>,
}

impl AppMetrics {
    /// The metrics of app `app` (installs the recorder first, so the handles are live).
    pub(crate) fn new(app: &str) -> Arc<Self> {
        init();
        Arc::new(AppMetrics {
            app: app.to_owned(),
            duration: metrics::histogram!(DURATION, "app" => app.to_owned()),
            counts: RwLock::new(HashMap::new()),
        })
    }

    fn count(&self, method: &Method, status: u16) {
        let key = (method.clone(), status);
        if let Some(c) = self.counts.read().ok().and_then(|m| m.get(&key).cloned()) {
            c.increment(1);
            return;
        }
        let c = metrics::counter!(REQUESTS, "app" => self.app.clone(), "method" => method.as_str().to_owned(), "status" => status.to_string());
        c.increment(1);
        if let Ok(mut m) = self.counts.write() {
            m.insert(key, c);
        }
    }
}

/// Count and time every request to an app.
pub(crate) async fn track(State(m): State<Arc<AppMetrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let res = next.run(req).await;
    m.count(&method, res.status().as_u16());
    m.duration.record(start.elapsed().as_secs_f64());
    res
}
