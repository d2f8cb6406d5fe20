//! Test support: start the real server on port 0 against a fresh database per test.
//!
//! SQLite tests get a temp folder; PostgreSQL tests get fresh schemas (named per test) in
//! the database named by `TEST_DATABASE_URL`, dropped when the test ends. Without
//! that variable PostgreSQL tests are skipped with a note, unless
//! `TEST_REQUIRE_POSTGRES=1` (as in CI), where they fail instead.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use plinth::config::{AppConfig, Config, LimitConfig, LogFormat, RateLimitsConfig};
use plinth::Running;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

/// The two backends every data-layer story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Run a story on SQLite and on PostgreSQL, as two tests.
#[macro_export]
macro_rules! both {
    ($($story:ident),* $(,)?) => {$(
        mod $story {
            #[tokio::test]
            async fn sqlite() {
                if let Some(env) = $crate::common::TestEnv::new($crate::common::Backend::Sqlite) {
                    super::$story(env).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(env) = $crate::common::TestEnv::new($crate::common::Backend::Postgres) {
                    super::$story(env).await;
                }
            }
        }
    )*};
}

/// A fresh place for one test's data: a temp folder, and for PostgreSQL a schema prefix.
pub struct TestEnv {
    pub backend: Backend,
    pub dir: TempDir,
    pg: Option<(String, String)>,
}

fn pg_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set");
            }
            eprintln!("note: PostgreSQL test skipped (set TEST_DATABASE_URL to run it)");
            None
        }
    }
}

impl TestEnv {
    /// None when the backend is PostgreSQL and no test database is configured.
    pub fn new(backend: Backend) -> Option<Self> {
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some((pg_url()?, format!("t{}", uuid::Uuid::new_v4().simple()))),
        };
        Some(TestEnv {
            backend,
            dir: tempfile::tempdir().expect("temp dir"),
            pg,
        })
    }

    /// A config serving only `apps` (bundled names or custom manifests), on port 0.
    pub fn config(&self, apps: &[(&str, Option<PathBuf>)]) -> Config {
        let mut map = BTreeMap::new();
        for bundled in plinth::apps::BUNDLED {
            map.insert(
                bundled.name.to_owned(),
                AppConfig {
                    enabled: Some(false),
                    ..Default::default()
                },
            );
        }
        for (name, manifest) in apps {
            let schema = self
                .pg
                .as_ref()
                .map(|(_, prefix)| format!("{prefix}_{name}"));
            let bundled = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../apps"))
                .join(name)
                .join("app.yaml");
            let manifest = manifest.clone().unwrap_or(bundled);
            map.insert(
                (*name).to_owned(),
                AppConfig {
                    enabled: Some(true),
                    rate_limits: roomy_limits(&manifest),
                    manifest: Some(manifest),
                    schema,
                    ..Default::default()
                },
            );
        }
        Config {
            listen: "127.0.0.1:0".parse().expect("addr"),
            data_dir: self.dir.path().join("data"),
            database_url: self.pg.as_ref().map(|(url, _)| url.clone().into()),
            log_level: "warn".into(),
            log_format: LogFormat::Json,
            max_body_bytes: 64 * 1024,
            demo_data: Some(false),
            apps: map,
            ..Config::default()
        }
    }

    /// For PostgreSQL, the database URL and the schema an app gets in this test.
    pub fn pg_schema(&self, app: &str) -> Option<(String, String)> {
        self.pg
            .as_ref()
            .map(|(url, prefix)| (url.clone(), format!("{prefix}_{app}")))
    }

    /// Run SQL straight on `app`'s database, outside Plinth (`sqlite` or `postgres` text
    /// by backend): every row's values as text (NULL as None), for checks against the data.
    pub async fn direct(
        &self,
        app: &str,
        sqlite: &str,
        postgres: &str,
    ) -> Vec<Vec<Option<String>>> {
        match self.pg_schema(app) {
            Some((url, schema)) => {
                let client = admin(&url).await;
                client
                    .batch_execute(&format!("SET search_path TO \"{schema}\""))
                    .await
                    .expect("search path");
                let mut rows = Vec::new();
                for m in client.simple_query(postgres).await.expect("direct query") {
                    if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                        rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect());
                    }
                }
                rows
            }
            None => {
                let path = self.dir.path().join("data").join(format!("{app}.db"));
                let conn = rusqlite::Connection::open(path).expect("open sqlite");
                plinth_store::no_checkpoint_on_close(&conn).expect("db config");
                let mut stmt = conn.prepare(sqlite).expect("prepare");
                let n = stmt.column_count();
                let rows = stmt.query_map([], |row| {
                    (0..n)
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Real(v) => Some(v.to_string()),
                                rusqlite::types::ValueRef::Text(t)
                                | rusqlite::types::ValueRef::Blob(t) => {
                                    Some(String::from_utf8_lossy(t).into_owned())
                                }
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                });
                rows.expect("query")
                    .collect::<Result<Vec<_>, _>>()
                    .expect("rows")
            }
        }
    }

    /// Run the `plinth` binary against this test's data (its data dir, and for PostgreSQL
    /// its database and `app`'s schema); stdout and whether it succeeded.
    pub fn plinth(&self, app: &str, args: &[&str]) -> (bool, String, String) {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("PLINTH_DATA_DIR", self.dir.path().join("data"))
            .env("PLINTH_LOG_LEVEL", "warn")
            .env("PLINTH_DEMO_DATA", "false")
            .env_remove("PLINTH_DATABASE_URL");
        if let Some((url, schema)) = self.pg_schema(app) {
            cmd.env("PLINTH_DATABASE_URL", url).env(
                format!("PLINTH_APPS__{}__SCHEMA", app.to_uppercase()),
                schema,
            );
        }
        let out = cmd.output().expect("plinth runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Start the server with `config`.
    pub async fn start(&self, config: &Config) -> anyhow::Result<TestApp> {
        let running = plinth::start(config).await?;
        Ok(TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            running,
            default_tokens: Vec::new(),
        })
    }

    /// Start the server with the named bundled apps.
    pub async fn spawn(&self, apps: &[&str]) -> TestApp {
        let list: Vec<_> = apps.iter().map(|a| (*a, None)).collect();
        self.start(&self.config(&list))
            .await
            .expect("server starts")
    }
}

