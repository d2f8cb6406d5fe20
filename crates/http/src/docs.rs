//! `GET {base}/docs`: the app's API reference, a page rendered in the browser from the app's
//! OpenAPI document by a small script of ours (`assets/docs/`), and `GET
//! {base}/docs/assets/{name}`, its script and style sheet.
//!
//! Decisions:
//! - The document is embedded in the page as a `<script type="application/json">` data block
//!   rather than fetched from `openapi.json`: one response, no loading state and no second
//!   way to fail, and the policy needs no `connect-src`. It is the same document
//!   `openapi.json` serves (same function, same server URL).
//! - Every asset is compiled into the binary (`include_str!`), so the page works offline and
//!   behind any firewall. Its URL carries a hash of its content, so it is cached for a year
//!   (`immutable`) and a new binary's assets get new URLs; the page itself is `no-cache`.
//! - Links are relative (`docs/assets/...`, `openapi.json`), so the page works wherever the
//!   app is mounted, behind a proxy that adds a path prefix too.
//! - Content policy: scripts and styles from the listener only, no inline script or style, no
//!   `eval`, no connections, forms or framing.
//! - The routes are not rate-limited like the API: a page load is three requests.

use std::sync::{Arc, LazyLock};

use axum::extract::{OriginalUri, Path, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use plinth_core::AppService;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The page's content policy.
pub(crate) const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'none'";

/// A file of the page, as served.
struct Asset {
    /// Its URL name: stem, content hash, extension (`docs.0123456789abcdef.js`).
    name: String,
    /// The quoted content hash, for `ETag`.
    etag: String,
    content_type: &'static str,
    body: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, body: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let hash = hex::encode(&digest[..8]);
        Asset {
            name: format!("{stem}.{hash}.{ext}"),
            etag: format!("\"{hash}\""),
            content_type,
            body,
        }
    }
}

static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "docs",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/docs/docs.js"),
    )
});

static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "docs",
        "css",
        "text/css; charset=utf-8",
        include_str!("../assets/docs/docs.css"),
    )
});

/// The docs routes, relative to the app's base.
pub(crate) fn routes() -> Router<Arc<AppService>> {
    Router::new()
        .route("/docs", get(page))
        .route("/docs/assets/{name}", get(asset))
}

/// JSON made safe inside a `<script>` data block: `<`, `>` and `&` only occur in strings,
/// where their `\u` escapes mean the same, so `</script>` or `<!--` cannot end the block.
fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn page(State(app): State<Arc<AppService>>, OriginalUri(uri): OriginalUri) -> Response {
    let server = uri.path().strip_suffix("/docs").unwrap_or_default();
    let doc = crate::openapi::document(
        app.manifest(),
        if server.is_empty() { "/" } else { server },
        app.rate_limits(),
    );
    let title = escape_html(app.name());
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} API reference</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"docs/assets/{css}\">\n\
         <script src=\"docs/assets/{js}\" defer></script>\n</head>\n<body>\n\
         <noscript><p class=\"noscript\">This page renders the app's \
         <a href=\"openapi.json\">OpenAPI document</a> with JavaScript.</p></noscript>\n\
         <div id=\"app\"></div>\n\
         <script type=\"application/json\" id=\"openapi\">{doc}</script>\n</body>\n</html>\n",
        css = STYLE.name,
        js = SCRIPT.name,
        doc = script_safe(&doc.to_string()),
    );
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = [&*SCRIPT, &*STYLE].into_iter().find(|a| a.name == name) else {
        return ApiError::not_found("No such asset").into_response();
    };
    let cache = [
        (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        (ETAG, asset.etag.as_str()),
    ];
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(CONTENT_TYPE, asset.content_type)], asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_blocks_cannot_be_closed_early() {
        let doc = serde_json::json!({"description": "</script><!-- & -->"});
        let safe = script_safe(&doc.to_string());
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&safe).expect("still JSON");
        assert_eq!(back, doc);
    }

    #[test]
    fn asset_names_carry_their_content_hash() {
        assert!(SCRIPT.name.starts_with("docs.") && SCRIPT.name.ends_with(".js"));
        assert_eq!(SCRIPT.name.len(), "docs.".len() + 16 + ".js".len());
        assert_ne!(SCRIPT.etag, STYLE.etag);
    }
}
