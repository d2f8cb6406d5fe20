//! `datagen.cleanup` (run by a schedule): jobs older than `days` (default 30) go, with
//! their generated rows and upload records (cascading relations) and their stored files.

use plinth_core::jobs::{BoxFuture, JobError, JobOutput, JobRun, Runner};
use plinth_core::AppService;
use plinth_records::{CmpOp, FieldError, Filter, Rhs, Value};
use serde_json::{json, Value as J};

use crate::retry;

pub(crate) struct Cleanup;

/// The seed's jobs table.
const JOBS: &str = "jobs";

impl Runner for Cleanup {
    fn check(&self, _app: &AppService, params: J) -> Result<J, Vec<FieldError>> {
        match params.get("days") {
            None => Ok(params),
            Some(d) if d.as_u64().is_some_and(|d| (1..=3650).contains(&d)) => Ok(params),
            Some(_) => Err(vec![FieldError::new("days", "from 1 to 3650")]),
        }
    }

    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let days = job.job.params.get("days").and_then(J::as_i64).unwrap_or(30);
            let app = &job.app;
            let ctx = app.system_ctx();
            let cutoff = ctx.now - chrono::Duration::days(days);
            let old = Filter::Cmp {
                field: "created_at".into(),
                op: CmpOp::Lt,
                right: Rhs::Value(Value::Timestamp(cutoff)),
            };
            // Files first: a record without its file is harmless, a file without a record
            // is never found again.
            let mut files = 0;
            if let (Some(store), Some(coll)) = (app.files(), app.any_collection(JOBS)) {
                let before = plinth_records::format_timestamp(&cutoff);
                let pairs = vec![
                    (
                        "filter".to_owned(),
                        format!("created_at < \"{before}\" && result_uri != null"),
                    ),
                    ("limit".to_owned(), "500".to_owned()),
                ];
                let page = app.list(&ctx, coll, &pairs).await.map_err(retry)?;
                for rec in &page.items {
                    let uri = rec.get("result_uri").and_then(J::as_str).unwrap_or("");
                    if let Some(key) = uri.strip_prefix("/files/") {
                        store.delete(key).await.map_err(retry)?;
                        files += 1;
                    }
                }
            }
            let jobs = app.delete_matching(&ctx, JOBS, &old).await.map_err(retry)?;
            Ok(JobOutput {
                result: Some(json!({"jobs": jobs, "files": files})),
                ..JobOutput::default()
            })
        })
    }
}
