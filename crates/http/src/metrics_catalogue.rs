//! Every metric `/metrics` exports, in one list: its `# HELP` text comes from here, and so do
//! `docs/metrics.md` and the Grafana dashboard `deploy/grafana/plinth.json` (generated;
//! `crates/plinth/tests/reference_docs.rs` checks both, and that a live server exports
//! exactly these families).

use serde_json::{json, Value};

/// How a metric is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// A current value.
    Gauge,
    /// Observations in buckets (`_bucket`, `_sum`, `_count`).
    Histogram,
    /// Observations as quantiles (`{quantile="0.5"}`, `_sum`, `_count`): `histogram!`s given
    /// no buckets are exported this way.
    Summary,
}

impl Kind {
    /// The Prometheus type name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::Summary => "summary",
        }
    }
}

/// One exported metric.
#[derive(Debug, Clone, Copy)]
pub struct MetricDoc {
    /// Its name.
    pub name: &'static str,
    /// How it is exported.
    pub kind: Kind,
    /// Its labels.
    pub labels: &'static [&'static str],
    /// What it measures (its `# HELP`).
    pub help: &'static str,
}

/// The catalogue.
pub const METRICS: &[MetricDoc] = &[
    MetricDoc {
        name: "plinth_http_requests_total",
        kind: Kind::Counter,
        labels: &["app", "method", "status"],
        help: "HTTP requests answered by an app, by method and status code.",
    },
    MetricDoc {
        name: "plinth_http_request_duration_seconds",
        kind: Kind::Histogram,
        labels: &["app"],
        help: "Time from a request's arrival to its response head, per app.",
    },
    MetricDoc {
        name: "plinth_jobs",
        kind: Kind::Gauge,
        labels: &["app", "status"],
        help: "Jobs in the queue by status (pending, in-progress, ...), sampled every 5 s.",
    },
    MetricDoc {
        name: "plinth_jobs_finished_total",
        kind: Kind::Counter,
        labels: &["app", "kind", "status"],
        help: "Job attempts finished, by job kind and outcome (completed, retrying, failed, dead, cancelled).",
    },
    MetricDoc {
        name: "plinth_job_run_seconds",
        kind: Kind::Summary,
        labels: &["app", "kind", "status"],
        help: "How long a job attempt ran, by kind and outcome.",
    },
    MetricDoc {
        name: "plinth_job_start_delay_seconds",
        kind: Kind::Summary,
        labels: &["app", "kind"],
        help: "From a job's run_at to the start of its attempt (queueing delay).",
    },
    MetricDoc {
        name: "plinth_sqlite_commit_batch_size",
        kind: Kind::Summary,
        labels: &[],
        help: "Write units committed together by one SQLite transaction (group commit).",
    },
];

/// Give every catalogued metric its `# HELP` line.
pub(crate) fn describe() {
    for m in METRICS {
        match m.kind {
            Kind::Counter => metrics::describe_counter!(m.name, m.help),
            Kind::Gauge => metrics::describe_gauge!(m.name, m.help),
            Kind::Histogram | Kind::Summary => metrics::describe_histogram!(m.name, m.help),
        }
    }
}

/// `docs/metrics.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Metrics reference\n\n\
         Generated from `crates/http/src/metrics_catalogue.rs`; do not edit by hand\n\
         (`UPDATE_REFERENCE=1 cargo test -p plinth --test reference_docs` rewrites it).\n\n\
         `GET /metrics` on every listener, in Prometheus' text format, for all apps of the\n\
         process. A Grafana dashboard of these is generated beside it:\n\
         `deploy/grafana/plinth.json` (import it; it asks for a Prometheus data source).\n\n\
         | metric | type | labels | meaning |\n|---|---|---|---|\n",
    );
    for m in METRICS {
        let labels: Vec<String> = m.labels.iter().map(|l| format!("`{l}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            m.name,
            m.kind.as_str(),
            if labels.is_empty() {
                "none".to_owned()
            } else {
                labels.join(", ")
            },
            m.help
        ));
    }
    out
}

/// The PromQL a panel shows for `m`: rates for counters, the 95th percentile for timings,
/// the value for gauges; split by the labels that tell series apart.
fn query(m: &MetricDoc) -> String {
    let by: Vec<&str> = m
        .labels
        .iter()
        .copied()
        .filter(|l| *l != "method")
        .collect();
    let by = by.join(", ");
    // `sum(x)` / `sum by (app) (x)`, and the same with `max`.
    let over = |op: &str, expr: String| {
        if by.is_empty() {
            format!("{op}({expr})")
        } else {
            format!("{op} by ({by}) ({expr})")
        }
    };
    match m.kind {
        Kind::Counter => over("sum", format!("rate({}[$__rate_interval])", m.name)),
        Kind::Gauge => over("sum", m.name.to_owned()),
        Kind::Histogram => format!(
            "histogram_quantile(0.95, sum by (le{}{by}) (rate({}_bucket[$__rate_interval])))",
            if by.is_empty() { "" } else { ", " },
            m.name
        ),
        Kind::Summary => over("max", format!("{}{{quantile=\"0.95\"}}", m.name)),
    }
}

/// `deploy/grafana/plinth.json`: one time-series panel per metric, two to a row.
pub fn grafana_dashboard() -> Value {
    let panels: Vec<Value> = METRICS
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let unit = if m.name.ends_with("_seconds") {
                "s"
            } else if m.kind == Kind::Counter {
                "reqps"
            } else {
                "short"
            };
            json!({
                "id": i + 1,
                "type": "timeseries",
                "title": m.name,
                "description": m.help,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                "targets": [{"refId": "A", "expr": query(m),
                    "datasource": {"type": "prometheus", "uid": "${datasource}"}}],
            })
        })
        .collect();
    json!({
        "title": "Plinth",
        "uid": "plinth",
        "tags": ["plinth"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{
            "name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0
        }]},
        "panels": panels,
    })
}
