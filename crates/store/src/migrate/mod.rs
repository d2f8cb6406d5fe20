//! Versioned migrations, planned from the difference between the manifest last applied
//! (kept in the database) and the manifest now.
//!
//! Additive changes (new collections, fields, indexes) are applied automatically.
//! Destructive ones (dropping or retyping data) are refused unless a hand-written
//! migration in the app's `migrations/` folder is pending, which then runs first.

use std::collections::HashSet;

use chrono::Utc;
use indexmap::IndexMap;
use plinth_manifest::{Collection, FieldType};
use plinth_records::format_timestamp;
use sea_query::{Alias, Expr, ExprTrait, Order, Query};

use plinth_context::Ctx;
use plinth_records::Shape;

use crate::executor::Db;
use crate::unit::{Step, WriteUnit};
use crate::{Store, StoreError};

mod files;
mod plan;

use files::{read_explicit, Explicit};
use plan::plan;

/// Collections by name: what a migration takes the database to.
pub type Schema = IndexMap<String, Collection>;

pub(crate) const TABLE: &str = "_plinth_migrations";
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _plinth_migrations (version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL, up_sql TEXT NOT NULL, down_sql TEXT NOT NULL, snapshot TEXT NOT NULL)";

/// One applied migration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    /// Sequence number, from 1.
    pub version: i64,
    /// `auto` for planned ones, the file stem for hand-written ones.
    pub name: String,
    /// When it ran (RFC 3339).
    pub applied_at: String,
}

/// What is applied and what `migrate up` would do.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MigrationStatus {
    /// Applied migrations, oldest first.
    pub applied: Vec<Migration>,
    /// Hand-written migrations not yet applied.
    pub pending_files: Vec<String>,
    /// Additive changes `up` would make.
    pub pending_changes: Vec<String>,
    /// Changes that need a hand-written migration.
    pub destructive: Vec<String>,
}

struct AppliedRow {
    version: i64,
    name: String,
    applied_at: String,
    down: Vec<String>,
    snapshot: String,
}

impl Store {
    async fn applied_rows(&self) -> Result<Vec<AppliedRow>, StoreError> {
        let db = &self.inner.db;
        let mut unit = WriteUnit::new();
        unit.push(Step::script(CREATE_TABLE.to_owned()));
        db.apply(unit).await?;
        let names = ["version", "name", "applied_at", "down_sql", "snapshot"];
        let mut q = Query::select();
        q.columns(names.map(Alias::new))
            .from(Alias::new(TABLE))
            .order_by(Alias::new("version"), Order::Asc);
        let shape = Shape::plain(&names.map(|n| {
            let kind = if n == "version" {
                FieldType::Int
            } else {
                FieldType::Text
            };
            (n, kind)
        }));
        let rows = db.query(db.build(&q), shape.into()).await?;
        let text = |r: &plinth_records::Record, k: &str| {
            r.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(rows
            .iter()
            .map(|r| AppliedRow {
                version: r
                    .get("version")
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default(),
                name: text(r, "name"),
                applied_at: text(r, "applied_at"),
                down: serde_json::from_str(&text(r, "down_sql")).unwrap_or_default(),
                snapshot: text(r, "snapshot"),
            })
            .collect())
    }

    fn snapshot_of(rows: &[AppliedRow]) -> Result<Schema, StoreError> {
        match rows.last() {
            None => Ok(Schema::new()),
            Some(r) => serde_json::from_str(&r.snapshot).map_err(|e| {
                StoreError::Migration(format!("stored schema snapshot unreadable: {e}"))
            }),
        }
    }

    fn record_row(
        &self,
        version: i64,
        name: &str,
        up: &[String],
        down: &[String],
        snapshot: &Schema,
    ) -> Result<Step, StoreError> {
        let json =
            |v: serde_json::Result<String>| v.map_err(|e| StoreError::Migration(e.to_string()));
        let mut q = Query::insert();
        q.into_table(Alias::new(TABLE))
            .columns(
                [
                    "version",
                    "name",
                    "applied_at",
                    "up_sql",
                    "down_sql",
                    "snapshot",
                ]
                .map(Alias::new),
            )
            .values([
                Expr::val(version),
                Expr::val(name),
                Expr::val(format_timestamp(&Utc::now())),
                Expr::val(json(serde_json::to_string(up))?),
                Expr::val(json(serde_json::to_string(down))?),
                Expr::val(json(serde_json::to_string(snapshot))?),
            ])
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Step::new(self.inner.db.build(&q), crate::Expect::Any, None))
    }

    /// Bring the database up to `current`; the names of the migrations applied.
    ///
    /// On PostgreSQL, nodes starting together take turns (an advisory lock per schema), so
    /// the later ones find the work done. SQLite has one writer and needs no lock.
    pub async fn migrate_up(&self, ctx: &Ctx, current: &Schema) -> Result<Vec<String>, StoreError> {
        let lock = self.lock_migrations().await?;
        tracing::debug!(request_id = %ctx.request_id, "migrating");
        let mut applied = self.try_migrate_up(current).await;
        if applied.is_ok() && self.dialect() == crate::Dialect::Postgres {
            if let Err(e) = self.install_dedupe_guards().await {
                applied = Err(e);
            }
        }
        if let Some(lock) = lock {
            lock.release().await;
        }
        applied
    }

