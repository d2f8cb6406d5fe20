//! Operations: health, readiness, OpenAPI, gzip, CORS, own listeners, shutdown, the index
//! page and security headers.

mod common;

use common::TestEnv;
use serde_json::json;

both!(
    health_ready_and_docs,
    own_listener_at_root,
    index_page_and_security_headers
);

async fn health_ready_and_docs(env: TestEnv) {
    let app = env
        .spawn(&["simflow", "datagen"])
        .await
        .with_service_tokens()
        .await;
    let health = app.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, json!({"status": "ok"}));
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["apps"]["simflow"]["database"], "ok");
    assert_eq!(ready.body["apps"]["datagen"]["database"], "ok");

    let doc = app.get("/simflow/api/openapi.json").await;
    assert_eq!(doc.body["openapi"], "3.1.0");
    assert_eq!(doc.body["servers"][0]["url"], "/simflow/api");
    assert!(doc.body["paths"]["/requests/{id}"]["patch"].is_object());
    let input = &doc.body["components"]["schemas"]["RequestsInput"];
    assert_eq!(input["additionalProperties"], false);
    assert_eq!(
        input["properties"]["title"]["maxLength"],
        json!(255),
        "lengths are integers"
    );
    // An email's bound is a length too, as the validator checks it.
    let email = &doc.body["components"]["schemas"]["UsersInput"]["properties"]["email"];
    assert_eq!(email["maxLength"], json!(255), "{email}");
    assert!(email.get("maximum").is_none(), "{email}");
    // Envelope keys every response has are required, so typed clients need no `?.`.
    let list = &doc.body["paths"]["/users"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(list["required"], json!(["users", "meta"]), "{list}");
    let datagen_doc = app.get("/datagen/openapi.json").await;
    assert_eq!(datagen_doc.body["servers"][0]["url"], "/datagen");

    for i in 0..5 {
        let r = app.post("/simflow/api/users", json!({"name": format!("User {i}"), "email": format!("u{i}@example.com"), "role": "ENGINEER"})).await;
        assert_eq!(r.status, 201);
    }
    let gz = app
        .client
        .get(format!("{}/simflow/api/users", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("sent");
    assert_eq!(gz.headers()["content-encoding"], "gzip");

    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/simflow/api/users", app.base),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("sent");
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");

    let metrics = reqwest::get(format!("{}/metrics", app.base))
        .await
        .expect("sent");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(
        text.lines()
            .any(|l| l.starts_with("plinth_http_requests_total{")
                && l.contains(r#"app="simflow""#)
                && l.contains(r#"status="201""#)),
        "{text}"
    );
    assert!(
        text.contains("plinth_http_request_duration_seconds_bucket"),
        "{text}"
    );
    if env.backend == common::Backend::Sqlite {
        // Writes per SQLite commit (group commit); the writer's own test checks sharing.
        assert!(
            text.lines()
                .any(|l| l.starts_with("plinth_sqlite_commit_batch_size_count")),
            "{text}"
        );
    }

    let base = app.base.clone();
    app.stop().await;
    assert!(
        reqwest::get(format!("{base}/health")).await.is_err(),
        "listener closed after shutdown"
    );
}

async fn own_listener_at_root(env: TestEnv) {
    let mut config = env.config(&[("simflow", None), ("datagen", None)]);
    let sim = config.apps.get_mut("simflow").expect("simflow");
    sim.listen = Some("127.0.0.1:0".parse().expect("addr"));
    let app = env.start(&config).await.expect("starts");
    let (name, addr) = &app.running.own[0];
    assert_eq!(name, "simflow");
    let r = reqwest::get(format!("http://{addr}/api/users"))
        .await
        .expect("sent");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["users"], json!([]));
    // Not on the shared listener any more; datagen still is.
    assert_eq!(app.get("/simflow/api/users").await.status, 404);
    assert_eq!(app.get("/datagen/jobs").await.status, 200);
    app.stop().await;
}

/// SIGTERM's path: a request already in flight when shutdown starts still gets its answer,
/// and its write is kept.
#[tokio::test]
async fn shutdown_finishes_in_flight_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(env) = TestEnv::new(common::Backend::Sqlite) else {
        return;
    };
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let body = br#"{"name":"Late","email":"late@example.com","role":"R"}"#;
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .expect("connect");
    let head = format!(
        "POST /simflow/api/users HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        app.default_tokens[0].1,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
        .write_all(&body[..10])
        .await
        .expect("part of the body");
    // Let the server read the head and start the handler before shutdown begins.
    let probe = app.get("/health").await;
    assert_eq!(probe.status, 200);
    app.running.shutdown();
    stream
        .write_all(&body[10..])
        .await
        .expect("rest of the body");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.expect("reply");
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
    assert!(reply.contains("late@example.com"), "{reply}");
    app.running_wait().await;
    // The write survived: a fresh server on the same data sees it.
    let again = env.spawn(&["simflow"]).await.with_service_tokens().await;
    assert_eq!(
        again
            .get("/simflow/api/users?email=late@example.com")
            .await
            .body["meta"]["total"],
        1
    );
    again.stop().await;
}

/// Two apps at the same path on one listener are a configuration error, said plainly.
#[tokio::test]
async fn clashing_mounts_are_refused() {
    let Some(env) = TestEnv::new(common::Backend::Sqlite) else {
        return;
    };
    let mut config = env.config(&[("simflow", None), ("quadrax", None)]);
    for app in ["simflow", "quadrax"] {
        config.apps.get_mut(app).expect("app").mount = Some("/".into());
    }
    let err = env.start(&config).await.err().expect("refused");
    assert!(
        format!("{err:#}").contains("both served at `/api/`"),
        "{err:#}"
    );
}

/// `GET /` lists the mounted apps (JSON or a page); every response carries the Helmet set
/// of headers, and the page its own content policy.
async fn index_page_and_security_headers(env: TestEnv) {
    let app = env.spawn(&["simflow", "clouddrift"]).await;
    let get = |accept: &'static str, path: &'static str| {
        let req = app
            .client
            .get(format!("{}{path}", app.base))
            .header("accept", accept);
        async move { req.send().await.expect("sent") }
    };
    let listing: serde_json::Value = get("application/json", "/")
        .await
        .json()
        .await
        .expect("json");
    let mut apps: Vec<(&str, &str)> = listing["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default(),
                a["api"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    apps.sort_unstable();
    assert_eq!(
        apps,
        [
            ("clouddrift", "/clouddrift/api/v1"),
            ("simflow", "/simflow/api")
        ],
        "{listing}"
    );
    let page = get("text/html", "/").await;
    let header = |r: &reqwest::Response, h: &str| {
        r.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(header(&page, "content-security-policy").contains("style-src 'unsafe-inline'"));
    assert!(page
        .text()
        .await
        .expect("html")
        .contains("/clouddrift/api/v1/openapi.json"));
    for path in ["/health", "/simflow/api/requests", "/nope"] {
        let r = get("application/json", path).await;
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&r, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&r, "referrer-policy"), "no-referrer", "{path}");
        assert!(
            header(&r, "content-security-policy").starts_with("default-src 'none'"),
            "{path}"
        );
    }
    app.stop().await;
}
