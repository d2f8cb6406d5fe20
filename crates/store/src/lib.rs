//! Storage for one app: schema and migrations derived from its manifest, and record
//! reads and writes, on SQLite (embedded default) or PostgreSQL.
//!
//! One query builder (sea-query) writes every statement; two thin executors run them.
//! Identifiers come from a checked manifest and values are always bound as parameters.

mod aggregate;
mod bind;
mod crud;
mod ddl;
mod dedupe;
mod enum_check;
mod error;
mod executor;
mod expand;
mod filter;
mod from_record;
mod migrate;
mod notify;
mod pg_admin;
mod pg_merge;
mod postgres;
mod queue;
mod sqlite;
mod statements;
mod table;
mod unit;
mod url;

pub use aggregate::{AggregateQuery, MeasureQuery};
pub use crud::Page;
pub use dedupe::RecentEqual;
pub use error::StoreError;
pub use migrate::{Migration, MigrationStatus, Schema};
pub use notify::Heard;
pub use pg_admin::{libpq_env, PgAdmin};
pub use queue::Claim;
pub use sqlite::no_checkpoint_on_close;
pub use sqlite::snapshot::{
    sqlite_check, sqlite_in_use, sqlite_migration_version, sqlite_snapshot,
};
pub use table::Table;
pub use unit::{Expect, Miss, Step, StepOut, Total, WriteUnit};
pub use url::DbUrl;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use plinth_manifest::Manifest;

use executor::Db;

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

/// An app's open database, shared by all its requests (cheap to clone). It knows the
/// tables of the manifest it was opened with, not the manifest itself: the app service
/// owns that.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    tables: HashMap<String, Arc<Table>>,
    migrations_dir: Option<PathBuf>,
}

impl Store {
    /// Open (and for SQLite create) the database for `manifest`'s collections; does not
    /// migrate.
    pub async fn open(manifest: &Manifest, options: StoreOptions) -> Result<Self, StoreError> {
        let db = Db::open(&options.url).await?;
        let tables = manifest
            .collections
            .iter()
            .map(|(name, coll)| {
                let mut t = Table::new(manifest, name, coll);
                t.by_id_sql = Store::by_id_sql(&db, &t);
                if db.dialect() == Dialect::Postgres {
                    t.dedupe_guard = dedupe::Guard::of(name, coll);
                }
                (name.clone(), Arc::new(t))
            })
            .collect();
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                tables,
                migrations_dir: options.migrations_dir,
            }),
        })
    }

    /// The backend's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.db.dialect()
    }

    /// Check the database answers (for `/ready`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner.db.ping().await
    }

    /// The table of a collection, resolved once and held by callers.
    pub fn table(&self, collection: &str) -> Option<&Arc<Table>> {
        self.inner.tables.get(collection)
    }
}