    async fn try_migrate_up(&self, current: &Schema) -> Result<Vec<String>, StoreError> {
        let rows = self.applied_rows().await?;
        let old = Self::snapshot_of(&rows)?;
        let applied: HashSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let pending: Vec<Explicit> = read_explicit(self.inner.migrations_dir.as_deref())?
            .into_iter()
            .filter(|e| !applied.contains(e.name.as_str()))
            .collect();
        let p = plan(&old, current, self.dialect());
        if !p.destructive.is_empty() && pending.is_empty() {
            return Err(StoreError::Destructive(p.destructive));
        }
        let mut version = rows.last().map_or(0, |r| r.version);
        let mut stmts = WriteUnit::new();
        let mut names = Vec::new();
        for (i, e) in pending.iter().enumerate() {
            version += 1;
            let last = i + 1 == pending.len() && p.up.is_empty();
            let snapshot = if last { current } else { &old };
            // The first file carries what must run before any hand-written SQL, and
            // undoes it after its own down script (when it has one).
            let (pre, pre_down): (&[String], &[String]) = match i {
                0 => (&p.before, &p.before_down),
                _ => (&[], &[]),
            };
            let mut up = pre.to_vec();
            up.push(e.up.clone());
            for s in &up {
                stmts.push(Step::script(s.clone()));
            }
            let mut down: Vec<String> = e.down.iter().cloned().collect();
            if !down.is_empty() {
                down.extend_from_slice(pre_down);
            }
            stmts.push(self.record_row(version, &e.name, &up, &down, snapshot)?);
            names.push(e.name.clone());
        }
        if !p.up.is_empty() {
            version += 1;
            for s in &p.up {
                stmts.push(Step::script(s.clone()));
            }
            stmts.push(self.record_row(version, "auto", &p.up, &p.down, current)?);
            names.push(format!("auto ({})", p.changes.join(", ")));
        }
        if !stmts.is_empty() {
            self.inner.db.apply(stmts).await?;
        }
        Ok(names)
    }

    /// Roll back the last migration; its name.
    pub async fn migrate_down(&self, ctx: &Ctx) -> Result<String, StoreError> {
        let lock = self.lock_migrations().await?;
        tracing::debug!(request_id = %ctx.request_id, "rolling back a migration");
        let done = self.try_migrate_down().await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        done
    }

    /// On PostgreSQL, the per-schema advisory lock every migration step holds (nodes and
    /// CLI runs take turns); SQLite's single writer needs none.
    async fn lock_migrations(&self) -> Result<Option<crate::postgres::MigrationLock>, StoreError> {
        Ok(match &self.inner.db {
            Db::Postgres(pg) => Some(pg.lock_migrations().await?),
            Db::Sqlite(_) => None,
        })
    }

    async fn try_migrate_down(&self) -> Result<String, StoreError> {
        let rows = self.applied_rows().await?;
        let last = rows
            .last()
            .ok_or_else(|| StoreError::Migration("no migration to roll back".into()))?;
        if last.down.is_empty() {
            return Err(StoreError::Migration(format!(
                "migration {} `{}` has no down script",
                last.version, last.name
            )));
        }
        let mut unit = WriteUnit::new();
        for s in &last.down {
            unit.push(Step::script(s.clone()));
        }
        let mut q = Query::delete();
        q.from_table(Alias::new(TABLE))
            .and_where(Expr::col(Alias::new("version")).eq(last.version));
        unit.push(Step::new(self.inner.db.build(&q), crate::Expect::Any, None));
        self.inner.db.apply(unit).await?;
        Ok(format!("{} {}", last.version, last.name))
    }

    /// What is applied and what `migrate_up(current)` would do.
    pub async fn migration_status(
        &self,
        ctx: &Ctx,
        current: &Schema,
    ) -> Result<MigrationStatus, StoreError> {
        // Reading creates the history table when missing: take turns like the others.
        let lock = self.lock_migrations().await?;
        tracing::debug!(request_id = %ctx.request_id, "reading migration status");
        let rows = self.applied_rows().await;
        if let Some(lock) = lock {
            lock.release().await;
        }
        let rows = rows?;
        let old = Self::snapshot_of(&rows)?;
        let applied_names: HashSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let pending_files = read_explicit(self.inner.migrations_dir.as_deref())?
            .into_iter()
            .filter(|e| !applied_names.contains(e.name.as_str()))
            .map(|e| e.name)
            .collect();
        let p = plan(&old, current, self.dialect());
        Ok(MigrationStatus {
            applied: rows
                .iter()
                .map(|r| Migration {
                    version: r.version,
                    name: r.name.clone(),
                    applied_at: r.applied_at.clone(),
                })
                .collect(),
            pending_files,
            pending_changes: p.changes,
            destructive: p.destructive,
        })
    }
}
