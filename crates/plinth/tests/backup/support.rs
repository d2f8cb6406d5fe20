//! What the backup stories share: a place for the fixture app's data (a folder, and on
//! PostgreSQL a database and schema), `plinth` run on it, a client of its server, and a
//! database made for one test.

use std::path::{Path, PathBuf};

use plinth::config::Config;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{self, Reply, TestApp, TestEnv};

pub const APP: &str = "ledger";
pub const FILE_KEY: &str = "0b7e0c1a-4f1e-4b7a-9a51-3d2c1e0f9a88.txt";

pub fn fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/backup_app.yaml"
    ))
}

/// Where the app's data lives: a folder (its `data/` is the data folder) and, on
/// PostgreSQL, a database URL and the app's schema.
pub struct Place {
    pub dir: PathBuf,
    pub pg: Option<(String, String)>,
}

impl Place {
    pub fn of(env: &TestEnv) -> Place {
        Place {
            dir: env.dir.path().to_path_buf(),
            pg: env.pg_schema(APP),
        }
    }

    pub fn config(&self, env: &TestEnv) -> Config {
        let mut c = env.config(&[(APP, Some(fixture()))]);
        c.data_dir = self.dir.join("data");
        c.database_url = self.pg.as_ref().map(|(url, _)| url.clone().into());
        if let Some(app) = c.apps.get_mut(APP) {
            app.schema = self.pg.as_ref().map(|(_, schema)| schema.clone());
        }
        c
    }

    pub fn files(&self) -> PathBuf {
        self.dir.join("data").join("files").join(APP)
    }

    /// `plinth` on this place, with only the fixture app enabled.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("PLINTH_DATA_DIR", self.dir.join("data"))
            .env("PLINTH_LOG_LEVEL", "warn")
            .env("PLINTH_DEMO_DATA", "false")
            .env("PLINTH_APPS__LEDGER__MANIFEST", fixture())
            .env_remove("PLINTH_DATABASE_URL")
            .env_remove("RUST_BACKTRACE");
        for bundled in plinth::apps::BUNDLED {
            let key = format!("PLINTH_APPS__{}__ENABLED", bundled.name.to_uppercase());
            cmd.env(key, "false");
        }
        if let Some((url, schema)) = &self.pg {
            cmd.env("PLINTH_DATABASE_URL", url)
                .env("PLINTH_APPS__LEDGER__SCHEMA", schema);
        }
        cmd
    }

    /// Run `plinth` (with `PATH` replaced when given): (success, stdout, stderr).
    pub fn plinth(&self, args: &[&str], path: Option<&str>) -> (bool, String, String) {
        let mut cmd = self.command(args);
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        let out = cmd.output().expect("plinth runs");
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    /// `plinth serve` on this place, in its own process as in production (a stopped
    /// server's sessions end with it): the process and the server's base URL.
    pub async fn serve(&self) -> (tokio::process::Child, Api) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut cmd = tokio::process::Command::from(self.command(&["serve"]));
        cmd.env("PLINTH_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("plinth serve starts");
        let api = Api {
            client: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..300 {
            let up = api.client.get(format!("{}/health", api.base)).send().await;
            if up.is_ok_and(|r| r.status().is_success()) {
                return (child, api);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("plinth serve did not come up");
    }
}

/// A client of a running server.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn of(app: &TestApp) -> Api {
        Api {
            client: app.client.clone(),
            base: app.base.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        let res = self.client.get(format!("{}{path}", self.base)).send().await;
        TestApp::reply(res.expect("sent")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let req = self.client.post(format!("{}{path}", self.base)).json(body);
        TestApp::reply(req.send().await.expect("sent")).await
    }

    /// Create an entry; the record as the server answered.
    pub async fn create(&self, body: &Value) -> Value {
        let reply = self.post(&format!("/{APP}/api/entries"), body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["data"].clone()
    }

    /// Every entry the server holds.
    pub async fn all_entries(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let path = format!("/{APP}/api/entries?limit=500&offset={}", out.len());
            let page = self.get(&path).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let items = page.body["data"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return out;
            }
            out.extend(items);
        }
    }
}

pub async fn kill(mut server: tokio::process::Child) {
    server.kill().await.expect("server stopped");
}

/// A PostgreSQL database made for one test, dropped at its end.
pub struct FreshDb {
    admin_url: String,
    name: String,
    pub url: String,
}

impl FreshDb {
    pub async fn create(admin_url: &str) -> FreshDb {
        let name = format!("t{}", uuid::Uuid::new_v4().simple());
        let admin = common::admin(admin_url).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        let (base, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
        let (server, _) = base.rsplit_once('/').expect("URL names a database");
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        FreshDb {
            admin_url: admin_url.to_owned(),
            url: format!("{server}/{name}{query}"),
            name,
        }
    }
}

impl Drop for FreshDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        common::on_admin_thread(self.admin_url.clone(), move |c| async move {
            c.batch_execute(&sql).await
        });
    }
}

pub fn entry(i: usize, account: &str) -> Value {
    json!({
        "title": format!("Eintrag {i} – ünïcødé ✓ \"quoted\""),
        "account": account,
        "amount": i as f64 * 1.25 + 0.1,
        "units": i as i64 * 1_000_003 - 7,
        "settled": i.is_multiple_of(2),
        "booked_on": format!("2026-01-{:02}", i % 28 + 1),
        "at": "2026-02-03T04:05:06.789Z",
        "kind": if i.is_multiple_of(3) { "credit" } else { "debit" },
        "meta": {"i": i, "tags": ["a", i.to_string()], "nested": {"ok": true, "none": null}},
        "ref": uuid::Uuid::new_v4().to_string(),
    })
}

pub fn sha_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// A server with an account, `n` entries (returned as created) and a stored file.
pub async fn seeded(place: &Place, n: usize) -> (tokio::process::Child, Api, String, Vec<Value>) {
    let (server, api) = place.serve().await;
    let acct = api
        .post(&format!("/{APP}/api/accounts"), &json!({"name": "main"}))
        .await;
    assert_eq!(acct.status, 201, "{}", acct.body);
    let account = id(&acct.body["data"]);
    let mut before = Vec::new();
    for i in 0..n {
        before.push(api.create(&entry(i, &account)).await);
    }
    std::fs::create_dir_all(place.files()).expect("files folder");
    std::fs::write(place.files().join(FILE_KEY), b"stored bytes \x00\xff").expect("file");
    (server, api, account, before)
}

/// Back `place` up into `out` (run off the async threads, so the server keeps serving).
pub async fn backup(place: &Place, out: &Path) -> (bool, String, String) {
    let place = Place {
        dir: place.dir.clone(),
        pg: place.pg.clone(),
    };
    let out = out.display().to_string();
    tokio::task::spawn_blocking(move || place.plinth(&["backup", "--out", &out], None))
        .await
        .expect("backup ran")
}
