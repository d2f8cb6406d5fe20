//! Realtime over Server-Sent Events (`GET {base}/realtime`) and the WebSocket protocol
//! (`GET {base}/realtime/ws`), through CloudDrift: a viewer receives the record and named
//! events of changes they may see, in commit order, and not an alert meant for someone
//! else; a refused change sends nothing. On both databases.

mod common;

use std::time::Duration;

use common::{TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    sse_delivers_what_the_subscriber_may_see,
    websocket_protocol_delivers_what_the_caller_may_see,
    sse_resumes_and_ends_with_its_session,
    subscriptions_narrow_to_a_record_or_a_filter
);

const API: &str = "/clouddrift/api/v1";

/// An open event stream.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

impl Stream {
    /// Open `path` (under the app's API) with an optional bearer token.
    async fn open(app: &TestApp, path: &str, token: Option<&str>) -> Stream {
        Self::resume(app, path, token, None).await
    }

    /// Open `path`, resuming after event `last` (`Last-Event-ID`) when given.
    async fn resume(app: &TestApp, path: &str, token: Option<&str>, last: Option<&str>) -> Stream {
        let mut req = app.client.get(format!("{}{API}{path}", app.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(id) = last {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.expect("stream opens");
        assert_eq!(res.status(), 200);
        let kind = res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Stream {
            res,
            buf: String::new(),
        }
    }

    /// The next event: (name, data), skipping keep-alive comments; fails after 10 s.
    async fn next(&mut self) -> (String, Value) {
        let (name, data, _) = self.next_with_id().await;
        (name, data)
    }

    /// Whether the server ended the stream (within 10 s).
    async fn ended(&mut self) -> bool {
        let chunk = tokio::time::timeout(Duration::from_secs(10), self.res.chunk())
            .await
            .expect("the end within 10 s");
        matches!(chunk, Ok(None))
    }

    /// The next event with its id.
    async fn next_with_id(&mut self) -> (String, Value, String) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data, mut id) = (String::new(), String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().to_owned();
                    }
                }
                if name.is_empty() && data.is_empty() {
                    continue;
                }
                return (name, serde_json::from_str(&data).expect("JSON data"), id);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.res.chunk())
                .await
                .expect("an event within 10 s")
                .expect("stream readable")
                .expect("stream still open");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn sse_delivers_what_the_subscriber_may_see(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (emma_id, emma) = app
        .user_token(
            "clouddrift",
            "emma@example.com",
            "engineer",
            json!({"name": "Emma"}),
        )
        .await;
    let (vic_id, vic) = viewer_vic(&app).await;
    // Bad subscriptions are a 400 before any stream opens.
    let bad = app
        .send(
            Method::GET,
            &format!("{API}/realtime?collections=nope"),
            Some(&vic),
            None,
        )
        .await;
    common::assert_object_error(&bad, 400, "VALIDATION_ERROR");
    let q = "/realtime?collections=drifts,alerts&events=drift:created,drift:approved";
    let mut seen = Stream::open(&app, q, Some(&vic)).await;
    // EventSource cannot send headers: the token may come in the query.
    let mut emmas = Stream::open(
        &app,
        &format!("/realtime?collections=alerts&token={emma}"),
        None,
    )
    .await;

    let body = json!({"title": "Open bucket", "resource_id": "r-1", "resource_type": "t", "severity": "warning"});
    let d = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    let id = d.body["data"]["id"].as_str().expect("id").to_owned();
    // A change's named events come first, then its record event.
    let (name, m) = seen.next().await;
    assert_eq!(name, "drift:created");
    assert_eq!(m["event"], "drift:created");
    assert_eq!(m["record"]["id"], id.as_str());
    let (name, m) = seen.next().await;
    assert_eq!(name, "drifts:create");
    assert_eq!(m["action"], "create");
    assert_eq!(m["collection"], "drifts");
    assert_eq!(m["record"]["id"], id.as_str());
    assert_eq!(m["record"]["title"], "Open bucket");

    // Approved: the update and the named event. Approving again is refused: nothing sent.
    let approve = format!("{API}/drifts/{id}/approve");
    let r = app.send(Method::POST, &approve, Some(&emma), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.send(Method::POST, &approve, Some(&emma), None).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(seen.next().await.0, "drift:approved");
    let (name, m) = seen.next().await;
    assert_eq!(name, "drifts:update");
    assert_eq!(m["record"]["status"], "approved");

    // An alert for Emma reaches Emma, not Vic; Vic's next event is his own alert.
    for user in [&emma_id, &vic_id] {
        let alert = json!({"drift_id": id, "user_id": user, "title": "t", "message": "m", "severity": "info"});
        let r = app
            .send(
                Method::POST,
                &format!("{API}/alerts"),
                Some(&scanner),
                Some(alert),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (name, m) = seen.next().await;
    assert_eq!(name, "alerts:create");
    assert_eq!(m["record"]["user_id"], vic_id.as_str(), "not Emma's: {m}");
    let (_, m) = emmas.next().await;
    assert_eq!(m["record"]["user_id"], emma_id.as_str());

    // A delete reaches those who may list the collection, with the id only.
    let r = app
        .send(
            Method::DELETE,
            &format!("{API}/drifts/{id}"),
            Some(&scanner),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (name, m) = seen.next().await;
    assert_eq!(name, "drifts:delete");
    assert_eq!(m["record"], json!({"id": id}));
    // Shutting down ends open streams (it would otherwise wait for them forever).
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown with open streams");
    drop((seen, emmas));
}

/// Vic, a signed-in CloudDrift viewer on `app`: (id, access token).
async fn viewer_vic(app: &TestApp) -> (String, String) {
    app.user_token(
        "clouddrift",
        "vic@example.com",
        "viewer",
        json!({"name": "Vic"}),
    )
    .await
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Send one JSON message.
async fn ws_send(ws: &mut Ws, m: Value) {
    use futures_util::SinkExt;
    let text = tokio_tungstenite::tungstenite::Message::text(m.to_string());
    ws.send(text).await.expect("sent");
}

/// The next JSON message (pings skipped); fails after 10 s.
async fn ws_next(ws: &mut Ws) -> Value {
    use futures_util::StreamExt;
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("readable");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).expect("JSON");
        }
    }
}

async fn websocket_protocol_delivers_what_the_caller_may_see(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (emma_id, _) = app
        .user_token(
            "clouddrift",
            "emma@example.com",
            "engineer",
            json!({"name": "Emma"}),
        )
        .await;
    let (vic_id, vic) = viewer_vic(&app).await;
    let url = format!("{}{API}/realtime/ws", app.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    // Errors come in the app's style; every request is answered by its id.
    ws_send(
        &mut ws,
        json!({"type": "subscribe", "id": "bad", "collections": ["nope"]}),
    )
    .await;
    let e = ws_next(&mut ws).await;
    assert_eq!(e["type"], "error", "{e}");
    assert_eq!(e["id"], "bad");
    assert_eq!(e["error"]["success"], false, "{e}");
    assert_eq!(e["error"]["error"]["code"], "VALIDATION_ERROR", "{e}");
    ws_send(&mut ws, json!({"type": "auth", "token": "not-a-token"})).await;
    assert_eq!(
        ws_next(&mut ws).await["error"]["error"]["code"],
        "UNAUTHENTICATED"
    );
    ws_send(&mut ws, json!({"type": "auth", "id": 1, "token": vic})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "ack", "id": 1}));
    let subscribe = json!({"type": "subscribe", "id": "s1", "collections": ["drifts", "alerts"], "events": ["drift:created"]});
    ws_send(&mut ws, subscribe).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "ack", "id": "s1"}));

    let body = json!({"title": "Open bucket", "resource_id": "r-1", "resource_type": "t", "severity": "warning"});
    let d = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    let id = d.body["data"]["id"].as_str().expect("id").to_owned();
    let m = ws_next(&mut ws).await;
    assert_eq!(
        (&m["type"], &m["subscription"], &m["name"]),
        (&json!("event"), &json!("s1"), &json!("drift:created")),
        "{m}"
    );
    assert_eq!(m["record"]["id"], id.as_str());
    let m = ws_next(&mut ws).await;
    assert_eq!(m["name"], "drifts:create", "{m}");
    assert_eq!(m["action"], "create");
    // An alert for Emma is not Vic's to see; his own is.
    for user in [&emma_id, &vic_id] {
        let alert = json!({"drift_id": id, "user_id": user, "title": "t", "message": "m", "severity": "info"});
        let r = app
            .send(
                Method::POST,
                &format!("{API}/alerts"),
                Some(&scanner),
                Some(alert),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let m = ws_next(&mut ws).await;
    assert_eq!(m["name"], "alerts:create", "{m}");
    assert_eq!(m["record"]["user_id"], vic_id.as_str(), "not Emma's: {m}");
    // Unsubscribed: nothing more for s1; ping answers pong.
    ws_send(&mut ws, json!({"type": "unsubscribe", "id": "s1"})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "ack", "id": "s1"}));
    let r = app
        .send(
            Method::DELETE,
            &format!("{API}/drifts/{id}"),
            Some(&scanner),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    ws_send(&mut ws, json!({"type": "ping", "id": 2})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "pong", "id": 2}));
    // Shutting down closes open sockets rather than waiting for them.
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("shutdown with an open socket");
}

