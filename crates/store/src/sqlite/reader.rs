//! A reader connection and the totals it has counted. Counting every row a filter matches
//! is most of what a page of 20 costs on a large table, and the answer cannot change until
//! someone commits, so each reader keeps its counts until SQLite's `data_version` moves
//! (it does on every commit by another connection: this process's writer, or another
//! process on the same file). Exact, never stale.

use std::collections::HashMap;

use rusqlite::Connection;

use super::params;
use crate::unit::Sql;
use crate::StoreError;

/// More distinct counts than this and the cache starts over (it only saves work).
const MAX_COUNTS: usize = 1024;

/// One read-only connection with its counts.
pub(crate) struct Reader {
    /// The connection (`query_only`).
    pub conn: Connection,
    /// Counts by SQL text and parameters, valid for `version`.
    counts: HashMap<String, i64>,
    /// The `data_version` the counts were taken at.
    version: i64,
}

impl Reader {
    /// A reader on `conn`, with no counts yet.
    pub fn new(conn: Connection) -> Self {
        Reader {
            conn,
            counts: HashMap::new(),
            version: i64::MIN,
        }
    }

    /// `SELECT COUNT(*) ...` with its parameters: counted again only after a commit.
    pub fn count(&mut self, (sql, values): &Sql) -> Result<i64, StoreError> {
        let version: i64 = self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if version != self.version || self.counts.len() >= MAX_COUNTS {
            self.counts.clear();
            self.version = version;
        }
        let key = format!("{sql}\u{0}{values:?}");
        if let Some(n) = self.counts.get(&key) {
            return Ok(*n);
        }
        let p = params(values);
        let n: i64 = self
            .conn
            .prepare_cached(sql)?
            .query_row(rusqlite::params_from_iter(p.iter()), |r| r.get(0))?;
        self.counts.insert(key, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_until_another_connection_commits() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).expect("writer");
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE t (k TEXT); INSERT INTO t VALUES ('a');",
            )
            .expect("schema");
        let mut reader = Reader::new(Connection::open(&path).expect("reader"));
        let q: Sql = (
            "SELECT COUNT(*) FROM t WHERE k = ?".into(),
            sea_query::Values(vec!["a".into()]),
        );
        assert_eq!(reader.count(&q).expect("count"), 1);
        // Served from the cache: the reader's own view has not moved.
        assert_eq!(reader.counts.len(), 1);
        assert_eq!(reader.count(&q).expect("count"), 1);
        writer
            .execute("INSERT INTO t VALUES ('a')", [])
            .expect("insert");
        assert_eq!(reader.count(&q).expect("counted again"), 2);
        let other: Sql = (
            "SELECT COUNT(*) FROM t WHERE k = ?".into(),
            sea_query::Values(vec!["b".into()]),
        );
        assert_eq!(
            reader.count(&other).expect("count"),
            0,
            "parameters are part of the key"
        );
    }
}
