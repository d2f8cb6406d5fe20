//! SQLite executor: a few readers on the blocking pool and one writer thread with group
//! commit (`writer.rs`), on a WAL database (DESIGN.md "Storage and speed").

mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use plinth_manifest::FieldType;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sea_query_rusqlite::RusqliteValue;
use serde_json::Value as J;

use crate::crud::Record;
use crate::executor::Sql;
use crate::table::Column;
use crate::StoreError;

const READERS: usize = 4;

use writer::{WriteOut, Writer};

/// A SQLite database file.
pub(crate) struct SqliteDb {
    writer: Writer,
    readers: Arc<Vec<Mutex<Connection>>>,
    next: AtomicUsize,
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let c = Connection::open(path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
    )?;
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
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

fn decode(row: &rusqlite::Row<'_>, cols: &[Column]) -> rusqlite::Result<Record> {
    let mut rec = Record::with_capacity(cols.len());
    for (i, col) in cols.iter().enumerate() {
        let v = match row.get_ref(i)? {
            ValueRef::Null => J::Null,
            ValueRef::Integer(n) if col.kind == FieldType::Bool => J::Bool(n != 0),
            ValueRef::Integer(n) => J::from(n),
            ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
            ValueRef::Text(t) if col.kind == FieldType::Json => {
                serde_json::from_slice(t).unwrap_or(J::Null)
            }
            ValueRef::Text(t) => J::String(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(_) => J::Null,
        };
        rec.insert(col.name.clone(), v);
    }
    Ok(rec)
}

fn query_on(
    c: &Connection,
    (sql, values): &Sql,
    cols: &[Column],
) -> Result<Vec<Record>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let p = params(values);
    let rows = stmt.query_map(rusqlite::params_from_iter(p.iter()), |r| decode(r, cols))?;
    Ok(rows.collect::<Result<_, _>>()?)
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
            let readers = (0..READERS)
                .map(|_| {
                    let c = connect(&path)?;
                    c.execute_batch("PRAGMA query_only=ON;")?;
                    Ok(Mutex::new(c))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(SqliteDb {
                writer: Writer::spawn(writer)?,
                readers: Arc::new(readers),
                next: AtomicUsize::new(0),
            })
        })
        .await
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.readers.clone();
        let i = self.next.fetch_add(1, Ordering::Relaxed) % readers.len();
        blocking(move || f(&*lock(&readers[i])?)).await
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    pub async fn query(&self, q: Sql, cols: Arc<[Column]>) -> Result<Vec<Record>, StoreError> {
        self.read(move |c| query_on(c, &q, &cols)).await
    }

    pub async fn page(
        &self,
        rows: Sql,
        count: Sql,
        cols: Arc<[Column]>,
    ) -> Result<(Vec<Record>, i64), StoreError> {
        self.read(move |c| {
            let items = query_on(c, &rows, &cols)?;
            let p = params(&count.1);
            let total = c
                .prepare_cached(&count.0)?
                .query_row(rusqlite::params_from_iter(p.iter()), |r| r.get(0))?;
            Ok((items, total))
        })
        .await
    }

    pub async fn write_returning(
        &self,
        q: Sql,
        cols: Arc<[Column]>,
    ) -> Result<Vec<Record>, StoreError> {
        let out = self
            .writer
            .submit(Box::new(move |c| {
                query_on(c, &q, &cols).map(WriteOut::Rows)
            }))
            .await?;
        Ok(match out {
            WriteOut::Rows(rows) => rows,
            _ => Vec::new(),
        })
    }

    pub async fn execute(&self, (sql, values): Sql) -> Result<u64, StoreError> {
        let out = self
            .writer
            .submit(Box::new(move |c| {
                let p = params(&values);
                let n = c
                    .prepare_cached(&sql)?
                    .execute(rusqlite::params_from_iter(p.iter()))?;
                Ok(WriteOut::Count(n as u64))
            }))
            .await?;
        Ok(match out {
            WriteOut::Count(n) => n,
            _ => 0,
        })
    }

    /// Statements applied atomically: the writer runs each job under its own savepoint.
    pub async fn transaction(&self, stmts: Vec<Sql>) -> Result<(), StoreError> {
        self.writer
            .submit(Box::new(move |c| {
                for (sql, values) in &stmts {
                    if values.0.is_empty() {
                        c.execute_batch(sql)?;
                    } else {
                        let p = params(values);
                        c.execute(sql, rusqlite::params_from_iter(p.iter()))?;
                    }
                }
                Ok(WriteOut::Done)
            }))
            .await?;
        Ok(())
    }
}
