//! What `plinth backup` and `plinth restore` need of a SQLite file: a consistent copy taken
//! while a server writes to it, whether a server has it open, and its migration version.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{configure, no_checkpoint_on_close};
use crate::StoreError;

/// How long a copy waits for the source to let it read (the same as our busy timeout).
const BUSY_FOR: Duration = Duration::from_secs(5);

/// Open an existing database file, never creating one (a typo must not back up an empty
/// database made on the spot).
fn open_existing(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))
}

/// Copy the database at `source` into the new file `dest` with SQLite's online backup API,
/// while other processes may be writing to it; returns the copy's migration version.
///
/// The copy is one backup step over every page: one read transaction, so one consistent
/// state of the database. In WAL mode a reader does not block writers, so a server goes on
/// committing meanwhile. (Copying a few pages per step would let those commits in between
/// steps, and SQLite restarts a backup whose source another connection changed: under
/// steady writes a stepped copy might never finish.) The copy is then switched out of WAL
/// mode, so it is one self-contained file, and checked.
pub fn sqlite_snapshot(source: &Path, dest: &Path) -> Result<Option<i64>, StoreError> {
    if !source.is_file() {
        return Err(StoreError::Unavailable(format!(
            "no database at {}",
            source.display()
        )));
    }
    if dest.exists() {
        return Err(StoreError::Config(format!(
            "{} exists already",
            dest.display()
        )));
    }
    let src = open_existing(source)?;
    configure(&src)?;
    let mut dst = Connection::open(dest).map_err(|e| StoreError::Unavailable(format!("{e}")))?;
    no_checkpoint_on_close(&dst)?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        let deadline = Instant::now() + BUSY_FOR;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                StepResult::Busy | StepResult::Locked => {
                    return Err(StoreError::Unavailable(format!(
                        "{} stayed locked for {} s",
                        source.display(),
                        BUSY_FOR.as_secs()
                    )));
                }
                // Not expected of a step over every page; stepping on is harmless.
                _ => {}
            }
        }
    }
    // The copy's header says WAL, like its source; a backup is better one file.
    let _mode: String = dst.query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
    let version = migration_version_on(&dst)?;
    drop(dst);
    sqlite_check(dest)?;
    Ok(version)
}

/// Check that the file at `path` is a sound SQLite database (`PRAGMA quick_check`).
pub fn sqlite_check(path: &Path) -> Result<(), StoreError> {
    let c = open_existing(path)?;
    no_checkpoint_on_close(&c)?;
    let check: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check == "ok" {
        Ok(())
    } else {
        Err(StoreError::Database(format!(
            "{} fails SQLite's check: {check}",
            path.display()
        )))
    }
}

/// The version of the last migration applied to the SQLite database at `path` (None
/// before the first one).
pub fn sqlite_migration_version(path: &Path) -> Result<Option<i64>, StoreError> {
    let c = open_existing(path)?;
    no_checkpoint_on_close(&c)?;
    migration_version_on(&c)
}

fn migration_version_on(c: &Connection) -> Result<Option<i64>, StoreError> {
    let tracked: i64 = c.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [crate::migrate::TABLE],
        |r| r.get(0),
    )?;
    if tracked == 0 {
        return Ok(None);
    }
    let sql = format!("SELECT max(version) FROM {}", crate::migrate::TABLE);
    Ok(c.query_row(&sql, [], |r| r.get(0))?)
}

/// Whether another process has the SQLite database at `path` open, as a running server
/// does: asks for the exclusive lock a connection in exclusive locking mode takes on its
/// first read, which SQLite refuses while any other connection holds the file.
pub fn sqlite_in_use(path: &Path) -> Result<bool, StoreError> {
    let c = open_existing(path)?;
    no_checkpoint_on_close(&c)?;
    c.busy_timeout(Duration::from_millis(200))?;
    c.execute_batch("PRAGMA locking_mode=EXCLUSIVE;")?;
    match c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(false),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Ok(true)
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(path: &Path) -> Connection {
        let c = Connection::open(path).expect("open");
        configure(&c).expect("configure");
        c.execute_batch("CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2);")
            .expect("fill");
        c
    }

    #[test]
    fn a_snapshot_is_one_file_with_the_committed_rows() {
        let dir = tempfile::tempdir().expect("tmp");
        let (src, dest) = (dir.path().join("a.db"), dir.path().join("copy.db"));
        let c = live(&src);
        sqlite_snapshot(&src, &dest).expect("copied");
        c.execute_batch("INSERT INTO t VALUES (3)")
            .expect("write after");
        assert!(
            !dir.path().join("copy.db-wal").exists(),
            "no WAL beside the copy"
        );
        let copy = Connection::open(&dest).expect("open copy");
        no_checkpoint_on_close(&copy).expect("config");
        let n: i64 = copy
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 2);
        assert_eq!(sqlite_migration_version(&dest).expect("version"), None);
        assert!(sqlite_snapshot(&src, &dest).is_err(), "never overwrites");
        let missing = dir.path().join("missing.db");
        assert!(sqlite_snapshot(&missing, &dir.path().join("x.db")).is_err());
        assert!(!missing.exists(), "a missing source is not created");
    }

    #[test]
    fn an_open_database_is_in_use() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("a.db");
        let c = live(&path);
        assert!(sqlite_in_use(&path).expect("probe"), "held by `c`");
        drop(c);
        assert!(!sqlite_in_use(&path).expect("probe"), "nobody holds it");
    }
}
