//! A job's life after enqueue: claimed under a lease, started, renewed, its progress
//! recorded, finished (completed, retried later, failed or dead), cancelled, retried by
//! hand, pruned. Every change is one guarded unit, so a worker whose lease was lost (or
//! whose job was cancelled) changes nothing.

use chrono::{DateTime, Utc};
use plinth_context::Ctx;
use plinth_records::{Filter, Value};
use plinth_store::{Claim, Miss, Step, StepOut, StoreError, WriteUnit};
use uuid::Uuid;

use super::{one_of, tracked_status, Job};
use crate::{AppService, CoreError};

/// How an attempt ended, as the worker decided.
#[derive(Debug)]
pub enum Outcome {
    /// Done.
    Completed(super::JobOutput),
    /// Failed; try again at this time.
    Retry {
        /// The attempt's error.
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// Failed for good (a permanent error).
    Failed(String),
    /// Failed and out of attempts.
    Dead(String),
}

/// Statuses a finished job can have.
const FINISHED: &[&str] = &["completed", "failed", "cancelled", "dead"];

impl AppService {
    /// Set `row` on `owner`'s in-progress `job`; the unit fails with a conflict when the job
    /// is no longer its.
    fn held_step(
        &self,
        job: &Job,
        owner: &str,
        row: &plinth_records::Row,
        now: DateTime<Utc>,
    ) -> Result<Step, CoreError> {
        let jobs = self.jobs_collection()?;
        Ok(self
            .store
            .update_held_step(&jobs.table, &[job.id], owner, row, now)
            .expect_one(Miss::Conflict))
    }

    /// Add the tracked record's update (its status and `extra` fields it has) and the
    /// job's event to `unit`.
    fn follow(
        &self,
        ctx: &Ctx,
        job: &Job,
        status: &str,
        extra: &[(&str, Value)],
        topic: &str,
        unit: &mut WriteUnit,
    ) -> Result<(), CoreError> {
        // Untracked jobs announce nothing: an outbox row per job would double the queue's
        // writes, for events only admins could see.
        if let Some(t) = self.tracked(&job.kind) {
            let mut row = Vec::new();
            if let Some(s) = tracked_status(t, status) {
                row.push(("status".to_owned(), Value::Text(s.into())));
            }
            for (k, v) in extra {
                if t.def.fields.contains_key(*k) {
                    row.push(((*k).to_owned(), v.clone()));
                }
            }
            let f = Filter::eq("id", Value::Uuid(job.id));
            unit.push(
                self.store
                    .update_where_step(&t.table, &f, &row, ctx.now)
                    .quiet(),
            );
            unit.push(self.emit_step(ctx, topic, &t.name, job.id)?);
        }
        Ok(())
    }

    /// Claim up to `limit` due jobs of `queue` for `owner` until `lease_until` (with
    /// `lapsed`, jobs whose worker's lease ran out instead).
    pub async fn claim_jobs(
        &self,
        queue: &str,
        owner: &str,
        limit: u64,
        lease_until: DateTime<Utc>,
        lapsed: bool,
    ) -> Result<Vec<Job>, CoreError> {
        let ctx = self.system_ctx();
        let jobs = self.jobs_collection()?;
        let claim = Claim {
            queue,
            owner,
            limit,
            now: ctx.now,
            lease_until,
            lapsed,
        };
        let mut unit = WriteUnit::new();
        unit.extend(self.store.relaxed_commit_step());
        unit.push(self.store.claim_step(&jobs.table, &claim));
        let outs = self.store.apply(&ctx, unit).await?;
        let rows = outs
            .into_iter()
            .last()
            .map(StepOut::into_rows)
            .unwrap_or_default();
        Ok(rows.into_iter().filter_map(Job::from_record).collect())
    }

    /// Mark a claimed job's tracked record in progress and announce `job:started` (only
    /// for kinds with a tracked record or listeners to tell).
    pub async fn start_job(&self, job: &Job, owner: &str) -> Result<(), CoreError> {
        if self.tracked(&job.kind).is_none() {
            return Ok(());
        }
        let ctx = self.system_ctx();
        let mut unit = WriteUnit::new();
        unit.push(self.held_step(job, owner, &Vec::new(), ctx.now)?);
        self.follow(&ctx, job, "in-progress", &[], "job:started", &mut unit)?;
        self.commit(&ctx, unit).await?;
        Ok(())
    }

