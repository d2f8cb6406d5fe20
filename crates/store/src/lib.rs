//! Storage for one app: schema and migrations derived from its manifest, and record
//! reads and writes, on SQLite (embedded default) or PostgreSQL.
//!
//! One query builder (sea-query) writes every statement; two thin executors run them.
//! Identifiers come from a checked manifest and values are always bound as parameters.

mod bind;
mod crud;
mod ddl;
mod error;
mod executor;
mod expand;
mod filter;
mod migrate;
mod postgres;
mod sqlite;
mod table;
mod url;

pub use crud::{Page, Record};
pub use error::StoreError;
pub use migrate::{Migration, MigrationStatus};
pub use url::DbUrl;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use plinth_manifest::Manifest;

use executor::Db;
use table::Table;

/// SQL dialect of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (bundled).
    Sqlite,
    /// PostgreSQL 13+.
    Postgres,
}

/// How to open an app's store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Where the data lives.
    pub url: DbUrl,
    /// Folder of hand-written migrations (`NNNN_name.sql`, optional `NNNN_name.down.sql`).
    pub migrations_dir: Option<PathBuf>,
}

/// An app's open database, shared by all its requests (cheap to clone).
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    manifest: Arc<Manifest>,
    tables: HashMap<String, Table>,
    migrations_dir: Option<PathBuf>,
}

impl Store {
    /// Open (and for SQLite create) the database; does not migrate.
    pub async fn open(manifest: Arc<Manifest>, options: StoreOptions) -> Result<Self, StoreError> {
        let db = Db::open(&options.url).await?;
        let tables: HashMap<String, Table> = manifest
            .collections
            .iter()
            .map(|(name, coll)| {
                let mut t = Table::new(name, coll);
                t.by_id_sql = Store::by_id_sql(&db, &t);
                (name.clone(), t)
            })
            .collect();
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                manifest,
                tables,
                migrations_dir: options.migrations_dir,
            }),
        })
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.db.dialect()
    }

    /// The manifest this store serves.
    pub fn manifest(&self) -> &Arc<Manifest> {
        &self.inner.manifest
    }

    /// Check the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner.db.ping().await
    }

    fn table(&self, collection: &str) -> Result<&Table, StoreError> {
        self.inner
            .tables
            .get(collection)
            .ok_or_else(|| StoreError::UnknownCollection(collection.to_owned()))
    }
}
