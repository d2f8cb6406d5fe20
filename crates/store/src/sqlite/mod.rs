//! SQLite executor: a few readers on the blocking pool and one writer thread with group
//! commit (`writer.rs`), on a WAL database (DESIGN.md "Storage and speed").

mod checkpoint;
mod reader;
pub(crate) mod snapshot;
mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use plinth_manifest::FieldType;
use plinth_records::{Record, Shape};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sea_query_rusqlite::RusqliteValue;
use serde_json::Value as J;

use crate::unit::Sql;
use crate::unit::{check, Counting, StepOut, Total, WriteUnit};
use crate::StoreError;

const READERS: usize = 4;

use checkpoint::Checkpoints;
use reader::Reader;
use writer::Writer;

/// A SQLite database file.
pub(crate) struct SqliteDb {
    /// The database file.
    path: std::path::PathBuf,
    writer: Writer,
    readers: Arc<Vec<Mutex<Reader>>>,
    next: AtomicUsize,
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open(path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    configure(&c)?;
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
}

/// The settings every connection of ours runs with (WAL, a busy timeout, foreign keys, no
/// checkpoint on close).
fn configure(c: &Connection) -> Result<(), StoreError> {
    no_checkpoint_on_close(c)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY;",
    )?;
    Ok(())
}

/// Close without the checkpoint SQLite runs when the last connection to a WAL database
/// closes. That checkpoint takes the file's EXCLUSIVE lock, and in SQLite 3.51 the unix VFS
/// then takes its global mutex while holding the file's own: a thread of the same process
/// opening the same file at that moment takes them in the other order, and both hang
/// (seen as test runs stuck in `sqlite3WalClose` against `findReusableFd`). The WAL is
/// checkpointed as it grows anyway; one left at close is read back at the next open.
pub fn no_checkpoint_on_close(c: &Connection) -> rusqlite::Result<()> {
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .map(|_| ())
}

fn params(values: &sea_query::Values) -> Vec<RusqliteValue> {
    values.0.iter().cloned().map(RusqliteValue).collect()
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, StoreError> {
    m.lock()
        .map_err(|_| StoreError::Database("connection lock poisoned".into()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Database(format!("blocking task failed: {e}")))?
}

/// A stored value the column's type cannot hold: a fault of the data, not of the client.
fn corrupt(column: &str, what: &str) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(format!("column `{column}` holds {what}").into())
}

fn decode(row: &rusqlite::Row<'_>, shape: &Arc<Shape>) -> rusqlite::Result<Record> {
    let mut values = Vec::with_capacity(shape.columns.len());
    for (i, col) in shape.columns.iter().enumerate() {
        let v = match row.get_ref(i)? {
            ValueRef::Null => J::Null,
            ValueRef::Integer(n) if col.kind == FieldType::Bool => J::Bool(n != 0),
            ValueRef::Integer(n) => J::from(n),
            ValueRef::Real(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .ok_or_else(|| corrupt(&col.name, "a non-finite number"))?,
            ValueRef::Text(t) if col.kind == FieldType::Json => {
                serde_json::from_slice(t).map_err(|_| corrupt(&col.name, "unreadable JSON"))?
            }
            ValueRef::Text(t) => J::String(
                std::str::from_utf8(t)
                    .map_err(|_| corrupt(&col.name, "text that is not UTF-8"))?
                    .to_owned(),
            ),
            ValueRef::Blob(_) => return Err(corrupt(&col.name, "a blob")),
        };
        values.push(v);
    }
    Ok(Record::new(shape.clone(), values))
}

fn query_on(
    c: &Connection,
    (sql, values): &Sql,
    shape: &Arc<Shape>,
) -> Result<Vec<Record>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let p = params(values);
    let rows = stmt.query_map(rusqlite::params_from_iter(p.iter()), |r| decode(r, shape))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Run a unit's steps on the writer connection (already inside the unit's savepoint).
fn apply_on(c: &Connection, unit: &WriteUnit) -> Result<Vec<StepOut>, StoreError> {
    let mut outs = Vec::with_capacity(unit.steps.len());
    for step in &unit.steps {
        let out = if step.script {
            c.execute_batch(&step.sql.0)?;
            StepOut::Count(0)
        } else if let Some(shape) = &step.returning {
            StepOut::Rows(query_on(c, &step.sql, shape)?)
        } else {
            let p = params(&step.sql.1);
            let n = c
                .prepare_cached(&step.sql.0)?
                .execute(rusqlite::params_from_iter(p.iter()))?;
            StepOut::Count(n as u64)
        };
        check(step, &out)?;
        outs.push(out);
    }
    Ok(outs)
}

impl SqliteDb {
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        blocking(move || {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
            }
            let writer = connect(&path)?;
            let checkpoints =
                Checkpoints::start(&writer, connect(&path)?, checkpoint::Policy::default())?;
            let readers = (0..READERS)
                .map(|_| {
                    let c = connect(&path)?;
                    c.execute_batch("PRAGMA query_only=ON;")?;
                    Ok(Mutex::new(Reader::new(c)))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(SqliteDb {
                path: path.clone(),
                writer: Writer::spawn(writer, Some(checkpoints))?,
                readers: Arc::new(readers),
                next: AtomicUsize::new(0),
            })
        })
        .await
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % readers.len();
        blocking(move || f(&mut *lock(&readers[i])?)).await
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|r| Ok(r.conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    pub async fn query(&self, q: Sql, shape: Arc<Shape>) -> Result<Vec<Record>, StoreError> {
        self.read(move |r| query_on(&r.conn, &q, &shape)).await
    }

    /// Run a short read right here on a free reader instead of paying two thread hand-offs
    /// through the blocking pool (which cost more than a point read or a page of 20);
    /// when every reader is busy it queues on the pool like any other read.
    async fn read_now<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for k in 0..self.readers.len() {
            if let Ok(mut r) = self.readers[(start + k) % self.readers.len()].try_lock() {
                return f(&mut r);
            }
        }
        self.read(f).await
    }

    /// A read by key (a few microseconds of SQLite work), run at once.
    pub async fn point_read(&self, q: Sql, shape: Arc<Shape>) -> Result<Vec<Record>, StoreError> {
        self.read_now(move |r| query_on(&r.conn, &q, &shape)).await
    }

    /// A page and its count, read on one connection. SQLite has no cheap estimate, so an
    /// estimated total is counted too (the reader keeps counts until the next commit).
    pub async fn page(
        &self,
        rows: Sql,
        counting: Counting,
        shape: Arc<Shape>,
    ) -> Result<(Vec<Record>, Option<Total>), StoreError> {
        self.read_now(move |r| {
            let items = query_on(&r.conn, &rows, &shape)?;
            let count = match &counting {
                Counting::Skip => return Ok((items, None)),
                Counting::Exact(sql) | Counting::Estimate { exact: sql, .. } => sql,
            };
            let n = r.count(count)?;
            Ok((
                items,
                Some(Total {
                    count: u64::try_from(n).unwrap_or_default(),
                    estimated: false,
                }),
            ))
        })
        .await
    }

    /// A unit goes to the group-commit writer as one job: it runs under its own savepoint
    /// inside the batch transaction, so it commits whole or not at all.
    pub async fn apply(&self, unit: WriteUnit) -> Result<Vec<StepOut>, StoreError> {
        self.writer
            .submit(Box::new(move |c| apply_on(c, &unit)))
            .await
    }
}
