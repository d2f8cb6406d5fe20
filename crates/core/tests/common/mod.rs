//! What the core's integration tests share: a fresh database per test.

use std::sync::Arc;

use plinth_core::AppService;
use plinth_store::{DbUrl, StoreOptions};
use secrecy::SecretString;
use uuid::Uuid;

/// A fresh database: a temp SQLite file, or a fresh PostgreSQL schema (dropped after).
pub struct Fresh {
    url: DbUrl,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Fresh {
    /// A fresh database; None (with a note) for PostgreSQL when no URL is set.
    pub fn new(postgres: bool) -> Option<Fresh> {
        let dir = tempfile::tempdir().expect("temp dir");
        if !postgres {
            let url = SecretString::from(format!("sqlite://{}", dir.path().join("u.db").display()));
            return Some(Fresh {
                url: DbUrl::parse(&url, "units").expect("url"),
                _dir: dir,
                pg: None,
            });
        }
        let base = match std::env::var("TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    std::env::var("TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
                );
                eprintln!("note: PostgreSQL test skipped (set TEST_DATABASE_URL to run it)");
                return None;
            }
        };
        let schema = format!("u{}", Uuid::new_v4().simple());
        Some(Fresh {
            url: DbUrl::parse(&SecretString::from(base.clone()), &schema).expect("url"),
            _dir: dir,
            pg: Some((base, schema)),
        })
    }

    /// The app of `manifest` on this database, migrated.
    pub async fn app(&self, manifest: &str) -> AppService {
        let manifest = Arc::new(plinth_manifest::parse(manifest).expect("manifest"));
        let app = AppService::open(
            manifest,
            StoreOptions {
                url: self.url.clone(),
                migrations_dir: None,
            },
        )
        .await
        .expect("open");
        app.migrate_up(&app.system_ctx()).await.expect("migrate");
        app
    }

    /// PostgreSQL: a session of its own (to the app, another client) and the app's schema.
    pub async fn session(&self) -> Option<(tokio_postgres::Client, &str)> {
        let (url, schema) = self.pg.as_ref()?;
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        Some((client, schema.as_str()))
    }

    /// Drop the PostgreSQL schema (nothing for SQLite, whose folder goes with `self`).
    pub async fn drop_schema(&self) {
        if let Some((client, schema)) = self.session().await {
            client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await
                .expect("drop schema");
        }
    }
}