/// Two `plinth` nodes on one PostgreSQL: a change made through one reaches subscribers on
/// the other (PostgreSQL only: SQLite is one node), through the database's NOTIFY.
#[tokio::test]
async fn two_nodes_share_events_on_postgres() {
    if let Some(env) = TestEnv::new(common::Backend::Postgres) {
        two_nodes(env, None).await;
    }
}

/// The same through NATS (`events_bus`), which runs on the development machines and CI
/// (`TEST_NATS_URL`, default the local one). Plinth itself never requires it.
#[tokio::test]
async fn two_nodes_share_events_over_nats() {
    let Some(env) = TestEnv::new(common::Backend::Postgres) else {
        return;
    };
    let url = std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let reachable = tokio::net::TcpStream::connect(url.trim_start_matches("nats://"))
        .await
        .is_ok();
    if !reachable {
        assert!(
            std::env::var("TEST_REQUIRE_POSTGRES").is_err(),
            "NATS is not reachable at {url}, and CI requires this test"
        );
        eprintln!("note: NATS test skipped ({url} not reachable)");
        return;
    }
    two_nodes(env, Some(url)).await;
}

async fn two_nodes(env: TestEnv, nats: Option<String>) {
    let mut config = env.config(&[("clouddrift", None)]);
    config.events_bus = nats;
    let a = env.start(&config).await.expect("node A starts");
    let b = env.start(&config).await.expect("node B starts");
    assert_ne!(a.base, b.base);
    let scanner = a.service_token("clouddrift", "SERVICE").await;
    let (_, vic) = viewer_vic(&a).await;
    let mut on_b = Stream::open(&b, "/realtime?collections=drifts", Some(&vic)).await;
    let mut on_a = Stream::open(&a, "/realtime?collections=drifts", Some(&vic)).await;
    let body = json!({"title": "Open bucket", "resource_id": "r-1", "resource_type": "t", "severity": "info"});
    let d = a
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    for stream in [&mut on_b, &mut on_a] {
        let (name, m) = stream.next().await;
        assert_eq!(name, "drifts:create");
        assert_eq!(m["record"]["id"], d.body["data"]["id"]);
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        a.stop().await;
        b.stop().await;
    })
    .await
    .expect("both stop");
}

