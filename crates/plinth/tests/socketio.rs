//! Socket.IO with npm's `socket.io-client` (the seeds' client), through CloudDrift: a
//! signed-in socket receives the named events it may see (`drift:created`,
//! `alert:created` for its own alert only), subscribes to record events with an ack, and a
//! bad token is a `connect_error`. On both databases. The client is installed from npm
//! into `~/.cache/plinth-node` (or `PLINTH_NODE_MODULES`) when missing.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::TestEnv;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

both!(socketio_client_receives_what_it_may_see);

const API: &str = "/clouddrift/api/v1";

/// Where `socket.io-client` is installed (installing it on first use).
fn node_modules() -> std::path::PathBuf {
    let dir = std::env::var("PLINTH_NODE_MODULES").map_or_else(
        |_| {
            let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
            std::path::PathBuf::from(home).join(".cache/plinth-node")
        },
        std::path::PathBuf::from,
    );
    if !dir.join("node_modules/socket.io-client").is_dir() {
        std::fs::create_dir_all(&dir).expect("node dir");
        let ok = std::process::Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "socket.io-client@4.8.4",
            ])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(ok.success(), "npm install socket.io-client failed");
    }
    dir.join("node_modules")
}

/// A running client and its output.
struct Client {
    child: Child,
    lines: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Client {
    async fn start(base: &str, token: &str) -> Client {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/socketio_client.js"
        );
        let mut child = Command::new("node")
            .args([script, base, "/clouddrift/socket.io", token])
            .env("NODE_PATH", node_modules())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().expect("stdout");
        Client {
            child,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next line the client printed; fails after 10 s.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("client output within 10 s")
            .expect("readable")
            .expect("client still running");
        serde_json::from_str(&line).expect("JSON line")
    }

    async fn emit(&mut self, name: &str, data: Value) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        let cmd = format!("{}\n", json!({"emit": name, "data": data}));
        stdin.write_all(cmd.as_bytes()).await.expect("command sent");
    }
}

async fn socketio_client_receives_what_it_may_see(env: TestEnv) {
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
    let (vic_id, vic) = app
        .user_token(
            "clouddrift",
            "vic@example.com",
            "viewer",
            json!({"name": "Vic"}),
        )
        .await;
    let mut bad = Client::start(&app.base, "not-a-token").await;
    assert_eq!(bad.next().await["type"], "connect_error");
    let mut c = Client::start(&app.base, &vic).await;
    assert_eq!(c.next().await, json!({"type": "connected"}));

    // A critical drift: its named events; of the per-user alerts, only Vic's.
    let body = json!({"title": "Open bucket", "resource_id": "r-1", "resource_type": "t", "severity": "critical"});
    let d = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let id = d.body["data"]["id"].as_str().expect("id").to_owned();
    let m = c.next().await;
    assert_eq!(m["name"], "drift:created", "{m}");
    assert_eq!(m["data"]["record"]["id"], id.as_str());
    assert_eq!(m["data"]["record"]["title"], "Open bucket");
    let m = c.next().await;
    assert_eq!(m["name"], "alert:created", "{m}");
    assert_eq!(
        m["data"]["record"]["user_id"],
        vic_id.as_str(),
        "only his own: {m}"
    );

    // Record events on request, acknowledged; an alert for Emma does not reach Vic.
    c.emit("subscribe", json!({"collections": ["alerts"]}))
        .await;
    let ack = c.next().await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["ack"]["ok"], true, "{ack}");
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
    let m = c.next().await;
    assert_eq!(m["name"], "alerts:create", "{m}");
    assert_eq!(
        m["data"]["record"]["user_id"],
        vic_id.as_str(),
        "not Emma's: {m}"
    );
    c.emit("subscribe", json!({"collections": ["nope"]})).await;
    assert_eq!(c.next().await["ack"]["ok"], false);
    drop((c, bad));
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .expect("stops");
}
