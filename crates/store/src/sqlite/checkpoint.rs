//! WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1000 frames,
//! on the connection that committed: here the one writer thread, so every write queued
//! behind that batch waited for the copy into the database file and its fsync (15% of the
//! writer's time in a profile of the workflow-create benchmark). Instead the writer counts
//! the WAL's frames after each commit (SQLite's WAL hook) and nudges a checkpointer thread
//! with its own connection every [`Policy::nudge_every`] new frames; that thread runs a
//! PASSIVE checkpoint, which never blocks the writer or the readers.
//!
//! A checkpoint can only let the WAL start over from its beginning once it has copied every
//! frame, and under a steady stream of commits the background one never quite catches up:
//! the WAL would grow without end. So when it holds [`Policy::catch_up_at`] frames the writer
//! checkpoints itself between two batches: only the frames since the last background pass
//! are left to copy, and the next commit starts the WAL over.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use rusqlite::Connection;

use crate::StoreError;

/// When checkpoints happen, in WAL frames (one frame is one page written by a commit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// Nudge the checkpointer every this many new frames (SQLite's own default threshold).
    pub nudge_every: u32,
    /// The writer checkpoints itself once the WAL holds this many frames.
    pub catch_up_at: u32,
}

impl Default for Policy {
    fn default() -> Self {
        // 16,000 frames of 4 KiB: a WAL of at most about 64 MiB before it starts over.
        Policy {
            nudge_every: 1000,
            catch_up_at: 16_000,
        }
    }
}

/// Checkpoints run so far, by whom (read by tests).
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// PASSIVE checkpoints of the checkpointer thread.
    pub background: AtomicU64,
    /// Catch-up checkpoints run by the writer itself.
    pub caught_up: AtomicU64,
}

thread_local! {
    /// Frames in the WAL after the last commit on this thread's connection, as SQLite's WAL
    /// hook reported them. The hook is a plain function, and the writer's connection lives on
    /// the writer thread, so the thread's own cell is where it can leave the number.
    static WAL_FRAMES: Cell<u32> = const { Cell::new(0) };
}

fn record_frames(_: &rusqlite::hooks::Wal, frames: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.set(u32::try_from(frames).unwrap_or(0));
    Ok(())
}

/// The writer's side: decides after each commit whether a checkpoint is due.
pub(crate) struct Checkpoints {
    policy: Policy,
    nudge: mpsc::SyncSender<()>,
    /// WAL frames at the last nudge (0 after the WAL started over).
    nudged_at: u32,
    /// WAL frames at the writer's last catch-up (0 after the WAL started over): a reader
    /// still on an old snapshot can keep a catch-up from copying everything, and the next
    /// is tried only after more frames, not after every batch.
    caught_up_at: u32,
    pub counts: Arc<Counts>,
}

