//! `GET {base}/realtime/ws`: the realtime WebSocket, a small JSON protocol
//! (docs/realtime.md). Client messages: `auth` (an access token), `subscribe` (an id, and
//! collections and/or named events), `unsubscribe`, `ping`. The server answers each with
//! `ack` (or `pong`), or `error` in the app's error style, and sends `event` messages for
//! each subscription, each a view of its record by the caller.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use plinth_core::{Ctx, Event};
use plinth_realtime::{ends, event_name, expires_in, message_for, Subscription};
use serde_json::{json, Value as J};
use tokio::sync::broadcast::error::RecvError;

use super::App;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{QueryPairs, ReqCtx};

/// How often the server pings, so a dead peer is noticed.
const PING_EVERY: Duration = Duration::from_secs(30);

pub(crate) async fn upgrade(
    app: App,
    ReqCtx(mut ctx): ReqCtx,
    QueryPairs(pairs): QueryPairs,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if let Some((_, token)) = pairs.iter().find(|(k, _)| k == "token") {
        ctx.caller = app.authenticate(&ctx, token.trim()).await?;
    }
    // Small buffers: an idle subscriber should cost little (the defaults are 128 KiB each
    // way); client messages are small JSON, and a slow reader is cut off, not buffered for.
    let ws = ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(64 * 1024);
    Ok(ws.on_upgrade(move |socket| Session::new(app, ctx).run(socket)))
}

/// One connection: its caller and subscriptions.
struct Session {
    app: App,
    ctx: Ctx,
    subs: HashMap<String, Subscription>,
    /// Missed events a resumed subscription still has to get (`after`), and the ids of
    /// those sent, so the live copies are skipped.
    backlog: Vec<J>,
    replayed: std::collections::HashSet<uuid::Uuid>,
}

impl Session {
    fn new(app: App, ctx: Ctx) -> Self {
        Session {
            app,
            ctx,
            subs: HashMap::new(),
            backlog: Vec::new(),
            replayed: std::collections::HashSet::new(),
        }
    }

    fn error(&self, id: &J, e: ApiError) -> J {
        let style = self.app.manifest().errors;
        json!({"type": "error", "id": id, "error": e.body(style, Some(&self.ctx.request_id))})
    }

    /// Answer one client message.
    async fn handle(&mut self, text: &str) -> J {
        let msg: J = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                let err = ApiError::new(ErrorCode::Validation, format!("Malformed JSON: {e}"));
                return self.error(&J::Null, err);
            }
        };
        let id = msg.get("id").cloned().unwrap_or(J::Null);
        let ack = json!({"type": "ack", "id": id});
        match msg.get("type").and_then(J::as_str) {
            Some("ping") => json!({"type": "pong", "id": id}),
            Some("auth") => {
                let token = msg.get("token").and_then(J::as_str).unwrap_or_default();
                match self.app.authenticate(&self.ctx, token).await {
                    Ok(caller) => {
                        self.ctx.caller = caller;
                        ack
                    }
                    Err(e) => self.error(&id, e.into()),
                }
            }
            Some("subscribe") => {
                let Some(key) = id.as_str().filter(|s| !s.is_empty()) else {
                    let err = ApiError::new(ErrorCode::Validation, "a subscription needs an `id`");
                    return self.error(&id, err);
                };
                let sub = match Subscription::from_json(&self.app, &msg) {
                    Ok(sub) => sub,
                    Err(e) => return self.error(&id, e.into()),
                };
                // `after`: the last event id the client saw; what it missed comes first.
                if let Some(after) = msg.get("after").and_then(J::as_str) {
                    let missed = uuid::Uuid::parse_str(after)
                        .ok()
                        .and_then(|a| self.app.resume(a).map(|(events, _)| events))
                        .filter(|events| !events.iter().any(|e| e.tells_of_loss()));
                    let Some(missed) = missed else {
                        let err = ApiError::new(
                            ErrorCode::Conflict,
                            "Events after `after` are no longer kept (or some were lost): reload, then subscribe",
                        );
                        return self.error(&id, err);
                    };
                    for e in missed.iter().filter(|e| sub.wants(e)) {
                        self.replayed.insert(e.id);
                        if let Ok(Some(m)) = message_for(&self.app, &self.ctx, e, Some(&sub)).await
                        {
                            self.backlog.push(event_message(key, e, &m));
                        }
                    }
                }
                self.subs.insert(key.to_owned(), sub);
                ack
            }
            Some("unsubscribe") => match id.as_str().and_then(|k| self.subs.remove(k)) {
                Some(_) => ack,
                None => self.error(&id, ApiError::not_found("No such subscription")),
            },
            _ => {
                let err = ApiError::new(
                    ErrorCode::Validation,
                    "`type` is auth, subscribe, unsubscribe or ping",
                );
                self.error(&id, err)
            }
        }
    }

    /// The `event` messages of `e`, one per subscription that wants it and may see it.
    async fn deliver(&self, e: &Event) -> Vec<J> {
        let wanting: Vec<&String> = self
            .subs
            .iter()
            .filter(|(_, s)| s.wants(e))
            .map(|(k, _)| k)
            .collect();
        if wanting.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for k in wanting {
            let sub = self.subs.get(k);
            if let Ok(Some(m)) = message_for(&self.app, &self.ctx, e, sub).await {
                out.push(event_message(k, e, &m));
            }
        }
        out
    }

    async fn run(mut self, mut socket: WebSocket) {
        let mut events = self.app.subscribe();
        let mut closing = self.app.closing();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.reset();
        loop {
            // The caller may change (`auth`): its token's expiry is read each time round.
            let deadline = expires_in(&self.ctx);
            let expiry = async {
                match deadline {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let out: Vec<J> = tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let mut out = vec![self.handle(text.as_str()).await];
                        out.append(&mut self.backlog);
                        out
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => continue,
                },
                () = expiry => {
                    let bye = json!({"type": "error", "error": {"code": "TOKEN_EXPIRED"}});
                    let _ = socket.send(Message::text(bye.to_string())).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                e = events.recv() => match e {
                    Ok(e) if e.tells_of_loss() => {
                        // Lost on their way to this node: how many is unknown.
                        let bye = json!({"type": "error", "error": {"code": "LAGGED"}});
                        let _ = socket.send(Message::text(bye.to_string())).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Ok(e) if ends(&self.ctx, &e) => {
                        let bye = json!({"type": "error", "error": {"code": "REVOKED"}});
                        let _ = socket.send(Message::text(bye.to_string())).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Ok(e) if self.replayed.remove(&e.id) => continue,
                    Ok(e) => self.deliver(&e).await,
                    Err(RecvError::Lagged(missed)) => {
                        let bye = json!({"type": "error", "error": {"code": "LAGGED", "missed": missed}});
                        let _ = socket.send(Message::text(bye.to_string())).await;
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
                () = async { let _ = closing.wait_for(|c| *c).await; } => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                _ = ping.tick() => {
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            for m in out {
                if socket.send(Message::text(m.to_string())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The `event` message of subscription `key` for event `e` with its message `m`.
fn event_message(key: &str, e: &Event, m: &J) -> J {
    let mut out = json!({"type": "event", "subscription": key, "id": e.id.to_string(),
        "name": event_name(e)});
    if let (Some(o), J::Object(fields)) = (out.as_object_mut(), m) {
        o.extend(fields.clone());
    }
    out
}
