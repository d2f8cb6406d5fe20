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
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::client_ip::TrustedProxies;

/// HTTP settings shared by all apps on a listener.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed by CORS for routes of no app with its own list; `*` allows any.
    pub cors_origins: Vec<String>,
    /// Whom to believe about a client's address (rate limits).
    pub proxies: TrustedProxies,
    /// Send `Strict-Transport-Security` (when the listener serves TLS).
    pub hsts: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            max_body_bytes: 1024 * 1024,
            cors_origins: vec!["*".to_owned()],
            proxies: TrustedProxies::None,
            hsts: false,
        }
    }
}

/// One origin list: any, or these.
#[derive(Debug, Clone)]
enum Origins {
    Any,
    Listed(Vec<HeaderValue>),
}

impl Origins {
    fn new(list: &[String]) -> Self {
        if list.iter().any(|o| o == "*") {
            Origins::Any
        } else {
            Origins::Listed(list.iter().filter_map(|o| o.parse().ok()).collect())
        }
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        match self {
            Origins::Any => true,
            Origins::Listed(list) => list.contains(origin),
        }
    }
}

/// CORS for a listener: each app's own origins under its mount (its API and its
/// Socket.IO path alike), the listener's elsewhere. One layer rather than one per app
/// router, because Socket.IO answers in a layer outside the routers.
fn cors(global: &[String], per_app: &[(String, Vec<String>)]) -> CorsLayer {
    let layer = CorsLayer::new().allow_methods(Any).allow_headers(Any);
    let global = Origins::new(global);
    if per_app.is_empty() {
        return match global {
            Origins::Any => layer.allow_origin(Any),
            Origins::Listed(list) => layer.allow_origin(list),
        };
    }
    let mut scoped: Vec<(String, Origins)> = per_app
        .iter()
        .map(|(prefix, list)| (prefix.trim_end_matches('/').to_owned(), Origins::new(list)))
        .collect();
    // The longest mount that holds the path decides.
    scoped.sort_by_key(|(prefix, _)| std::cmp::Reverse(prefix.len()));
    layer.allow_origin(AllowOrigin::predicate(move |origin, parts| {
        let path = parts.uri.path();
        let under = |prefix: &str| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        scoped
            .iter()
            .find(|(prefix, _)| under(prefix))
            .map_or(&global, |(_, o)| o)
            .allows(origin)
    }))
}

/// The Helmet set of response headers (the seeds ask for Helmet): no MIME sniffing, no
/// referrer, no framing, and a content policy that lets a JSON API load nothing. A handler
/// that serves a page sets its own policy (these are only added when absent).
fn security_headers(hsts: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    if hsts {
        // Two years, as Helmet sends; subdomains too, since the certificate is ours.
        headers.push((
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ));
    }
    headers
        .into_iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

/// Add `headers` to a response that does not carry them yet.
async fn add_headers(
    axum::extract::State(headers): axum::extract::State<
        std::sync::Arc<[(HeaderName, HeaderValue)]>,
    >,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let mut res = next.run(req).await;
    let have = res.headers_mut();
    for (name, value) in headers.iter() {
        if !have.contains_key(name) {
            have.insert(name.clone(), value.clone());
        }
    }
    res
}

/// The listener's middleware around `router`, as one service stack: layered onto a
/// `Router` one by one, each would wrap every route again (a boxed service and future per
/// layer per request, which showed as allocation and copying in profiles).
pub(crate) fn wrap(
    router: Router,
    options: &HttpOptions,
    app_origins: &[(String, Vec<String>)],
) -> Router {
    let headers: std::sync::Arc<[(HeaderName, HeaderValue)]> =
        security_headers(options.hsts).into();
    // Outermost first. The security headers are outermost, so that responses rewritten by
    // inner layers (error rendering) get them too.
    let stack = tower::ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(headers, add_headers))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
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
        .layer(cors(&options.cors_origins, app_origins))
        .layer(CompressionLayer::new().gzip(true))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            ErrorStyle::Object,
            crate::actions::render_errors,
        ))
        .service(router);
    Router::new().fallback_service(stack)
}