    /// Extend every lease `owner` holds on `queue` until `until`, in one statement; the ids
    /// of the jobs still its (one missing from them was cancelled or taken over).
    pub async fn renew_leases(
        &self,
        queue: &str,
        owner: &str,
        until: DateTime<Utc>,
    ) -> Result<Vec<uuid::Uuid>, CoreError> {
        let ctx = self.system_ctx();
        let jobs = self.jobs_collection()?;
        let held = Filter::And(vec![
            Filter::eq("queue", Value::Text(queue.into())),
            Filter::eq("lease_owner", Value::Text(owner.into())),
            Filter::eq("status", Value::Text("in-progress".into())),
        ]);
        let row = vec![("lease_expires_at".to_owned(), Value::Timestamp(until))];
        let mut unit = WriteUnit::new();
        unit.extend(self.store.relaxed_commit_step());
        unit.push(
            self.store
                .update_where_step(&jobs.table, &held, &row, ctx.now),
        );
        let outs = self.store.apply(&ctx, unit).await?;
        let rows = outs
            .into_iter()
            .last()
            .map(StepOut::into_rows)
            .unwrap_or_default();
        Ok(rows
            .iter()
            .filter_map(|r| r.id().and_then(|id| uuid::Uuid::parse_str(id).ok()))
            .collect())
    }

