//! What a client may ask of the queue through an app's own routes (DataGen's `POST
//! /generate`, `GET /status/:jobId`): enqueue a tracked job under the tracked collection's
//! create rule, and read a job's status under its view rule. And what a capability needs
//! to write its output: records in bulk, files.

use plinth_context::Ctx;
use plinth_records::{Filter, Mode};
use plinth_store::WriteUnit;
use serde_json::Value as J;
use uuid::Uuid;

use super::{Job, NewJob};
use crate::access::{refuse_create, Access, Op};
use crate::{AppService, CoreError, Record};

impl AppService {
    /// Enqueue a job of `kind` for the caller, with `extra` records (collection, body) in
    /// the same unit (an upload's record; its `job_id` field, if it has one, is set to the
    /// job's id): the caller must be allowed to create the job's tracked record. The job's
    /// id.
    pub async fn request_job(
        &self,
        ctx: &Ctx,
        kind: &str,
        params: J,
        extra: &[(&str, J)],
    ) -> Result<Uuid, CoreError> {
        if let Some(t) = self.tracked(kind) {
            if !matches!(self.access(ctx, t, Op::Create, None).await?, Access::All) {
                return Err(refuse_create(ctx));
            }
        }
        let mut unit = WriteUnit::new();
        let job = NewJob {
            kind: kind.into(),
            params,
            ..NewJob::default()
        };
        let id = self.enqueue_into(ctx, job, &mut unit)?;
        for (collection, body) in extra {
            let coll = self.collection_or_err(collection)?;
            let mut body = body.clone();
            if let (Some(o), true) = (body.as_object_mut(), coll.def.fields.contains_key("job_id"))
            {
                o.insert("job_id".into(), J::String(id.to_string()));
            }
            let row = self
                .validator
                .record(&coll.name, &coll.def, &body, Mode::Create)?;
            unit.push(
                self.store
                    .insert_step(&coll.table, Uuid::now_v7(), &row, ctx.now)?
                    .quiet(),
            );
        }
        self.commit(ctx, unit).await?;
        self.wake_workers();
        Ok(id)
    }

