//! Group commit for SQLite's single writer.
//!
//! Every write goes to one thread that owns the write connection. It takes the first
//! waiting write and everything queued behind it (up to [`MAX_BATCH`]), runs them in one
//! transaction, commits once, and only then answers each caller with its own result. When a
//! write fails, the batch is rolled back and run again with a savepoint per write: the
//! failing one gets its own error, the others still commit. One commit per batch instead
//! of per write is what lets
//! concurrent creates pass the one-transaction-per-insert floor (DESIGN.md). While writes
//! arrive concurrently, a small batch waits a little for more ([`gather`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint::Checkpoints;
use crate::unit::StepOut;
use crate::StoreError;

/// Largest number of writes committed together.
const MAX_BATCH: usize = 128;

/// A batch smaller than this waits for more writes while they arrive concurrently
/// ([`gather`]).
const GATHER_BELOW: usize = 16;

/// The longest a batch waits for company.
const MAX_GATHER: Duration = Duration::from_millis(1);

/// Histogram of writes per commit (1 means no sharing).
const BATCH_METRIC: &str = "plinth_sqlite_commit_batch_size";

/// What a write produced: one output per step of its unit.
pub(crate) type WriteOut = Vec<StepOut>;

/// One write, run on the writer thread inside the batch transaction. `Fn`, not `FnOnce`:
/// a batch that fails is run again, write by write (`commit_batch`).
pub(crate) type WriteJob = Box<dyn Fn(&Connection) -> Result<WriteOut, StoreError> + Send>;

/// Commits and writes so far (what the batch-size metric reports, kept for tests).
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub commits: AtomicU64,
    pub writes: AtomicU64,
}

/// Where a write's result goes.
type Reply = oneshot::Sender<Result<WriteOut, StoreError>>;

struct Request {
    job: WriteJob,
    reply: Reply,
}

/// Handle to the writer thread; the thread ends when the last handle is dropped.
pub(crate) struct Writer {
    queue: mpsc::Sender<Request>,
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "read by tests; the metric reports it")
    )]
    stats: Arc<Stats>,
}

type Answer = oneshot::Receiver<Result<WriteOut, StoreError>>;

fn gone() -> StoreError {
    StoreError::Database("the SQLite writer has stopped".into())
}

impl Writer {
    /// The writer thread on `conn`; `checkpoints`: who checkpoints its WAL (None: SQLite's
    /// automatic checkpoint, on this thread).
    pub fn spawn(conn: Connection, checkpoints: Option<Checkpoints>) -> Result<Self, StoreError> {
        let (queue, rx) = mpsc::channel();
        let stats = Arc::new(Stats::default());
        let counted = stats.clone();
        thread::Builder::new()
            .name("plinth-sqlite-writer".into())
            .spawn(move || run(conn, &rx, &counted, checkpoints))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { queue, stats })
    }

    /// Queue a write without waiting.
    fn enqueue(&self, job: WriteJob) -> Result<Answer, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Request { job, reply })
            .map_err(|_| gone())?;
        Ok(answer)
    }

    /// Queue a write and wait until its batch has committed.
    pub async fn submit(&self, job: WriteJob) -> Result<WriteOut, StoreError> {
        self.enqueue(job)?.await.map_err(|_| gone())?
    }
}

fn run(
    mut conn: Connection,
    rx: &mpsc::Receiver<Request>,
    stats: &Stats,
    mut checkpoints: Option<Checkpoints>,
) {
    // How long the last commit took and how many writes it held.
    let mut last = (Duration::ZERO, 0);
    // Whether batches run each write under a savepoint from the start (`commit_batch`).
    let mut careful = false;
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        if last.1 > 1 && batch.len() < GATHER_BELOW {
            gather(rx, &mut batch, last.0.min(MAX_GATHER));
        }
        let started = Instant::now();
        // Counted before the callers are answered, so whoever got an answer sees its batch.
        let n = batch.len() as u64;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.writes.fetch_add(n, Ordering::Relaxed);
        metrics::histogram!(BATCH_METRIC).record(n as f64);
        commit_batch(&mut conn, batch, &mut careful);
        last = (started.elapsed(), n);
        if let Some(c) = &mut checkpoints {
            c.after_commit(&conn);
        }
    }
}

