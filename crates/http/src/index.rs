//! `GET /` on a listener no app answers at its root: the mounted apps, with links to their
//! APIs, API reference pages (`{base}/docs`) and OpenAPI documents; JSON when asked for
//! (`Accept: application/json`), else a small page (served with its own content policy:
//! inline styles only).

use axum::http::header::{ACCEPT, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Each mounted app: its name and API base (mount and base joined).
pub(crate) type Listing = Vec<(String, String)>;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The answer to `GET /` for `apps`.
pub(crate) fn page(apps: &Listing, headers: &HeaderMap) -> Response {
    let wants_json = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let list: Vec<Value> = apps
            .iter()
            .map(|(name, base)| {
                json!({
                    "name": name,
                    "api": base,
                    "docs": format!("{base}/docs"),
                    "openapi": format!("{base}/openapi.json"),
                })
            })
            .collect();
        return axum::Json(
            json!({"name": "plinth", "version": env!("CARGO_PKG_VERSION"), "apps": list}),
        )
        .into_response();
    }
    let rows: String = apps
        .iter()
        .map(|(name, base)| {
            let (n, b) = (escape(name), escape(base));
            format!(
                "<li><strong>{n}</strong>: <a href=\"{b}/docs\">{b}/docs</a> \
                 (<a href=\"{b}/openapi.json\">openapi.json</a>)</li>"
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Plinth</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto}}</style>\
         </head><body><h1>Plinth {}</h1><p>Apps on this listener, each with its API \
         reference and OpenAPI document:</p><ul>{rows}</ul><p><a href=\"/health\">/health</a> · \
         <a href=\"/ready\">/ready</a> · <a href=\"/metrics\">/metrics</a></p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}
