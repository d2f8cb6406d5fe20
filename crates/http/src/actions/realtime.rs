//! `GET {base}/realtime?collections=drifts&events=drift:approved`: Server-Sent Events of
//! committed changes the caller may see (docs/realtime.md). Each event's `id` is its
//! unique, time-ordered id; a client that reconnects with `Last-Event-ID` first gets what
//! it missed, while the app still keeps it. Keep-alive comments every 15 s. The stream ends
//! with an `error` event when the subscriber falls too far behind (`lagged`), when its
//! token expires (`token_expired`) or its session is revoked (`revoked`), and at shutdown.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use plinth_core::Event;
use plinth_realtime::{ends, event_name, expires_in, message_for, Subscription};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use uuid::Uuid;

use super::App;
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};

/// The stream's state: the app, the subscriber, what they asked for, their place in the
/// app's events, and whether the stream is over.
struct Reader {
    app: App,
    ctx: plinth_core::Ctx,
    sub: Subscription,
    /// Missed events to send first (a resumed stream), and their ids (so the live ones
    /// are not sent twice).
    backlog: VecDeque<Event>,
    replayed: HashSet<Uuid>,
    rx: tokio::sync::broadcast::Receiver<Event>,
    closing: tokio::sync::watch::Receiver<bool>,
    /// When the caller's access token expires.
    deadline: Option<Instant>,
    done: bool,
}

/// The last `error` event of a stream.
fn farewell(reason: &str, extra: &str) -> SseEvent {
    SseEvent::default()
        .event("error")
        .data(format!("{{\"error\":\"{reason}\"{extra}}}"))
}

impl Reader {
    /// The next SSE event to send, or `None` when the stream is over.
    async fn next(&mut self) -> Option<SseEvent> {
        if self.done {
            return None;
        }
        loop {
            let e = match self.backlog.pop_front() {
                Some(e) => e,
                None => {
                    let expiry = async {
                        match self.deadline {
                            Some(at) => tokio::time::sleep_until(at).await,
                            None => std::future::pending().await,
                        }
                    };
                    let next = tokio::select! {
                        e = self.rx.recv() => e,
                        _ = self.closing.wait_for(|c| *c) => return None,
                        () = expiry => {
                            self.done = true;
                            return Some(farewell("token_expired", ""));
                        }
                    };
                    match next {
                        Ok(e) if self.replayed.remove(&e.id) => continue,
                        Ok(e) => e,
                        Err(RecvError::Lagged(missed)) => {
                            self.done = true;
                            return Some(farewell("lagged", &format!(",\"missed\":{missed}")));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            };
            if e.tells_of_loss() {
                // Events may have been lost on their way to this node: how many is unknown.
                self.done = true;
                return Some(farewell("lagged", ""));
            }
            if ends(&self.ctx, &e) {
                self.done = true;
                return Some(farewell("revoked", ""));
            }
            if !self.sub.wants(&e) {
                continue;
            }
            match message_for(&self.app, &self.ctx, &e, Some(&self.sub)).await {
                Ok(Some(m)) => {
                    let out = SseEvent::default()
                        .id(e.id.to_string())
                        .event(event_name(&e))
                        .data(m.to_string());
                    return Some(out);
                }
                Ok(None) => continue,
                Err(err) => {
                    tracing::warn!(error = %err, "realtime: event not delivered");
                    continue;
                }
            }
        }
    }
}

pub(crate) async fn sse(
    app: App,
    ReqCtx(mut ctx): ReqCtx,
    QueryPairs(pairs): QueryPairs,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let sub = Subscription::from_query(&app, &pairs)?;
    // Browsers' EventSource cannot send headers: the access token may come as `token=`.
    let token = pairs
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.trim());
    if let (plinth_core::Caller::Anonymous, Some(token)) = (&ctx.caller, token) {
        ctx.caller = app.authenticate(&ctx, token).await?;
    }
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| Uuid::parse_str(v.trim()));
    let mut first = None;
    let (backlog, rx) = match last {
        None => (Vec::new(), app.subscribe()),
        Some(Ok(id)) => match app.resume(id) {
            Some(resumed) => resumed,
            None => {
                // Too old (or never seen): say so, then go on live.
                first = Some(farewell("resume_window_passed", ""));
                (Vec::new(), app.subscribe())
            }
        },
        Some(Err(_)) => {
            return Err(ApiError::new(
                crate::error::ErrorCode::Validation,
                "Last-Event-ID is not an event id",
            ))
        }
    };
    let reader = Reader {
        replayed: backlog.iter().map(|e| e.id).collect(),
        backlog: backlog.into(),
        closing: app.closing(),
        deadline: expires_in(&ctx).map(|d| Instant::now() + d),
        app,
        ctx,
        sub,
        rx,
        done: false,
    };
    let head = stream::iter(first.map(Ok));
    let events = stream::unfold(reader, |mut r| async move {
        let e = r.next().await?;
        Some((Ok(e), r))
    });
    let all = futures_util::StreamExt::chain(head, events);
    Ok(Sse::new(all).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
