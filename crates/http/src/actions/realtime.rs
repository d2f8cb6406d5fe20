//! `GET {base}/realtime?collections=drifts&events=drift:approved`: Server-Sent Events of
//! committed changes the caller may see (docs/realtime.md). Each event's `id` is its
//! unique, time-ordered id; keep-alive comments every 15 s. A subscriber too slow to keep
//! up gets an `error` event (`lagged`) and the stream ends, so it can reconnect.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use plinth_core::Event;
use plinth_realtime::{event_name, message, Subscription};
use tokio::sync::broadcast::error::RecvError;

use super::App;
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};

/// The stream's state: the app, the subscriber, what they asked for, their place in the
/// app's events, and whether the stream is over.
struct Reader {
    app: App,
    ctx: plinth_core::Ctx,
    sub: Subscription,
    rx: tokio::sync::broadcast::Receiver<Event>,
    closing: tokio::sync::watch::Receiver<bool>,
    done: bool,
}

pub(crate) async fn sse(
    app: App,
    ReqCtx(mut ctx): ReqCtx,
    QueryPairs(pairs): QueryPairs,
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
    let rx = app.subscribe();
    let closing = app.closing();
    let reader = Reader {
        app,
        ctx,
        sub,
        rx,
        closing,
        done: false,
    };
    let events = stream::unfold(reader, |mut r| async move {
        if r.done {
            return None;
        }
        loop {
            let next = tokio::select! {
                e = r.rx.recv() => e,
                _ = r.closing.wait_for(|c| *c) => return None,
            };
            match next {
                Ok(e) if r.sub.wants(&e) => match message(&r.app, &r.ctx, &e).await {
                    Ok(Some(m)) => {
                        let out = SseEvent::default()
                            .id(e.id.to_string())
                            .event(event_name(&e))
                            .data(m.to_string());
                        return Some((Ok(out), r));
                    }
                    Ok(None) => continue,
                    Err(err) => {
                        tracing::warn!(error = %err, "realtime: event not delivered");
                        continue;
                    }
                },
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => {
                    r.done = true;
                    let out = SseEvent::default()
                        .event("error")
                        .data(format!("{{\"error\":\"lagged\",\"missed\":{missed}}}"));
                    return Some((Ok(out), r));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