/// A node whose link to the other nodes is cut (its `LISTEN` connection ends) cannot know
/// what it missed meanwhile: its open streams end with `lagged` (SSE and WebSocket alike), a
/// resume from before the cut is told the same, and once it listens again new changes reach
/// new streams. PostgreSQL only (SQLite is one node, without a link to cut).
#[tokio::test]
async fn a_cut_event_link_ends_streams_as_lagged() {
    let Some(env) = TestEnv::new(common::Backend::Postgres) else {
        return;
    };
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (_, vic) = viewer_vic(&app).await;
    let create = |n: u32| json!({"title": "Open bucket", "resource_id": format!("r-{n}"), "resource_type": "t", "severity": "info"});
    let path = format!("{API}/drifts");
    let mut sse = Stream::open(&app, "/realtime?collections=drifts", Some(&vic)).await;
    let url = format!("{}{API}/realtime/ws", app.base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    ws_send(&mut ws, json!({"type": "auth", "id": 1, "token": vic})).await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "ack", "id": 1}));
    ws_send(
        &mut ws,
        json!({"type": "subscribe", "id": "s1", "collections": ["drifts"]}),
    )
    .await;
    assert_eq!(ws_next(&mut ws).await, json!({"type": "ack", "id": "s1"}));
    let d = app
        .send(Method::POST, &path, Some(&scanner), Some(create(1)))
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let (name, _, before_cut) = sse.next_with_id().await;
    assert_eq!(name, "drifts:create");
    assert_eq!(ws_next(&mut ws).await["name"], "drifts:create");

    // Cut the node's listening connection, as a database restart or a network fault would.
    let (db_url, schema) = env.pg_schema("clouddrift").expect("postgres");
    let admin = common::admin(&db_url).await;
    let channel: String = format!("plinth_events_{schema}").chars().take(63).collect();
    let listen = format!("LISTEN \"{channel}\"");
    let cut = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
            &[&listen],
        )
        .await
        .expect("cut");
    assert_eq!(cut.len(), 1, "one listening connection");

    let (name, m) = sse.next().await;
    assert_eq!((name.as_str(), m), ("error", json!({"error": "lagged"})));
    assert!(sse.ended().await);
    assert_eq!(
        ws_next(&mut ws).await,
        json!({"type": "error", "error": {"code": "LAGGED"}})
    );
    // A client resuming from before the cut is told the same: it must reload.
    let mut resumed = Stream::resume(
        &app,
        "/realtime?collections=drifts",
        Some(&vic),
        Some(&before_cut),
    )
    .await;
    let (name, m) = resumed.next().await;
    assert_eq!((name.as_str(), m), ("error", json!({"error": "lagged"})));

    // Listening again: the next change reaches a new stream.
    let mut fresh = Stream::open(&app, "/realtime?collections=drifts", Some(&vic)).await;
    let d = app
        .send(Method::POST, &path, Some(&scanner), Some(create(2)))
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let (name, m) = fresh.next().await;
    assert_eq!(name, "drifts:create");
    assert_eq!(m["record"]["id"], d.body["data"]["id"]);
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("stops");
}

