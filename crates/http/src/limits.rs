//! The rate-limit middleware: which client a request comes from, counted by the core
//! (`AppService::count_request`) before the handler runs. Applied only to the route groups
//! an app limits, so an app without limits never passes through it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use plinth_core::{AppService, Group};

use crate::error::ApiError;
use crate::extract::{anonymous_ctx, caller, Authenticated};

/// The middleware's state: the app, the group it guards and whether to believe a proxy.
#[derive(Clone)]
pub(crate) struct Limiter {
    /// The app counted against.
    pub app: Arc<AppService>,
    /// The route group this layer guards.
    pub group: Group,
    /// Take the client from `X-Forwarded-For` (config `trust_proxy`).
    pub trust_proxy: bool,
}

/// The client's address: the TCP peer, or with `trust_proxy` the nearest `X-Forwarded-For`
/// entry (the one our proxy appended; entries before it are the client's own claims).
/// `unknown` when neither is there (a router driven in-process).
fn client(req: &Request, trust_proxy: bool) -> String {
    let forwarded = trust_proxy
        .then(|| req.headers().get_all("x-forwarded-for").iter().next_back())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|ip| ip.trim().parse::<IpAddr>().ok());
    let peer = || {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    };
    match forwarded.or_else(peer) {
        // One client is one key whether it came over IPv4 or as a v4-mapped IPv6 address.
        Some(ip) => ip.to_canonical().to_string(),
        None => "unknown".to_owned(),
    }
}

/// Count the request; over the limit answer 429 with `Retry-After` (rendered in the app's
/// error style by the layer outside).
pub(crate) async fn limit(State(l): State<Limiter>, mut req: Request, next: Next) -> Response {
    let client = client(&req, l.trust_proxy);
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
