//! Generic record REST for every collection of an app, one file per action.

mod aggregate;
mod auth;
mod create;
mod delete;
mod endpoints;
mod jobs;
mod list;
mod realtime;
mod realtime_ws;
mod transition;
mod update;
mod view;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use plinth_core::{AppService, CollectionHandle, Group};
use plinth_manifest::ErrorStyle;

use crate::error::ApiError;

/// Shared state of an app's handlers.
pub(crate) type App = State<Arc<AppService>>;

/// The paths of the `auth` rate-limit group (POST only), relative to the app's base.
pub(crate) const AUTH_GROUP: &[&str] = &[
    "/auth/register",
    "/auth/login",
    "/auth/refresh",
    "/auth/password",
];

/// The app's router, relative to its base path. The rate-limit layer wraps only the
/// groups the app limits (`route_layer`: matched routes, not the 404 fallback).
pub(crate) fn router(
    app: Arc<AppService>,
    proxies: Arc<crate::client_ip::TrustedProxies>,
) -> Router {
    let style = app.manifest().errors;
    let metrics = crate::metrics::AppMetrics::new(app.name());
    let limits = app.rate_limits();
    let limiter = |group| crate::limits::Limiter {
        app: app.clone(),
        group,
        proxies: proxies.clone(),
    };
    let mut api = Router::new()
        .route("/openapi.json", get(crate::openapi::serve))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/me", get(auth::me))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/auth/sessions", get(auth::sessions))
        .route(
            "/auth/sessions/{id}",
            axum::routing::delete(auth::revoke_session),
        )
        .route("/realtime", get(realtime::sse))
        .route("/realtime/ws", get(realtime_ws::upgrade))
        .route("/_jobs", get(jobs::list))
        .route("/_jobs/{id}", get(jobs::view))
        .route("/_jobs/{id}/{action}", post(jobs::act))
        .route("/{collection}", get(list::handle).post(create::handle))
        .route(
            "/{collection}/{id}",
            get(view::handle)
                .patch(update::handle)
                .delete(delete::handle),
        )
        .route(
            "/{collection}/{id}/{action}",
            post(transition::handle)
                .patch(transition::set_state)
                .get(transition::list_under),
        );
    api = endpoints::routes(&app, api);
    for path in app.aggregate_paths() {
        let path: std::sync::Arc<str> = path.into();
        let route = format!("/{path}");
        api = api.route(
            &route,
            get(move |app: App, ctx, query| async move {
                aggregate::handle(app, ctx, query, &path).await
            }),
        );
    }
    if limits.api.is_some() {
        api = api.route_layer(middleware::from_fn_with_state(
            limiter(Group::Api),
            crate::limits::limit,
        ));
    }
    // The routes that check credentials: the seed's `auth` limiter.
    let mut auth = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/password", post(auth::password));
    if limits.auth.is_some() {
        auth = auth.route_layer(middleware::from_fn_with_state(
            limiter(Group::Auth),
            crate::limits::limit,
        ));
    }
    let routes = api
        .merge(auth)
        .merge(crate::docs::routes())
        .fallback(not_found)
        .with_state(app);
    // One service stack around the routes, not a layer per route (see `layers::wrap`).
    let stack = tower::ServiceBuilder::new()
        .layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(middleware::from_fn_with_state(style, render_errors))
        .service(routes);
    Router::new().fallback_service(stack)
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such route")
}

fn collection<'a>(app: &'a AppService, name: &str) -> Result<&'a CollectionHandle, ApiError> {
    app.collection(name)
        .map(|c| &**c)
        .ok_or_else(|| ApiError::not_found(format!("Unknown collection `{name}`")))
}

/// Write any [`ApiError`] (ours or a routing rejection) in the app's error style.
pub(crate) async fn render_errors(
    State(style): State<ErrorStyle>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut res = next.run(req).await;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        return err.render(style, request_id.as_deref());
    }
    // Rejections from the framework itself (bad path encoding, wrong method, ...) come as
    // plain text; give them the app's envelope too. JSON errors are already rendered.
    let status = res.status();
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        return ApiError::from_status(status).render(style, request_id.as_deref());
    }
    res
}