/// Resuming after a drop (`Last-Event-ID`): what was missed comes first, then live events;
/// an id no longer kept is said so. A stream ends when its session is revoked (logout)
/// and when its access token expires.
async fn sse_resumes_and_ends_with_its_session(env: TestEnv) {
    let mut config = env.config(&[("clouddrift", None)]);
    let secret = "a-test-secret-of-enough-length-0123456789";
    if let Some(app) = config.apps.get_mut("clouddrift") {
        app.token_secret = Some(secret.to_owned().into());
    }
    let app = env.start(&config).await.expect("starts");
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (vic_id, vic) = viewer_vic(&app).await;
    let drift = |n: u32| {
        let body = json!({"title": format!("Drift {n}"), "resource_id": format!("r-{n}"), "resource_type": "t", "severity": "info"});
        let (app, scanner) = (&app, &scanner);
        async move {
            let r = app
                .send(
                    Method::POST,
                    &format!("{API}/drifts"),
                    Some(scanner),
                    Some(body),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
    };
    let path = "/realtime?collections=drifts";
    let mut first = Stream::open(&app, path, Some(&vic)).await;
    drift(1).await;
    let (_, m, seen) = first.next_with_id().await;
    assert_eq!(m["record"]["title"], "Drift 1");
    drop(first);
    // While away: two drifts. Back with the last id: both, in order, then live ones.
    drift(2).await;
    drift(3).await;
    let mut back = Stream::resume(&app, path, Some(&vic), Some(&seen)).await;
    for n in [2, 3] {
        assert_eq!(back.next().await.1["record"]["title"], format!("Drift {n}"));
    }
    drift(4).await;
    assert_eq!(back.next().await.1["record"]["title"], "Drift 4");
    // An id the app no longer keeps (or never sent): said so, then live.
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut lost = Stream::resume(&app, path, Some(&vic), Some(&unknown)).await;
    let (name, m) = lost.next().await;
    assert_eq!(
        (name.as_str(), &m["error"]),
        ("error", &json!("resume_window_passed"))
    );
    // Logout revokes the session: its stream ends.
    let r = app
        .send(
            Method::POST,
            &format!("{API}/auth/logout"),
            Some(&vic),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let (name, m) = back.next().await;
    assert_eq!((name.as_str(), &m["error"]), ("error", &json!("revoked")));
    assert!(back.ended().await);
    // A token that expires in a second: the stream ends with it.
    let keys = plinth_auth::TokenKeys::new(
        "clouddrift",
        secret.to_owned().into(),
        Duration::from_secs(1),
    );
    let vic_uuid = uuid::Uuid::parse_str(&vic_id).expect("uuid");
    let now = chrono::Utc::now().timestamp();
    let short = keys
        .issue(vic_uuid, "viewer", uuid::Uuid::now_v7(), now)
        .expect("token");
    let mut brief = Stream::open(&app, path, Some(&short)).await;
    let (name, m) = brief.next().await;
    assert_eq!(
        (name.as_str(), &m["error"]),
        ("error", &json!("token_expired"))
    );
    assert!(brief.ended().await);
    drop((back, lost));
    app.stop().await;
}

/// A subscription to one record, or to the records a filter selects (the `filter=`
/// language of lists), over SSE and the WebSocket; a bad filter is a 400 before streaming.
async fn subscriptions_narrow_to_a_record_or_a_filter(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (_, vic) = viewer_vic(&app).await;
    let post = |title: &'static str, severity: &'static str| {
        let body = json!({"title": title, "resource_id": title, "resource_type": "t", "severity": severity});
        let (app, scanner) = (&app, &scanner);
        async move {
            let r = app
                .send(
                    Method::POST,
                    &format!("{API}/drifts"),
                    Some(scanner),
                    Some(body),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["data"]["id"].as_str().expect("id").to_owned()
        }
    };
    // Events reach a node's subscribers a moment after commit (on PostgreSQL, back through
    // NOTIFY): wait until the first drift's has gone by before opening the streams under test.
    let mut all = Stream::open(&app, "/realtime?collections=drifts", Some(&vic)).await;
    let first = post("first", "info").await;
    assert_eq!(all.next().await.1["record"]["id"], first.as_str());
    let bad = app
        .send(
            Method::GET,
            &format!("{API}/realtime?collections=drifts&filter=nope%20%3D%201"),
            Some(&vic),
            None,
        )
        .await;
    common::assert_object_error(&bad, 400, "VALIDATION_ERROR");
    let critical = "/realtime?collections=drifts&filter=severity%20%3D%20%22critical%22";
    let mut only_critical = Stream::open(&app, critical, Some(&vic)).await;
    let one = format!("/realtime?collections=drifts&record={first}");
    let mut only_first = Stream::open(&app, &one, Some(&vic)).await;
    let url = format!(
        "{}{API}/realtime/ws?token={vic}",
        app.base.replacen("http", "ws", 1)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    let sub = json!({"type": "subscribe", "id": "c", "collections": ["drifts"], "filter": "severity = \"critical\""});
    ws_send(&mut ws, sub).await;
    assert_eq!(ws_next(&mut ws).await["type"], "ack");

    post("second", "info").await;
    let hot = post("third", "critical").await;
    let r = app
        .send(
            Method::PATCH,
            &format!("{API}/drifts/{first}"),
            Some(&scanner),
            Some(json!({"title": "first, renamed"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The filtered streams skip the info drift; the record stream skips the others.
    let (name, m) = only_critical.next().await;
    assert_eq!(
        (name.as_str(), &m["record"]["id"]),
        ("drifts:create", &json!(hot))
    );
    let m = ws_next(&mut ws).await;
    assert_eq!(
        (&m["name"], &m["record"]["id"]),
        (&json!("drifts:create"), &json!(hot)),
        "{m}"
    );
    let (name, m) = only_first.next().await;
    assert_eq!(name, "drifts:update");
    assert_eq!(m["record"]["title"], "first, renamed");
    drop((only_critical, only_first, ws, all));
    app.stop().await;
}
