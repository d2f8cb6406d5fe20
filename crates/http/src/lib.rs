//! Plinth's HTTP surface: one router per app (generic record REST under the app's base),
//! the operational endpoints, envelopes, the single error-to-HTTP mapping and middleware.

mod actions;
mod client_ip;
mod docs;
mod error;
mod extract;
mod index;
mod layers;
mod limits;
mod metrics;
pub mod metrics_catalogue;
mod openapi;
mod openapi_aggregates;
mod openapi_auth;
mod openapi_envelope;
mod openapi_jobs;
mod ops;
mod respond;
mod socketio;

use std::sync::Arc;

use axum::Router;
use plinth_core::AppService;

pub use client_ip::TrustedProxies;
pub use error::{ApiError, ErrorCode};
pub use layers::HttpOptions;
pub use openapi::document as openapi_document;

/// An app and where it is mounted on a listener.
#[derive(Clone)]
pub struct Mount {
    /// Path prefix on the shared listener (`/simflow`), or `""` for the root.
    pub prefix: String,
    /// The app.
    pub app: Arc<AppService>,
    /// CORS origins for this app's routes; None: the listener's (`HttpOptions`).
    pub cors_origins: Option<Vec<String>>,
}

/// The full router of one listener: every mounted app, `/health`, `/ready`, middleware.
pub fn listener_router(mounts: &[Mount], options: &HttpOptions) -> Router {
    let mut router = Router::new();
    let mut app_at_root = false;
    let proxies = Arc::new(options.proxies.clone());
    for m in mounts {
        let base = m.app.manifest().base.trim_end_matches('/');
        let path = format!("{}{}", m.prefix.trim_end_matches('/'), base);
        let app = actions::router(m.app.clone(), proxies.clone());
        router = if path.is_empty() {
            // The app's fallback becomes the listener's: every unrouted path is under its base.
            app_at_root = true;
            router.merge(app)
        } else {
            // Not `nest`: a nested router's fallback misses `<path>/`, which then got the
            // listener's style. `nest_service` hands the app `<path>`, `<path>/` and
            // everything below, so its own fallback answers all of them in its style.
            router.nest_service(&path, app)
        };
    }
    if !app_at_root {
        let listing: index::Listing = mounts
            .iter()
            .map(|m| {
                let base = m.app.manifest().base.trim_end_matches('/');
                let path = format!("{}{}", m.prefix.trim_end_matches('/'), base);
                (m.app.name().to_string(), path)
            })
            .collect();
        router = router
            .route(
                "/",
                axum::routing::get(move |headers: axum::http::HeaderMap| async move {
                    index::page(&listing, &headers)
                }),
            )
            .fallback(|| async { ApiError::not_found("No such route") });
    }
    let apps = mounts.iter().map(|m| m.app.clone()).collect();
    let mut router = router.merge(ops::router(apps));
    // Socket.IO answers at the app's mount (`/clouddrift/socket.io/`, or `/socket.io/` at
    // the root), where the seeds' clients look for it, not under the API base.
    for m in mounts {
        let path = format!("{}/socket.io", m.prefix.trim_end_matches('/'));
        router = router.layer(socketio::layer(m.app.clone(), path));
    }
    let app_origins: Vec<(String, Vec<String>)> = mounts
        .iter()
        .filter_map(|m| Some((m.prefix.clone(), m.cors_origins.clone()?)))
        .collect();
    layers::wrap(router, options, &app_origins)
}
