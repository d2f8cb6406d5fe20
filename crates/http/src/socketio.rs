//! Socket.IO at `<mount>/socket.io/` (socketioxide), so the seeds' `socket.io-client`
//! connects unchanged: `io(url, {auth: {token}})`. A connected socket receives every named
//! event of the app (`drift:created`, `drift:approved`, ...) it may see, emitted under the
//! event's name with `{event, collection, record}`; `subscribe` / `unsubscribe` messages
//! (`{collections, events}`, acknowledged) change what it receives. Every message passes
//! the caller's view rule, as for SSE and the WebSocket (docs/realtime.md).

use std::sync::{Arc, Mutex};

use plinth_core::{AppService, Ctx};
use plinth_realtime::{ends, event_name, expires_in, message_for, Subscription};
use serde_json::{json, Value as J};
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;
use tokio::sync::broadcast::error::RecvError;

/// A socket's caller and what it receives.
struct State {
    ctx: Ctx,
    sub: Mutex<Subscription>,
}

/// Why a connection is refused (sent to the client as `connect_error`).
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The Socket.IO layer of `app` answering at `path` (`<mount>/socket.io`), and its task
/// that delivers the app's events to connected sockets.
pub(crate) fn layer(app: Arc<AppService>, path: String) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder().req_path(path).build_layer();
    let auth_app = app.clone();
    let authenticate = move |s: SocketRef, TryData(auth): TryData<J>| {
        let app = auth_app.clone();
        async move {
            let mut ctx = Ctx::new(
                app.name().clone(),
                s.id.to_string(),
                plinth_core::Caller::Anonymous,
            );
            let token = auth
                .ok()
                .and_then(|a| a.get("token")?.as_str().map(str::to_owned));
            if let Some(token) = token {
                ctx.caller = app
                    .authenticate(&ctx, token.trim())
                    .await
                    .map_err(|e| Refused(e.to_string()))?;
            }
            let all = Subscription {
                events: vec!["*".to_owned()],
                ..Subscription::default()
            };
            let state = Arc::new(State {
                ctx,
                sub: Mutex::new(all),
            });
            s.extensions.insert(state);
            Ok::<(), Refused>(())
        }
    };
    let msg_app = app.clone();
    // Wakes the delivery task, which listens to the app's events only while sockets are
    // connected (an app nobody watches pays nothing per write).
    let connected = Arc::new(tokio::sync::Notify::new());
    let wake = connected.clone();
    let on_connect = move |s: SocketRef| {
        let app = msg_app.clone();
        wake.notify_one();
        async move {
            for (name, add) in [("subscribe", true), ("unsubscribe", false)] {
                let app = app.clone();
                s.on(
                    name,
                    move |s: SocketRef, Data(body): Data<J>, ack: AckSender| {
                        let app = app.clone();
                        async move {
                            let answer = change(&app, &s, &body, add);
                            let _ = ack.send(&answer);
                        }
                    },
                );
            }
        }
    };
    io.ns(
        "/",
        socketioxide::handler::ConnectHandler::with(on_connect, authenticate),
    );
    tokio::spawn(deliver(app, io, connected));
    layer
}

/// Apply a `subscribe` or `unsubscribe` message; the acknowledgement.
fn change(app: &AppService, s: &SocketRef, body: &J, add: bool) -> J {
    let Some(state) = s.extensions.get::<Arc<State>>() else {
        return json!({"ok": false});
    };
    let asked = match Subscription::from_json(app, body) {
        Ok(sub) => sub,
        Err(e) => return json!({"ok": false, "error": e.details}),
    };
    let Ok(mut sub) = state.sub.lock() else {
        return json!({"ok": false});
    };
    if add {
        sub.collections.extend(asked.collections);
        sub.events.extend(asked.events);
    } else {
        sub.collections.retain(|c| !asked.collections.contains(c));
        sub.events.retain(|e| !asked.events.contains(e));
    }
    json!({"ok": true, "collections": sub.collections, "events": sub.events})
}

/// Send each committed change to every socket that wants it and may see it.
async fn deliver(app: Arc<AppService>, io: SocketIo, connected: Arc<tokio::sync::Notify>) {
    let mut events: Option<tokio::sync::broadcast::Receiver<plinth_core::Event>> = None;
    let mut closing = app.closing();
    let mut expiry_check = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        let listening = events.is_some();
        let next = async {
            match &mut events {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let e = tokio::select! {
            () = connected.notified(), if !listening => None,
            e = next => Some(e),
            _ = closing.changed() => {
                io.close().await;
                return;
            }
            _ = expiry_check.tick() => {
                // Sockets whose access token has expired are disconnected.
                for s in io.sockets() {
                    let expired = s
                        .extensions
                        .get::<Arc<State>>()
                        .and_then(|st| expires_in(&st.ctx))
                        .is_some_and(|left| left.is_zero());
                    if expired {
                        let _ = s.disconnect();
                    }
                }
                continue;
            }
        };
        let Some(e) = e else {
            events = Some(app.subscribe());
            continue;
        };
        let e = match e {
            Ok(e) => e,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "socket.io: events dropped (slow delivery)");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if e.tells_of_loss() {
            // As for lag: Socket.IO clients are not told (a server-side disconnect would not
            // make them reconnect).
            tracing::warn!("socket.io: events may have been lost on their way to this node");
            continue;
        }
        if io.sockets().is_empty() {
            events = None;
            continue;
        }
        for s in io.sockets() {
            let Some(state) = s.extensions.get::<Arc<State>>() else {
                continue;
            };
            if ends(&state.ctx, &e) {
                let _ = s.disconnect();
                continue;
            }
            let wants = state.sub.lock().map(|sub| sub.wants(&e)).unwrap_or(false);
            if !wants {
                continue;
            }
            let sub = state.sub.lock().map(|s| s.clone()).ok();
            if let Ok(Some(m)) = message_for(&app, &state.ctx, &e, sub.as_ref()).await {
                let _ = s.emit(event_name(&e), &m);
            }
        }
    }
}