    /// A job and its tracked record as the caller may see them; not found when either is
    /// missing or the caller may not view the record (untracked jobs: admins only).
    pub async fn job_status(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> Result<(Job, Option<Record>), CoreError> {
        let missing = || CoreError::NotFound("Job not found".into());
        let uuid = Uuid::parse_str(id).map_err(|_| missing())?;
        let job = self
            .job(&self.system_ctx(), uuid)
            .await?
            .ok_or_else(missing)?;
        match self.tracked(&job.kind).cloned() {
            Some(t) => {
                let rec = self.view(ctx, &t, id, &[]).await?;
                Ok((job, Some(rec)))
            }
            None => {
                self.require_job_admin(ctx).await.map_err(|_| missing())?;
                Ok((job, None))
            }
        }
    }

    /// What the caller is told of job `id` (`GET /status/:jobId`): the queue's job with
    /// its tracked record's status, or, for a tracked record with no job in the queue (one
    /// written directly, or demo data), the record's own fields.
    pub async fn job_report(&self, ctx: &Ctx, id: &str) -> Result<JobReport, CoreError> {
        let (job, _) = match self.job_status(ctx, id).await {
            Ok(found) => found,
            Err(CoreError::NotFound(_)) => {
                let rec = self.tracked_record(ctx, id).await?;
                let get = |k: &str| rec.get(k).cloned().unwrap_or(J::Null);
                return Ok(JobReport {
                    id: id.to_owned(),
                    kind: get("type"),
                    status: get("status"),
                    result_uri: get("result_uri").as_str().map(str::to_owned),
                    progress: get("progress"),
                    result: J::Null,
                    error: get("error_message"),
                    attempts: 0,
                    created_at: get("created_at"),
                    updated_at: get("updated_at"),
                });
            }
            Err(e) => return Err(e),
        };
        // The status in the tracked record's words, from the same read as the result: the
        // record is read after the job, so a finish committed in between would otherwise
        // report `completed` without its result.
        let status = self
            .tracked(&job.kind)
            .and_then(|t| super::tracked_status(t, &job.status))
            .unwrap_or(&job.status);
        let opt = |v: Option<J>| v.unwrap_or(J::Null);
        Ok(JobReport {
            id: job.id.to_string(),
            kind: J::String(job.kind.clone()),
            status: J::String(status.to_owned()),
            result_uri: job.result_uri.clone(),
            progress: opt(job.progress.map(J::from)),
            result: opt(job.result.clone()),
            error: opt(job
                .error
                .clone()
                .filter(|_| job.status != "completed")
                .map(J::String)),
            attempts: job.attempts,
            created_at: opt(job.record.get("created_at").cloned()),
            updated_at: opt(job.record.get("updated_at").cloned()),
        })
    }

    /// A record of a collection that tracks jobs (DataGen's `jobs`) with id `id`, as the
    /// caller may see it.
    async fn tracked_record(&self, ctx: &Ctx, id: &str) -> Result<Record, CoreError> {
        let mut seen = Vec::new();
        for def in self.manifest.jobs.values() {
            let Some(t) = def.track.as_ref() else {
                continue;
            };
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            if let Some(coll) = self.any_collection(t).cloned() {
                match self.view(ctx, &coll, id, &[]).await {
                    Ok(rec) => return Ok(rec),
                    Err(CoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Err(CoreError::NotFound("Job not found".into()))
    }

    /// The job whose output is the stored file `key` (`result_uri` `/files/<key>`), if the
    /// caller may see it (its tracked record's view rule); not found otherwise.
    pub async fn file_job(&self, ctx: &Ctx, key: &str) -> Result<Job, CoreError> {
        let jobs = self.jobs_collection()?;
        let uri = plinth_records::Value::Text(format!("/files/{key}"));
        let found = self
            .store
            .find(ctx, &jobs.table, Filter::eq("result_uri", uri))
            .await?
            .and_then(Job::from_record)
            .ok_or_else(|| CoreError::NotFound("File not found".into()))?;
        let (job, _) = self
            .job_status(ctx, &found.id.to_string())
            .await
            .map_err(|_| CoreError::NotFound("File not found".into()))?;
        Ok(job)
    }

    /// Insert `bodies` into `collection` as one unit, validated but without access rules
    /// or per-record events (a capability's bulk output, e.g. generated rows). How many.
    pub async fn insert_many(
        &self,
        ctx: &Ctx,
        collection: &str,
        bodies: &[J],
    ) -> Result<u64, CoreError> {
        let coll = self.collection_or_err(collection)?;
        let mut unit = WriteUnit::new();
        for body in bodies {
            let row = self
                .validator
                .record(&coll.name, &coll.def, body, Mode::Create)?;
            unit.push(
                self.store
                    .insert_step(&coll.table, Uuid::now_v7(), &row, ctx.now)?
                    .quiet(),
            );
        }
        self.store.apply(ctx, unit).await?;
        Ok(bodies.len() as u64)
    }

    /// Delete every record of `collection` matching `filter`, without access rules or
    /// events (a capability cleaning up its own output). How many went.
    pub async fn delete_matching(
        &self,
        ctx: &Ctx,
        collection: &str,
        filter: &plinth_records::Filter,
    ) -> Result<u64, CoreError> {
        let coll = self.collection_or_err(collection)?;
        let mut unit = WriteUnit::new();
        unit.push(self.store.delete_where_step(&coll.table, filter));
        let outs = self.store.apply(ctx, unit).await?;
        Ok(outs.first().map_or(0, |o| o.rows()))
    }

    /// Set `body`'s fields on every record of `collection` matching `filter`, validated,
    /// without access rules or events. How many changed.
    pub async fn update_matching(
        &self,
        ctx: &Ctx,
        collection: &str,
        filter: &plinth_records::Filter,
        body: &J,
    ) -> Result<u64, CoreError> {
        let coll = self.collection_or_err(collection)?;
        let row = self
            .validator
            .record(&coll.name, &coll.def, body, Mode::Update)?;
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .update_where_step(&coll.table, filter, &row, ctx.now)
                .quiet(),
        );
        let outs = self.store.apply(ctx, unit).await?;
        Ok(outs.first().map_or(0, |o| o.rows()))
    }
}

/// What a client is told of a job ([`AppService::job_report`]).
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    /// The job's id.
    pub id: String,
    /// The job kind (the tracked record's `type`).
    pub kind: J,
    /// The queue's status, in the tracked collection's words when there is one.
    pub status: J,
    /// Where the output is: `/files/<key>` under the app's base for stored outputs.
    pub result_uri: Option<String>,
    /// 0 to 1, as last reported.
    pub progress: J,
    /// What the job returned.
    pub result: J,
    /// The last attempt's error, unless the job completed.
    pub error: J,
    /// Attempts started.
    pub attempts: i64,
    /// When the job was created.
    pub created_at: J,
    /// When it last changed.
    pub updated_at: J,
}