/// Wait up to `wait` for more writes to join `batch`.
///
/// Much of a commit's cost is per batch, not per write: the last page of every b-tree the
/// batch touched goes to the WAL once, whether one write changed it or ten. A workflow
/// create touches 18 b-trees (three tables with their indexes), and once the writer was
/// fast enough to find only one or two writes waiting, those pages were written out every
/// other write. So while writes arrive concurrently (the last batch held more than one),
/// a small batch waits for company, at most as long as the last commit took: a write that
/// joins saves about that much, and a lone writer (every batch of one) never waits.
/// PostgreSQL's `commit_delay` is the same idea.
fn gather(rx: &mpsc::Receiver<Request>, batch: &mut Vec<Request>, wait: Duration) {
    let deadline = Instant::now() + wait;
    while batch.len() < GATHER_BELOW {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(r) => batch.push(r),
            Err(_) => break,
        }
    }
}

/// Run a fixed control statement (savepoints, transaction ends) from the statement cache:
/// they run several times per batch, and re-parsing them each time showed in profiles.
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Answer every write with the same failure.
fn fail_all(replies: impl Iterator<Item = Reply>, e: impl Into<StoreError>) {
    let msg = e.into().to_string();
    for reply in replies {
        let _ = reply.send(Err(StoreError::Database(msg.clone())));
    }
}

/// Commit `batch` in one transaction. `careful`: a recent batch had a failing write, so this
/// one runs each write under a savepoint from the start; it stays so until a batch has no
/// failure. Failures tend to come in runs (a scanner re-reporting what it reported before,
/// each a dedupe hit), and a batch that fails otherwise runs every write twice.
fn commit_batch(conn: &mut Connection, batch: Vec<Request>, careful: &mut bool) {
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        return fail_all(batch.into_iter().map(|r| r.reply), e);
    }
    if *careful {
        *careful = commit_each(conn, batch);
        return;
    }
    // First without savepoints: a savepoint per write makes SQLite copy every page a write
    // touches into a statement journal, once per write (a tenth of the writer's time for
    // workflow creates, which touch 18 b-trees). Nearly every batch succeeds whole; one
    // that does not is rolled back and run again below, each write under its own savepoint.
    let mut outs = Vec::with_capacity(batch.len());
    let mut failure = None;
    for r in &batch {
        match (r.job)(conn) {
            Ok(out) => outs.push(out),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let Some(failure) = failure else {
        if let Err(e) = control(conn, "COMMIT") {
            let _ = control(conn, "ROLLBACK");
            return fail_all(batch.into_iter().map(|r| r.reply), e);
        }
        for (r, out) in batch.into_iter().zip(outs) {
            let _ = r.reply.send(Ok(out));
        }
        return;
    };
    // Some errors end the transaction themselves; there is then nothing to roll back.
    if !conn.is_autocommit() {
        if let Err(e) = control(conn, "ROLLBACK") {
            return fail_all(batch.into_iter().map(|r| r.reply), e);
        }
    }
    // A write alone in its batch has nothing to run again for: its error is its answer.
    if batch.len() == 1 {
        if let Some(r) = batch.into_iter().next() {
            let _ = r.reply.send(Err(failure));
        }
        return;
    }
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        return fail_all(batch.into_iter().map(|r| r.reply), e);
    }
    *careful = true;
    commit_each(conn, batch);
}