/// Tests of other features must not trip an app's declared limits (QUADRAX allows 5
/// sign-ins per 15 minutes); `rate_limits.rs` tests them. The limiter stays on (every
/// request still counts), with room to spare.
fn roomy_limits(manifest: &std::path::Path) -> Option<RateLimitsConfig> {
    let declared = plinth::apps::read_manifest(manifest).ok()?.rate_limits?;
    let roomy = |l: &Option<plinth_manifest::RateLimit>| {
        l.as_ref().map(|_| LimitConfig {
            max: Some(1_000_000),
            ..Default::default()
        })
    };
    Some(RateLimitsConfig {
        auth: roomy(&declared.auth),
        api: roomy(&declared.api),
        ..Default::default()
    })
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let Some((url, prefix)) = self.pg.take() else {
            return;
        };
        on_admin_thread(url, move |client| async move {
            let rows = client
                .query(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
                    &[&format!("{prefix}%")],
                )
                .await?;
            // Best effort, bounded: a lock held by a stray session must not hang the suite.
            client.batch_execute("SET lock_timeout = '10s'").await?;
            for r in rows {
                let name: String = r.get(0);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                    .await?;
            }
            Ok(())
        });
    }
}

/// A PostgreSQL client on `url` (its connection driven on the current runtime).
pub async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

/// Run `work` with a client on `url`, on a thread with its own runtime, and wait for it:
/// for clean-up in `Drop`, which cannot await. Failures are ignored (best effort).
pub fn on_admin_thread<F, Fut>(url: String, work: F)
where
    F: FnOnce(tokio_postgres::Client) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tokio_postgres::Error>>,
{
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            work(client).await
        })
        .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .join();
}

/// A running server and a client for it. `call` (and get/post/...) sends each app's
/// service token when the test asked for them (`with_service_tokens`), so tests of the generic
/// mechanics pass every access rule; `send` picks the caller explicitly.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Running,
    /// Bearer tokens by path prefix (`/simflow/`), used by `call`.
    pub default_tokens: Vec<(String, String)>,
}

