//! The two executors behind one face: SQLite and PostgreSQL run the same built statements.

use std::sync::Arc;

use plinth_records::{Record, Shape};
use sea_query::{PostgresQueryBuilder, QueryStatementWriter, SelectStatement, SqliteQueryBuilder};

use crate::postgres::PgDb;
use crate::sqlite::SqliteDb;
use crate::unit::{Counting, StepOut, Total, WriteUnit};
use crate::{DbUrl, Dialect, StoreError};

pub(crate) use crate::unit::Sql;

/// An open database of either kind.
pub(crate) enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Db {
    pub async fn open(url: &DbUrl) -> Result<Self, StoreError> {
        Ok(match url {
            DbUrl::Sqlite(path) => Db::Sqlite(SqliteDb::open(path).await?),
            DbUrl::Postgres { url, schema } => Db::Postgres(PgDb::open(url, schema).await?),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Render a statement for this backend.
    pub fn build(&self, stmt: &impl QueryStatementWriter) -> Sql {
        match self {
            Db::Sqlite(_) => stmt.build(SqliteQueryBuilder),
            Db::Postgres(_) => stmt.build(PostgresQueryBuilder),
        }
    }

    /// Render a SELECT with its LIMIT and OFFSET. SQLite gets them as literals (they are
    /// integers, never client text): a bound LIMIT makes it re-prepare the statement on
    /// every run, since the value may change the plan, which costs more than the query.
    pub fn build_page(&self, mut stmt: SelectStatement, limit: u64, offset: u64) -> Sql {
        match self {
            Db::Sqlite(_) => {
                let (mut sql, values) = stmt.build(SqliteQueryBuilder);
                sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
                (sql, values)
            }
            Db::Postgres(_) => stmt.limit(limit).offset(offset).build(PostgresQueryBuilder),
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => db.ping().await,
            Db::Postgres(db) => db.ping().await,
        }
    }

    /// Rows of a query, decoded by `shape` (in select order).
    pub async fn query(&self, q: Sql, shape: Arc<Shape>) -> Result<Vec<Record>, StoreError> {
        match self {
            Db::Sqlite(db) => db.query(q, shape).await,
            Db::Postgres(db) => db.query(q, shape).await,
        }
    }

    /// Rows of a lookup by primary key (the hottest read; see `SqliteDb::point_read`).
    pub async fn point_read(&self, q: Sql, shape: Arc<Shape>) -> Result<Vec<Record>, StoreError> {
        match self {
            Db::Sqlite(db) => db.point_read(q, shape).await,
            Db::Postgres(db) => db.query(q, shape).await,
        }
    }

    /// A page of rows and the total of all matching rows, read together.
    pub async fn page(
        &self,
        rows: Sql,
        counting: Counting,
        shape: Arc<Shape>,
    ) -> Result<(Vec<Record>, Option<Total>), StoreError> {
        match self {
            Db::Sqlite(db) => db.page(rows, counting, shape).await,
            Db::Postgres(db) => db.page(rows, counting, shape).await,
        }
    }

    /// Apply a write unit atomically; one output per step.
    pub async fn apply(&self, unit: WriteUnit) -> Result<Vec<StepOut>, StoreError> {
        match self {
            Db::Sqlite(db) => db.apply(unit).await,
            Db::Postgres(db) => db.apply(unit).await,
        }
    }
}
