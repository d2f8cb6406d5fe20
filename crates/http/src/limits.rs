//! The rate-limit middleware: which client a request comes from, counted by the core
//! (`AppService::count_request`) before the handler runs. Applied only to the route groups
//! an app limits, so an app without limits never passes through it.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plinth_core::{AppService, Group};

use crate::client_ip::{client, TrustedProxies};
use crate::error::ApiError;
use crate::extract::{anonymous_ctx, caller, Authenticated};

/// The middleware's state: the app, the group it guards and whether to believe a proxy.
#[derive(Clone)]
pub(crate) struct Limiter {
    /// The app counted against.
    pub app: Arc<AppService>,
    /// The route group this layer guards.
    pub group: Group,
    /// Whom to believe about the client's address.
    pub proxies: Arc<TrustedProxies>,
}

/// Count the request; over the limit answer 429 with `Retry-After` (rendered in the app's
/// error style by the layer outside).
pub(crate) async fn limit(State(l): State<Limiter>, mut req: Request, next: Next) -> Response {
    let client = client(&req, &l.proxies);
    let mut ctx = anonymous_ctx(req.headers(), &l.app);
    if l.group == Group::Api {
        // Signed-in callers get a budget of their own. A bad token counts against the
        // address and is refused by the handler as usual.
        if let Ok(c) = caller(req.headers(), &l.app, &ctx).await {
            ctx.caller = c.clone();
            req.extensions_mut().insert(Authenticated(c));
        }
    }
    match l.app.count_request(&ctx, l.group, &client).await {
        Ok(()) => next.run(req).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}