/// Run every write of `batch` under its own savepoint inside the open transaction and
/// commit: a write that fails is undone alone and gets its own error. Whether one failed.
fn commit_each(conn: &Connection, batch: Vec<Request>) -> bool {
    let mut results = Vec::with_capacity(batch.len());
    for r in batch {
        let outcome = control(conn, "SAVEPOINT w")
            .map_err(StoreError::from)
            .and_then(|()| (r.job)(conn));
        let undo = if outcome.is_ok() {
            control(conn, "RELEASE w")
        } else {
            control(conn, "ROLLBACK TO w").and_then(|()| control(conn, "RELEASE w"))
        };
        let outcome = match undo {
            Ok(()) => outcome,
            Err(e) => Err(e.into()),
        };
        results.push((r.reply, outcome));
    }
    if let Err(e) = control(conn, "COMMIT") {
        let _ = control(conn, "ROLLBACK");
        fail_all(results.into_iter().map(|(reply, _)| reply), e);
        return true;
    }
    let failed = results.iter().any(|(_, outcome)| outcome.is_err());
    for (reply, outcome) in results {
        let _ = reply.send(outcome);
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Writer {
        let c = Connection::open_in_memory().expect("db");
        c.execute_batch("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)")
            .expect("table");
        Writer::spawn(c, None).expect("writer")
    }

    fn insert(n: i64) -> WriteJob {
        Box::new(move |c| {
            c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
            Ok(vec![StepOut::Count(1)])
        })
    }

    #[tokio::test]
    async fn a_lone_failing_write_leaves_nothing_and_the_next_commits() {
        let w = writer();
        let two_then_dup: WriteJob = Box::new(|c| {
            c.execute("INSERT INTO t (n) VALUES (100)", [])?;
            c.execute("INSERT INTO t (n) VALUES (100)", [])?;
            Ok(vec![StepOut::Count(2)])
        });
        assert!(w.submit(two_then_dup).await.is_err());
        assert!(
            w.submit(insert(100)).await.is_ok(),
            "the failed write left no row behind"
        );
    }

    /// Run `writes` as one batch: queued while the writer is held inside a write of its
    /// own batch, which then fails alone (a lone failure leaves the mode as it is). The
    /// answers of `writes`, in order.
    async fn one_batch(w: &Writer, writes: Vec<WriteJob>) -> Vec<bool> {
        let (entered, inside) = std::sync::mpsc::channel::<()>();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let holder = w
            .enqueue(Box::new(move |_| {
                let _ = entered.send(());
                let _ = hold.recv();
                Err(StoreError::Database("the holder".into()))
            }))
            .expect("queued");
        inside.recv().expect("the writer runs the holder");
        let rest: Vec<_> = writes
            .into_iter()
            .map(|j| w.enqueue(j).expect("queued"))
            .collect();
        drop(release);
        assert!(holder.await.expect("answer").is_err());
        let mut ok = Vec::new();
        for a in rest {
            ok.push(a.await.expect("answer").is_ok());
        }
        ok
    }

    #[tokio::test]
    async fn after_a_failing_batch_writes_run_once_until_a_batch_has_no_failure() {
        let w = writer();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = |n: i64| -> WriteJob {
            let runs = runs.clone();
            Box::new(move |c| {
                runs.fetch_add(1, Ordering::Relaxed);
                c.execute("INSERT INTO t (n) VALUES (?1)", [n])?;
                Ok(vec![StepOut::Count(1)])
            })
        };
        // The first failure: the batch is rolled back and run again, so the write before
        // the failing one ran twice.
        let ok = one_batch(&w, vec![counted(1), insert(1), insert(2)]).await;
        assert_eq!(ok, [true, false, true]);
        assert_eq!(runs.swap(0, Ordering::Relaxed), 2);
        // Failures keep coming: each write runs once, under its savepoint.
        let ok = one_batch(&w, vec![counted(3), insert(3), insert(4)]).await;
        assert_eq!(ok, [true, false, true]);
        assert_eq!(runs.swap(0, Ordering::Relaxed), 1);
        // A batch without a failure (still careful), then optimistic again: a failure
        // there runs the writes before it twice.
        assert_eq!(one_batch(&w, vec![insert(5)]).await, [true]);
        let ok = one_batch(&w, vec![counted(6), insert(6)]).await;
        assert_eq!(ok, [true, false]);
        assert_eq!(runs.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn queued_writes_share_one_commit_and_fail_alone() {
        let w = writer();
        // Hold the writer inside a first write until 31 more are queued behind it.
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let first = w
            .enqueue(Box::new(move |c| {
                let _ = hold.recv();
                c.execute("INSERT INTO t (n) VALUES (0)", [])?;
                Ok(vec![StepOut::Count(1)])
            }))
            .expect("queued");
        // Write 7 duplicates write 3: it must fail alone, the rest still commit.
        let rest: Vec<_> = (1..32)
            .map(|i| {
                w.enqueue(insert(if i == 7 { 3 } else { i }))
                    .expect("queued")
            })
            .collect();
        release.send(()).expect("release");
        // Should the first write share its batch with the rest, the failed batch runs it
        // again: with the sender gone, that run does not wait.
        drop(release);
        assert!(first.await.expect("answer").is_ok());
        let mut failed = Vec::new();
        for (i, a) in rest.into_iter().enumerate() {
            if a.await.expect("answer").is_err() {
                failed.push(i + 1);
            }
        }
        assert_eq!(failed, vec![7]);
        let commits = w.stats.commits.load(Ordering::Relaxed);
        let writes = w.stats.writes.load(Ordering::Relaxed);
        assert_eq!(writes, 32);
        assert!(commits <= 2, "32 queued writes took {commits} commits");
        let count = w
            .submit(Box::new(|c| {
                let n: i64 = c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?;
                Ok(vec![StepOut::Count(n as u64)])
            }))
            .await
            .expect("count");
        assert_eq!(count, vec![StepOut::Count(31)]);
    }
}
