//! `datagen.generate`: synthetic records into `generated_data`, in batches, with progress.
//! An attempt starts by removing what an earlier attempt of the same job wrote, so a
//! retried job leaves exactly its rows.

use plinth_core::jobs::{BoxFuture, JobError, JobOutput, JobRun, Runner};
use plinth_core::AppService;
use plinth_records::{FieldError, Filter, Value};
use serde_json::{json, Value as J};

use crate::{progress, retry, BATCH, TARGET};

pub(crate) struct Generate;

impl Runner for Generate {
    fn check(&self, _app: &AppService, params: J) -> Result<J, Vec<FieldError>> {
        plinth_generators::parse(&params)
            .map(|spec| spec.to_json())
            .map_err(|e| {
                e.errors()
                    .iter()
                    .map(|(f, m)| FieldError::new(f.as_str(), m.as_str()))
                    .collect()
            })
    }

    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let spec = plinth_generators::parse(&job.job.params)
                .map_err(|e| JobError::Fail(e.to_string()))?;
            let entity = spec.entity().unwrap_or("custom").to_owned();
            let app = &job.app;
            let ctx = app.system_ctx();
            let id = job.job.id.to_string();
            app.delete_matching(&ctx, TARGET, &Filter::eq("job_id", Value::Uuid(job.job.id)))
                .await
                .map_err(retry)?;
            let total = spec.rows();
            let mut rows = plinth_generators::rows(&spec);
            let (mut done, mut last) = (0u64, 0u64);
            loop {
                let batch: Vec<J> = rows
                    .by_ref()
                    .take(BATCH)
                    .map(|r| json!({"entity": entity, "job_id": id, "payload": r}))
                    .collect();
                if batch.is_empty() {
                    break;
                }
                done += app.insert_many(&ctx, TARGET, &batch).await.map_err(retry)?;
                if !progress(&job, done, total, &mut last).await {
                    return Err(JobError::Fail("cancelled".into()));
                }
            }
            Ok(JobOutput {
                result: Some(json!({"entity": entity, "rows": done, "seed": spec.seed()})),
                ..JobOutput::default()
            })
        })
    }
}
