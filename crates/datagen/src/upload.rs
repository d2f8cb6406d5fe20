//! `datagen.upload`: an uploaded CSV or JSON file (already stored, its record written by
//! the upload endpoint) read into `generated_data` as entity `uploads`, and the upload's
//! record marked completed or failed.

use futures_util::StreamExt;
use plinth_core::jobs::{BoxFuture, JobError, JobOutput, JobRun, Runner};
use plinth_core::AppService;
use plinth_records::{FieldError, Filter, Value};
use serde_json::{json, Map, Value as J};

use crate::{progress, retry, BATCH, TARGET};

pub(crate) struct Upload;

/// The seed's table of uploads.
const UPLOADS: &str = "uploaded_files";

impl Runner for Upload {
    fn check(&self, _app: &AppService, params: J) -> Result<J, Vec<FieldError>> {
        let has = |k: &str| params.get(k).and_then(J::as_str).is_some();
        if has("key") && has("kind") {
            Ok(params)
        } else {
            Err(vec![FieldError::new("file", "an uploaded file")])
        }
    }

    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let app = &job.app;
            let ctx = app.system_ctx();
            let this = Filter::eq("job_id", Value::Uuid(job.job.id));
            match read(&job).await {
                Ok(n) => {
                    app.update_matching(&ctx, UPLOADS, &this, &json!({"status": "completed"}))
                        .await
                        .map_err(retry)?;
                    Ok(JobOutput {
                        result: Some(json!({"rows": n})),
                        ..JobOutput::default()
                    })
                }
                Err(JobError::Fail(e)) => {
                    app.update_matching(&ctx, UPLOADS, &this, &json!({"status": "failed"}))
                        .await
                        .map_err(retry)?;
                    Err(JobError::Fail(e))
                }
                Err(e) => Err(e),
            }
        })
    }
}

async fn read(job: &JobRun) -> Result<u64, JobError> {
    let app = &job.app;
    let ctx = app.system_ctx();
    let p = &job.job.params;
    let key = p["key"].as_str().unwrap_or_default();
    let store = app
        .files()
        .ok_or_else(|| JobError::Fail("no file storage is configured".into()))?;
    let (_, mut stream) = store.get_stream(key).await.map_err(retry)?;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.map_err(retry)?);
    }
    let rows = match p["kind"].as_str() {
        Some("json") => from_json(&bytes)?,
        _ => from_csv(&bytes)?,
    };
    app.delete_matching(&ctx, TARGET, &Filter::eq("job_id", Value::Uuid(job.job.id)))
        .await
        .map_err(retry)?;
    let id = job.job.id.to_string();
    let (mut done, mut last) = (0u64, 0u64);
    let total = rows.len() as u64;
    for chunk in rows.chunks(BATCH) {
        let batch: Vec<J> = chunk
            .iter()
            .map(|r| json!({"entity": "uploads", "job_id": id, "payload": r}))
            .collect();
        done += app.insert_many(&ctx, TARGET, &batch).await.map_err(retry)?;
        if !progress(job, done, total, &mut last).await {
            return Err(JobError::Fail("cancelled".into()));
        }
    }
    Ok(done)
}

/// Rows of a CSV file with a header line; cells that read as numbers or booleans become
/// those, empty ones null.
fn from_csv(bytes: &[u8]) -> Result<Vec<J>, JobError> {
    let mut r = csv::Reader::from_reader(bytes);
    let bad = |e: csv::Error| JobError::Fail(format!("not valid CSV: {e}"));
    let header: Vec<String> = r
        .headers()
        .map_err(bad)?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(bad)?;
        let row: Map<String, J> = header
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| (k.clone(), typed(v)))
            .collect();
        rows.push(J::Object(row));
    }
    Ok(rows)
}

fn typed(cell: &str) -> J {
    let t = cell.trim();
    if t.is_empty() {
        return J::Null;
    }
    if let Ok(i) = t.parse::<i64>() {
        return json!(i);
    }
    if let Ok(f) = t.parse::<f64>() {
        if f.is_finite() {
            return json!(f);
        }
    }
    match t {
        "true" => J::Bool(true),
        "false" => J::Bool(false),
        _ => J::String(cell.to_owned()),
    }
}

/// Objects of a JSON file: an array of objects, one object, or one object per line.
fn from_json(bytes: &[u8]) -> Result<Vec<J>, JobError> {
    let objects = |v: Vec<J>| {
        if v.iter().all(J::is_object) {
            Ok(v)
        } else {
            Err(JobError::Fail("every JSON row must be an object".into()))
        }
    };
    match serde_json::from_slice::<J>(bytes) {
        Ok(J::Array(items)) => objects(items),
        Ok(obj @ J::Object(_)) => Ok(vec![obj]),
        Ok(_) => Err(JobError::Fail("JSON must be objects".into())),
        Err(_) => {
            let text =
                std::str::from_utf8(bytes).map_err(|_| JobError::Fail("not UTF-8".into()))?;
            let lines: Result<Vec<J>, _> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str)
                .collect();
            objects(lines.map_err(|e| JobError::Fail(format!("not valid JSON: {e}")))?)
        }
    }
}
