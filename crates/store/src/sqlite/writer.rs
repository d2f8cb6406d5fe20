//! Group commit for SQLite's single writer.
//!
//! Every write goes to one thread that owns the write connection. It takes the first
//! waiting write and everything queued behind it (up to [`MAX_BATCH`]), runs them in one
//! transaction with a savepoint each, commits once, and only then answers each caller with
//! its own result. A write that fails rolls back to its savepoint and gets its own error;
//! the others still commit. One commit per batch instead of per write is what lets
//! concurrent creates pass the one-transaction-per-insert floor (DESIGN.md).

use std::sync::mpsc;
use std::thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::crud::Record;
use crate::StoreError;

/// Largest number of writes committed together.
const MAX_BATCH: usize = 128;

/// What a write produced.
pub(crate) enum WriteOut {
    /// Rows from `RETURNING`.
    Rows(Vec<Record>),
    /// Rows changed.
    Count(u64),
    /// Nothing to report.
    Done,
}

/// One write, run on the writer thread inside the batch transaction.
pub(crate) type WriteJob = Box<dyn FnOnce(&Connection) -> Result<WriteOut, StoreError> + Send>;

struct Request {
    job: WriteJob,
    reply: oneshot::Sender<Result<WriteOut, StoreError>>,
}

/// Handle to the writer thread; the thread ends when the last handle is dropped.
pub(crate) struct Writer {
    queue: mpsc::Sender<Request>,
}

impl Writer {
    pub fn spawn(conn: Connection) -> Result<Self, StoreError> {
        let (queue, rx) = mpsc::channel();
        thread::Builder::new()
            .name("plinth-sqlite-writer".into())
            .spawn(move || run(conn, &rx))
            .map_err(|e| StoreError::Database(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { queue })
    }

    /// Queue a write and wait until its batch has committed.
    pub async fn submit(&self, job: WriteJob) -> Result<WriteOut, StoreError> {
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Database("the SQLite writer has stopped".into());
        self.queue
            .send(Request { job, reply })
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn run(mut conn: Connection, rx: &mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch);
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Request>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let msg = StoreError::from(e).to_string();
        for r in batch {
            let _ = r.reply.send(Err(StoreError::Database(msg.clone())));
        }
        return;
    }
    let mut results = Vec::with_capacity(batch.len());
    for r in batch {
        let outcome = conn
            .execute_batch("SAVEPOINT w")
            .map_err(StoreError::from)
            .and_then(|()| (r.job)(conn));
        let undo = if outcome.is_ok() {
            "RELEASE w"
        } else {
            "ROLLBACK TO w; RELEASE w"
        };
        let outcome = match conn.execute_batch(undo) {
            Ok(()) => outcome,
            Err(e) => Err(e.into()),
        };
        results.push((r.reply, outcome));
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        let _ = conn.execute_batch("ROLLBACK");
        let msg = StoreError::from(e).to_string();
        for (reply, _) in results {
            let _ = reply.send(Err(StoreError::Database(msg.clone())));
        }
        return;
    }
    for (reply, outcome) in results {
        let _ = reply.send(outcome);
    }
}