    /// Record `fraction` done and announce `job:progress`; false when the job is no
    /// longer `owner`'s.
    pub async fn job_progress(
        &self,
        job: &Job,
        owner: &str,
        fraction: f64,
    ) -> Result<bool, CoreError> {
        let ctx = self.system_ctx();
        let row = vec![("progress".to_owned(), Value::Float(fraction))];
        let mut unit = WriteUnit::new();
        unit.push(self.held_step(job, owner, &row, ctx.now)?);
        let extra = [("progress", Value::Float(fraction))];
        self.follow(&ctx, job, "in-progress", &extra, "job:progress", &mut unit)?;
        match self.commit(&ctx, unit).await {
            Ok(_) => Ok(true),
            Err(StoreError::Expectation(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Finish `owner`'s attempt at `job`; false when the job was no longer its (nothing
    /// is written then, not even the output's statements).
    pub async fn finish_job(
        &self,
        job: &Job,
        owner: &str,
        outcome: Outcome,
    ) -> Result<bool, CoreError> {
        let ctx = self.system_ctx();
        let none = || Value::Null;
        let (status, mut row, extra_unit) = match outcome {
            Outcome::Completed(out) => {
                let result = out.result.map(Value::Json).unwrap_or_else(none);
                let uri = out.result_uri.map(Value::Text).unwrap_or_else(none);
                let row = vec![
                    ("result".to_owned(), result),
                    ("result_uri".to_owned(), uri),
                    ("progress".to_owned(), Value::Float(1.0)),
                    ("error".to_owned(), Value::Null),
                ];
                ("completed", row, out.unit)
            }
            Outcome::Retry { error, at } => {
                let row = vec![
                    ("error".to_owned(), Value::Text(error)),
                    ("run_at".to_owned(), Value::Timestamp(at)),
                ];
                ("pending", row, WriteUnit::new())
            }
            Outcome::Failed(error) => (
                "failed",
                vec![("error".to_owned(), Value::Text(error))],
                WriteUnit::new(),
            ),
            Outcome::Dead(error) => (
                "dead",
                vec![("error".to_owned(), Value::Text(error))],
                WriteUnit::new(),
            ),
        };
        row.push(("status".to_owned(), Value::Text(status.into())));
        row.push(("lease_expires_at".to_owned(), Value::Null));
        if status == "pending" {
            row.push(("lease_owner".to_owned(), Value::Null));
        } else {
            // The owner stays on a finished job: who ran it, for inspection.
            row.push(("finished_at".to_owned(), Value::Timestamp(ctx.now)));
        }
        let mut unit = extra_unit;
        unit.push(self.held_step(job, owner, &row, ctx.now)?);
        let get = |k: &str| row.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
        let mut extra = Vec::new();
        for (k, from) in [
            ("result_uri", "result_uri"),
            ("error_message", "error"),
            ("error", "error"),
            ("progress", "progress"),
        ] {
            if let Some(v) = get(from) {
                extra.push((k, v));
            }
        }
        let topic = match status {
            "completed" => "job:completed",
            "pending" => "job:retrying",
            _ => "job:failed",
        };
        self.follow(&ctx, job, status, &extra, topic, &mut unit)?;
        match self.commit(&ctx, unit).await {
            Ok(_) => {
                if status == "pending" {
                    self.wake_workers();
                }
                Ok(true)
            }
            Err(StoreError::Expectation(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Mark `owner`'s jobs `ids` completed, with no result, in one statement (the worker's
    /// batch of plain completions of untracked jobs). Jobs no longer `owner`'s are left as
    /// they are. How many were marked.
    pub async fn complete_jobs(&self, ids: &[uuid::Uuid], owner: &str) -> Result<u64, CoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ctx = self.system_ctx();
        let jobs = self.jobs_collection()?;
        let row = vec![
            ("status".to_owned(), Value::Text("completed".into())),
            ("progress".to_owned(), Value::Float(1.0)),
            ("error".to_owned(), Value::Null),
            ("lease_expires_at".to_owned(), Value::Null),
            ("finished_at".to_owned(), Value::Timestamp(ctx.now)),
        ];
        let mut unit = WriteUnit::new();
        unit.extend(self.store.relaxed_commit_step());
        unit.push(
            self.store
                .update_held_step(&jobs.table, ids, owner, &row, ctx.now),
        );
        let outs = self.store.apply(&ctx, unit).await?;
        Ok(outs.last().map_or(0, |o| o.rows()))
    }

    /// Give back jobs `owner` claimed and never started (it is stopping): they are pending
    /// again at once, their claim's attempt undone. The number given back.
    pub async fn release_jobs(&self, ids: &[uuid::Uuid], owner: &str) -> Result<u64, CoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ctx = self.system_ctx();
        let jobs = self.jobs_collection()?;
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .release_held_step(&jobs.table, ids, owner, ctx.now),
        );
        let outs = self.store.apply(&ctx, unit).await?;
        Ok(outs.last().map_or(0, |o| o.rows()))
    }

    /// Cancel a job that has not finished. A running one stops at its next lease renewal
    /// (its runner sees `cancelled`). Not found: 404; already finished: 409.
    pub async fn cancel_job(&self, ctx: &Ctx, id: Uuid) -> Result<Job, CoreError> {
        let row = vec![
            ("status".to_owned(), Value::Text("cancelled".into())),
            ("finished_at".to_owned(), Value::Timestamp(ctx.now)),
            ("error".to_owned(), Value::Text("cancelled".into())),
        ];
        self.change_job(
            ctx,
            id,
            &["pending", "in-progress"],
            row,
            "cancelled",
            "job:cancelled",
        )
        .await
    }

    /// Run a failed, dead or cancelled job again, from its first attempt.
    pub async fn retry_job(&self, ctx: &Ctx, id: Uuid) -> Result<Job, CoreError> {
        let row = vec![
            ("status".to_owned(), Value::Text("pending".into())),
            ("attempts".to_owned(), Value::Int(0)),
            ("run_at".to_owned(), Value::Timestamp(ctx.now)),
            ("error".to_owned(), Value::Null),
            ("finished_at".to_owned(), Value::Null),
            ("lease_owner".to_owned(), Value::Null),
            ("lease_expires_at".to_owned(), Value::Null),
        ];
        let job = self
            .change_job(
                ctx,
                id,
                &["failed", "dead", "cancelled"],
                row,
                "pending",
                "job:retrying",
            )
            .await?;
        self.wake_workers();
        Ok(job)
    }

    async fn change_job(
        &self,
        ctx: &Ctx,
        id: Uuid,
        from: &[&str],
        row: plinth_records::Row,
        status: &str,
        topic: &str,
    ) -> Result<Job, CoreError> {
        self.require_job_admin(ctx).await?;
        let jobs = self.jobs_collection()?;
        let Some(job) = self.job(ctx, id).await? else {
            return Err(CoreError::NotFound("Job not found".into()));
        };
        let guard = Filter::And(vec![
            Filter::eq("id", Value::Uuid(id)),
            one_of("status", from),
        ]);
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .update_where_step(&jobs.table, &guard, &row, ctx.now)
                .expect_one(Miss::Conflict),
        );
        let extra: Vec<(&str, Value)> = match status {
            "cancelled" => vec![("error_message", Value::Text("cancelled".into()))],
            _ => vec![("error_message", Value::Null), ("result_uri", Value::Null)],
        };
        self.follow(ctx, &job, status, &extra, topic, &mut unit)?;
        let outs = self.commit(ctx, unit).await.map_err(|e| match e {
            StoreError::Expectation(_) => CoreError::Conflict(format!("The job is {}", job.status)),
            e => e.into(),
        })?;
        outs.into_iter()
            .next()
            .and_then(|o| o.into_record())
            .and_then(Job::from_record)
            .ok_or_else(|| CoreError::NotFound("Job not found".into()))
    }

    /// Refuse callers who may not manage the queue: it has no rules, so admins and service
    /// tokens only (401 for anonymous callers, 403 for other users).
    pub async fn require_job_admin(&self, ctx: &Ctx) -> Result<(), CoreError> {
        let jobs = self.jobs_collection()?;
        match self
            .access(ctx, jobs, crate::access::Op::Update, None)
            .await?
        {
            crate::access::Access::All => Ok(()),
            _ => Err(match ctx.caller {
                plinth_context::Caller::Anonymous => {
                    CoreError::Unauthenticated("Sign in first".into())
                }
                _ => CoreError::Forbidden("Only admins manage jobs".into()),
            }),
        }
    }

    /// Delete jobs that finished before `before`; how many went.
    pub async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64, CoreError> {
        let ctx = self.system_ctx();
        let jobs = self.jobs_collection()?;
        let f = Filter::And(vec![
            one_of("status", FINISHED),
            Filter::Cmp {
                field: "finished_at".into(),
                op: plinth_records::CmpOp::Lt,
                right: plinth_records::Rhs::Value(Value::Timestamp(before)),
            },
        ]);
        let mut unit = WriteUnit::new();
        unit.push(self.store.delete_where_step(&jobs.table, &f));
        let outs = self.store.apply(&ctx, unit).await?;
        Ok(outs.first().map(|o| o.rows()).unwrap_or(0))
    }
}
