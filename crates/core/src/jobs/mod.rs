//! The durable job queue, in the app's own database (`_plinth_jobs`, docs/jobs.md): what a
//! job is, how one is enqueued inside any write unit, and the capabilities that run them.
//! Claiming, leases and finishing are in [`lifecycle`]; the worker loop that drives them
//! lives in the `plinth-jobs` crate.

mod builtin;
mod lifecycle;
mod requests;
mod runner;

use chrono::{DateTime, Utc};
use plinth_context::Ctx;
use plinth_records::{FieldError, Filter, Mode, Record, ValidationError, Value};
use plinth_store::WriteUnit;
use serde_json::{json, Value as J};
use uuid::Uuid;

use crate::{AppService, CollectionHandle, CoreError};

pub use lifecycle::Outcome;
pub use requests::JobReport;
pub use runner::{BoxFuture, JobError, JobOutput, JobRun, Runner, Runners};

/// The queue's system collection.
pub const JOBS: &str = "_plinth_jobs";

/// A job to enqueue.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    /// The manifest's job kind.
    pub kind: String,
    /// Its parameters (checked by the kind's capability).
    pub params: J,
    /// Lower runs first (default 0; negative is more urgent).
    pub priority: i64,
    /// Not before this time (now when `None`).
    pub run_at: Option<DateTime<Utc>>,
    /// At most one job with this key exists (until it is pruned); a second enqueue is a
    /// no-op.
    pub unique_key: Option<String>,
    /// Set the job's id (a new v7 when `None`).
    pub id: Option<Uuid>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Its id (also its tracked record's).
    pub id: Uuid,
    /// The job kind.
    pub kind: String,
    /// The queue it waits in.
    pub queue: String,
    /// Parameters.
    pub params: J,
    /// `pending`, `in-progress`, `completed`, `failed`, `cancelled` or `dead`.
    pub status: String,
    /// Attempts started.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// The worker holding it, while in progress.
    pub lease_owner: Option<String>,
    /// 0 to 1, as last reported.
    pub progress: Option<f64>,
    /// What the last attempt returned.
    pub result: Option<J>,
    /// Where its output can be fetched.
    pub result_uri: Option<String>,
    /// The last attempt's error.
    pub error: Option<String>,
    /// The record as stored, for the job API.
    pub record: Record,
}

impl Job {
    /// Read a `_plinth_jobs` row.
    pub fn from_record(record: Record) -> Option<Job> {
        let text = |k: &str| record.get(k).and_then(J::as_str).map(str::to_owned);
        let int = |k: &str| record.get(k).and_then(J::as_i64).unwrap_or(0);
        let json = |k: &str| record.get(k).filter(|v| !v.is_null()).cloned();
        Some(Job {
            id: Uuid::parse_str(&text("id")?).ok()?,
            kind: text("kind")?,
            queue: text("queue")?,
            params: json("params").unwrap_or(J::Null),
            status: text("status")?,
            attempts: int("attempts"),
            max_attempts: int("max_attempts"),
            lease_owner: text("lease_owner"),
            progress: record.get("progress").and_then(J::as_f64),
            result: json("result"),
            result_uri: text("result_uri"),
            error: text("error"),
            record,
        })
    }

    /// Whether it will not run again by itself.
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            "completed" | "failed" | "cancelled" | "dead"
        )
    }
}

/// `field` is one of `values` (text).
pub(crate) fn one_of(field: &str, values: &[&str]) -> Filter {
    Filter::Or(
        values
            .iter()
            .map(|v| Filter::eq(field, Value::Text((*v).into())))
            .collect(),
    )
}

impl AppService {
    /// The queue's collection.
    pub(crate) fn jobs_collection(&self) -> Result<&std::sync::Arc<CollectionHandle>, CoreError> {
        self.collection_or_err(JOBS)
    }

    /// The collection that follows jobs of `kind`, if its manifest says one does.
    pub(crate) fn tracked(&self, kind: &str) -> Option<&std::sync::Arc<CollectionHandle>> {
        let track = self.manifest.jobs.get(kind)?.track.as_ref()?;
        self.any_collection(track)
    }

    /// Whether jobs of `kind` have a tracked record (and so announce events).
    pub fn tracks(&self, kind: &str) -> bool {
        self.tracked(kind).is_some()
    }

