//! Nodes that start together on one fresh PostgreSQL database: each migrates on start, and
//! they must not race each other into failing (the later ones find the work done). And a
//! node starting on a database already set up logs no driver NOTICEs (`schema ... already
//! exists, skipping`). PostgreSQL only: SQLite is one file with a single writer per process.

mod common;

use common::{Backend, TestEnv};
use serde_json::json;

/// How many nodes start at once.
const NODES: usize = 3;

/// A database of its own, dropped when the test ends (even when it fails).
struct FreshDb {
    admin_url: String,
    name: String,
}

impl FreshDb {
    async fn create(admin_url: &str) -> (Self, String) {
        let name = format!("plinth_start_{}", uuid::Uuid::new_v4().simple());
        common::admin(admin_url)
            .await
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create db");
        let (prefix, _) = admin_url.rsplit_once('/').expect("URL names a database");
        let url = format!("{prefix}/{name}");
        let db = FreshDb {
            admin_url: admin_url.to_owned(),
            name,
        };
        (db, url)
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        common::on_admin_thread(self.admin_url.clone(), move |client| async move {
            client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_started_together_all_come_up_and_share_the_data() {
    let Some(env) = TestEnv::new(Backend::Postgres) else {
        return;
    };
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("set when TestEnv is Postgres");
    let (_db, url) = FreshDb::create(&admin_url).await;
    let mut config = env.config(&[("simflow", None), ("quadrax", None)]);
    config.database_url = Some(url.into());

    let (a, b, c) = tokio::join!(env.start(&config), env.start(&config), env.start(&config));
    let nodes: Vec<_> = [a, b, c]
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|e| panic!("node {} of {NODES} fails to start: {e:#}", i + 1))
        })
        .collect();

    // One service token (in the shared database) serves every node.
    let token = nodes[0].service_token("simflow", "SERVICE").await;
    let mut nodes = nodes;
    for node in &mut nodes {
        node.default_tokens
            .push(("/simflow/".to_owned(), token.clone()));
    }
    let user = nodes[0]
        .post(
            "/simflow/api/users",
            json!({"name": "Ada", "email": "ada@example.com", "role": "ENGINEER"}),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let id = user.body["user"]["id"].as_str().expect("id").to_owned();
    for node in &nodes[1..] {
        let got = node.get(&format!("/simflow/api/users/{id}")).await;
        assert_eq!(got.status, 200, "{}", got.body);
        assert_eq!(got.body["user"]["email"], "ada@example.com");
        assert_eq!(node.get("/quadrax/api/users").await.status, 200);
    }
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_second_start_logs_no_notices() {
    let Some(env) = TestEnv::new(Backend::Postgres) else {
        return;
    };
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("set when TestEnv is Postgres");
    let (_db, url) = FreshDb::create(&admin_url).await;
    // `migrate up` opens the store and migrates like `serve` does, then exits.
    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"))
            .args(["migrate", "up", "--app", "simflow"])
            .current_dir(env.dir.path())
            .env("PLINTH_DATABASE_URL", &url)
            .env("PLINTH_LOG_LEVEL", "info")
            .env_remove("RUST_LOG")
            .output()
            .expect("plinth runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        text
    };
    assert!(run().contains("simflow: applied"));
    let second = run();
    assert!(second.contains("simflow: up to date"), "{second}");
    assert!(!second.contains("NOTICE"), "{second}");
}