/// A response's status, headers and JSON body (Null when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestApp {
    /// The app served under this name.
    pub fn service(&self, app: &str) -> &std::sync::Arc<plinth_core::AppService> {
        &self
            .running
            .apps
            .iter()
            .find(|(n, _)| n == app)
            .expect("app is served")
            .1
    }

    /// A new service token of `app` with `role` (rules do not apply to it).
    pub async fn service_token(&self, app: &str, role: &str) -> String {
        let svc = self.service(app);
        svc.create_service_token(&svc.system_ctx(), "test", role)
            .await
            .expect("service token")
            .1
    }

    /// Make `call` send a service token of each app (mounted at `/<name>`).
    pub async fn with_service_tokens(mut self) -> Self {
        let names: Vec<String> = self.running.apps.iter().map(|(n, _)| n.clone()).collect();
        for name in names {
            let token = self.service_token(&name, "SERVICE").await;
            self.default_tokens.push((format!("/{name}/"), token));
        }
        self
    }

    /// Make `call` send `token` on `app`'s paths from now on (as that app's frontend would).
    pub fn act_as(&mut self, app: &str, token: &str) {
        let prefix = format!("/{app}/");
        self.default_tokens.retain(|(p, _)| *p != prefix);
        self.default_tokens.push((prefix, token.to_owned()));
    }

    /// A user of `app` with `role` made by the operator path, signed in: (id, access token).
    pub async fn user_token(
        &self,
        app: &str,
        email: &str,
        role: &str,
        fields: Value,
    ) -> (String, String) {
        let svc = self.service(app);
        let mut body = fields;
        body["email"] = Value::String(email.to_owned());
        body["password"] = Value::String("testPassw0rd".to_owned());
        let user = svc
            .create_user(&svc.system_ctx(), &body, role)
            .await
            .expect("user created");
        let signed = svc
            .login(
                &svc.system_ctx(),
                &serde_json::json!({"email": email, "password": "testPassw0rd"}),
            )
            .await
            .expect("signed in");
        (user.id().expect("id").to_owned(), signed.token)
    }

    /// Send a request with an optional JSON body, as the default caller for its path.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(method, path, self.default_token(path), body)
            .await
    }

    /// The token `call` sends on `path`, if any.
    fn default_token(&self, path: &str) -> Option<&str> {
        self.default_tokens
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map(|(_, t)| t.as_str())
    }

    /// Send a request with an optional bearer token and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    /// Send raw bytes with a content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn reply(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// GET with query parameters encoded by the client.
    pub async fn get_with(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let mut req = self.client.get(format!("{}{path}", self.base)).query(query);
        if let Some(t) = self.default_token(path) {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        Self::reply(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    /// `GET path`'s body as text (pages, `/metrics`), whatever its status.
    pub async fn text(&self, path: &str) -> String {
        let r = self.client.get(format!("{}{path}", self.base)).send().await;
        r.expect("sent").text().await.expect("text body")
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Wait for a server already told to shut down.
    pub async fn running_wait(self) {
        self.running.wait().await.expect("clean shutdown");
    }

    /// Stop the server and wait for it to finish.
    pub async fn stop(self) {
        self.running.shutdown();
        self.running.wait().await.expect("clean shutdown");
    }
}

/// Assert the object-style error envelope with `code` and `status`.
pub fn assert_object_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.body["success"], false, "body: {}", r.body);
    assert_eq!(r.body["error"]["code"], code, "body: {}", r.body);
    assert!(r.body["error"]["message"].is_string(), "body: {}", r.body);
    assert!(r.body["error"]["timestamp"].is_string(), "body: {}", r.body);
}

/// The fields an object-style error's `details` names (`fieldErrors`, Zod's flatten
/// shape), in the order found.
pub fn error_fields(r: &Reply) -> Vec<String> {
    r.body["error"]["details"]["fieldErrors"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Assert the string-style error envelope with `code` and `status`.
pub fn assert_string_error(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.body["success"], false, "body: {}", r.body);
    assert!(r.body["error"].is_string(), "body: {}", r.body);
    assert_eq!(r.body["code"], code, "body: {}", r.body);
}

/// Install the npm packages pinned in `tests/<folder>/package-lock.json` (`npm ci`) when
/// their `node_modules` is missing, once per test binary, so the README's `cargo test` runs
/// the browser and TypeScript checks on a fresh clone too. False when it cannot (no `npm`,
/// no registry); the caller then says why it skipped.
pub fn npm_ci(folder: &str) -> bool {
    static DONE: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests")).join(folder);
    let Ok(mut done) = DONE.lock() else {
        return false;
    };
    if let Some((_, ok)) = done.iter().find(|(f, _)| f == folder) {
        return *ok;
    }
    let ok = dir.join("node_modules").is_dir()
        || std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
    done.push((folder.to_owned(), ok));
    ok
}