impl Checkpoints {
    /// Take over checkpointing for the writer connection `writer` (on the writer thread):
    /// its automatic checkpoint is replaced by the WAL hook, and a checkpointer thread runs
    /// on `background`, a second connection to the same file.
    pub fn start(
        writer: &Connection,
        background: Connection,
        policy: Policy,
    ) -> Result<Self, StoreError> {
        // Setting a WAL hook replaces the one behind `wal_autocheckpoint`.
        writer.wal_hook(Some(record_frames));
        let (nudge, nudged) = mpsc::sync_channel(1);
        let counts = Arc::new(Counts::default());
        let seen = counts.clone();
        thread::Builder::new()
            .name("plinth-sqlite-checkpoint".into())
            .spawn(move || run(&background, &nudged, &seen))
            .map_err(|e| {
                StoreError::Database(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpoints {
            policy,
            nudge,
            nudged_at: 0,
            caught_up_at: 0,
            counts,
        })
    }

    /// After a commit on `writer` (on the writer thread): nudge the checkpointer, or catch
    /// up here when the WAL has grown too long.
    pub fn after_commit(&mut self, writer: &Connection) {
        let frames = WAL_FRAMES.get();
        if frames < self.nudged_at.max(self.caught_up_at) {
            // The WAL started over.
            self.nudged_at = 0;
            self.caught_up_at = 0;
        }
        if frames >= self.policy.catch_up_at
            && frames >= self.caught_up_at + self.policy.nudge_every
        {
            // BUSY when the checkpointer is copying right now: try again after the next batch.
            if passive(writer).is_ok_and(|done| done) {
                self.caught_up_at = frames;
                self.counts.caught_up.fetch_add(1, Ordering::Relaxed);
            }
        } else if frames >= self.nudged_at + self.policy.nudge_every {
            self.nudged_at = frames;
            // A full channel means a nudge is already waiting: one pass serves both.
            let _ = self.nudge.try_send(());
        }
    }
}

/// One PASSIVE checkpoint; whether it ran (false: another checkpoint held the lock).
fn passive(c: &Connection) -> rusqlite::Result<bool> {
    let busy: i64 = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

/// The checkpointer thread: a PASSIVE checkpoint per nudge, until the writer is gone.
fn run(c: &Connection, nudged: &mpsc::Receiver<()>, counts: &Counts) {
    while nudged.recv().is_ok() {
        match passive(c) {
            Ok(true) => {
                counts.background.fetch_add(1, Ordering::Relaxed);
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::sqlite::connect;
    use crate::sqlite::writer::Writer;
    use crate::unit::StepOut;

    /// A writer on a new WAL database `path` (one table `t`), its WAL checkpointed by a
    /// checkpointer on `background`.
    fn writer(path: &Path, background: &Path, policy: Policy) -> (Writer, Arc<Counts>) {
        let c = connect(path).expect("open");
        c.execute_batch("CREATE TABLE t (n INTEGER NOT NULL, pad TEXT NOT NULL)")
            .expect("table");
        let checkpoints = Checkpoints::start(&c, connect(background).expect("open"), policy)
            .expect("checkpointer");
        let counts = checkpoints.counts.clone();
        (Writer::spawn(c, Some(checkpoints)).expect("writer"), counts)
    }

    /// `n` writes one after the other, each its own commit of a row filling most of a page.
    async fn write(w: &Writer, n: i64) {
        for i in 0..n {
            w.submit(Box::new(move |c| {
                c.execute("INSERT INTO t VALUES (?1, ?2)", (i, "x".repeat(3000)))?;
                Ok(vec![StepOut::Count(1)])
            }))
            .await
            .expect("write");
        }
    }

    /// The rows of `t`, read by a new connection.
    fn rows(path: &Path) -> i64 {
        connect(path)
            .expect("open")
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count")
    }

    fn wal_len(path: &Path) -> u64 {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn the_checkpointer_copies_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("a.db");
        let policy = Policy {
            nudge_every: 8,
            catch_up_at: u32::MAX,
        };
        let (w, counts) = writer(&db, &db, policy);
        // Until a checkpoint, the rows are in the WAL only.
        let file_len = || std::fs::metadata(&db).expect("file").len();
        assert!(file_len() <= 4096, "only the header page is in the file");
        write(&w, 40).await;
        // The last nudge came at most 8 frames before the end: all but the last few rows
        // (one page each) are copied, in the background.
        let deadline = Instant::now() + Duration::from_secs(10);
        while file_len() < 30 * 3000 {
            assert!(
                Instant::now() < deadline,
                "the rows were not copied into the file"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(counts.background.load(Ordering::Relaxed) >= 1);
        assert_eq!(counts.caught_up.load(Ordering::Relaxed), 0);
        assert_eq!(rows(&db), 40);
    }

    #[tokio::test]
    async fn the_writer_catches_up_so_the_wal_starts_over() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("a.db");
        // The checkpointer works on another file, so only the writer's catch-up can
        // checkpoint this one: without it 400 commits leave 400 frames and more.
        let policy = Policy {
            nudge_every: 8,
            catch_up_at: 32,
        };
        let (w, counts) = writer(&db, &dir.path().join("other.db"), policy);
        write(&w, 400).await;
        assert!(counts.caught_up.load(Ordering::Relaxed) >= 10);
        // A frame is a 4 KiB page and a 24-byte header; a commit here writes a few.
        let most = 32 + 8 + 8;
        assert!(
            wal_len(&db) <= 32 + most * (4096 + 24),
            "the WAL grew to {} bytes",
            wal_len(&db)
        );
        assert_eq!(rows(&db), 400);
    }
}
