//! Middleware every listener gets: request ids, tracing, CORS, gzip, body limit, security
//! headers, and the
//! object-style rendering of errors outside any app (its 404 fallback is set by
//! `listener_router`, unless an app answers for the whole listener).

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware;
use axum::Router;
use plinth_manifest::ErrorStyle;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// HTTP settings shared by all apps on a listener.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed by CORS; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Take the client address for rate limits from `X-Forwarded-For` (behind a proxy).
    pub trust_proxy: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body_bytes: 1024 * 1024,
            cors_origins: vec!["*".to_owned()],
            trust_proxy: false,
        }
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(Any)
    } else {
        let list: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
        layer.allow_origin(list)
    }
}

/// The Helmet set of response headers (the seeds ask for Helmet): no MIME sniffing, no
/// referrer, no framing, and a content policy that lets a JSON API load nothing. A handler
/// that serves a page sets its own policy (these are only added when absent).
fn security_headers(router: Router) -> Router {
    let set = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    router
        .layer(set("x-content-type-options", "nosniff"))
        .layer(set("referrer-policy", "no-referrer"))
        .layer(set("x-frame-options", "DENY"))
        .layer(set("cross-origin-opener-policy", "same-origin"))
        .layer(set(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

pub(crate) fn wrap(router: Router, options: &HttpOptions) -> Router {
    let router = router
        .layer(middleware::from_fn_with_state(
            ErrorStyle::Object,
            crate::actions::render_errors,
        ))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(CompressionLayer::new().gzip(true))
        .layer(cors(&options.cors_origins))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let rid = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %rid)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
    // Outermost, so that responses rewritten by inner layers (error rendering) get them too.
    security_headers(router)
}