    /// Check `job` (its kind is declared, its parameters fit its capability) and add its
    /// insert, and its tracked record's, to `unit`. Returns the job's id; with a
    /// `unique_key` already taken nothing is inserted when the unit runs.
    pub fn enqueue_into(
        &self,
        ctx: &Ctx,
        job: NewJob,
        unit: &mut WriteUnit,
    ) -> Result<Uuid, CoreError> {
        let Some(def) = self.manifest.jobs.get(&job.kind) else {
            return Err(CoreError::Validation(ValidationError {
                details: vec![FieldError::new(
                    "kind",
                    format!("unknown job `{}`", job.kind),
                )],
            }));
        };
        let params = match self.runners.get(&def.run) {
            Some(r) => r
                .check(self, job.params)
                .map_err(|details| ValidationError { details })?,
            None => job.params,
        };
        let id = job.id.unwrap_or_else(Uuid::now_v7);
        let jobs = self.jobs_collection()?;
        if let Some(t) = self.tracked(&job.kind) {
            let mut rec = serde_json::Map::new();
            for (k, v) in [("type", json!(job.kind)), ("params", params.clone())] {
                if t.def.fields.contains_key(k) {
                    rec.insert(k.into(), v);
                }
            }
            if let Some(s) = tracked_status(t, "pending") {
                rec.insert("status".into(), json!(s));
            }
            let row = self
                .validator
                .record(&t.name, &t.def, &J::Object(rec), Mode::Create)?;
            unit.push(self.store.insert_step(&t.table, id, &row, ctx.now)?.quiet());
        }
        // Milliseconds, like every clock reading of the core (and SQLite's text): a run_at
        // finer than the claim's clock could miss its first claim by less than a millisecond.
        let at = job
            .run_at
            .map(|t| chrono::SubsecRound::trunc_subsecs(t, 3))
            .unwrap_or(ctx.now);
        let mut row = vec![
            ("queue".to_owned(), Value::Text(def.queue.clone())),
            ("kind".to_owned(), Value::Text(job.kind.clone())),
            ("params".to_owned(), Value::Json(params)),
            ("status".to_owned(), Value::Text("pending".into())),
            ("priority".to_owned(), Value::Int(job.priority)),
            ("attempts".to_owned(), Value::Int(0)),
            (
                "max_attempts".to_owned(),
                Value::Int(def.max_attempts.into()),
            ),
            ("run_at".to_owned(), Value::Timestamp(at)),
        ];
        let step = match job.unique_key {
            Some(key) => {
                row.push(("unique_key".to_owned(), Value::Text(key)));
                self.store
                    .insert_or_skip_step(&jobs.table, id, &row, ctx.now, "unique_key")?
            }
            None => self.store.insert_step(&jobs.table, id, &row, ctx.now)?,
        };
        unit.push(step);
        Ok(id)
    }

    /// Enqueue one job on its own; `None` when its unique key was taken.
    pub async fn enqueue(&self, ctx: &Ctx, job: NewJob) -> Result<Option<Job>, CoreError> {
        let mut unit = WriteUnit::new();
        self.enqueue_into(ctx, job, &mut unit)?;
        let outs = self.commit(ctx, unit).await?;
        self.wake_workers();
        Ok(outs
            .into_iter()
            .last()
            .and_then(|o| o.into_record())
            .and_then(Job::from_record))
    }

    /// Tell the workers that jobs may be waiting (after a unit with jobs commits): this
    /// node's at once, other nodes' through the bus (NOTIFY or NATS) when there is one;
    /// their polling finds the jobs anyway.
    pub fn wake_workers(&self) {
        self.job_wake.send_modify(|n| *n = n.wrapping_add(1));
        if let Some(bus) = &self.bus {
            let _ = bus.send(crate::bus::WAKE_JOBS.to_owned());
        }
    }

    /// A receiver that changes when [`AppService::wake_workers`] is called.
    pub fn job_wakeups(&self) -> tokio::sync::watch::Receiver<u64> {
        self.job_wake.subscribe()
    }

    /// One job by id.
    pub async fn job(&self, ctx: &Ctx, id: Uuid) -> Result<Option<Job>, CoreError> {
        let jobs = self.jobs_collection()?;
        let rec = self.store.get(ctx, &jobs.table, id).await?;
        Ok(rec.and_then(Job::from_record))
    }
}

/// The value of a tracked record's `status` for a queue status: the same word when its
/// enum has it, else the nearest one it has (`dead` and `cancelled` read as `failed`).
pub(crate) fn tracked_status<'a>(t: &'a CollectionHandle, status: &str) -> Option<&'a str> {
    let values = t.def.fields.get("status")?.values.as_ref()?;
    let want: &[&str] = match status {
        "dead" | "cancelled" => &[status, "failed"],
        "in-progress" => &["in-progress", "running", "processing"],
        other => &[other],
    };
    want.iter()
        .find_map(|w| values.iter().find(|v| v == w))
        .map(String::as_str)
}
