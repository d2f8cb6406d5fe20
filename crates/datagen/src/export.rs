//! `datagen.export`: `{"source": "users", "format": "csv"}` writes a collection of the app
//! or a generated entity (the `generated_data` rows of that entity, their payloads) to a
//! CSV, JSON or Parquet file in the app's file storage; the job's `result_uri` is `/files/<key>`
//! under the app's base, where it can be downloaded.

use bytes::Bytes;
use plinth_core::jobs::{BoxFuture, JobError, JobOutput, JobRun, Runner};
use plinth_core::AppService;
use plinth_records::FieldError;
use serde_json::{json, Map, Value as J};

use crate::{progress, retry, BATCH, TARGET};

pub(crate) struct Export;

/// Sources that are not collections: entities generation and uploads write.
const ENTITIES: &[&str] = &["custom", "uploads"];

impl Runner for Export {
    fn check(&self, app: &AppService, params: J) -> Result<J, Vec<FieldError>> {
        let mut errors = Vec::new();
        let known = |s: &str| {
            app.collection(s).is_some()
                || plinth_generators::ENTITIES.contains(&s)
                || ENTITIES.contains(&s)
        };
        match params.get("source").and_then(J::as_str) {
            Some(s) if known(s) => {}
            _ => errors.push(FieldError::new(
                "source",
                "a collection of the app or a generated entity (users, products, orders, custom, uploads)",
            )),
        }
        match params.get("format").and_then(J::as_str) {
            None | Some("csv" | "json" | "parquet") => {}
            Some(_) => errors.push(FieldError::new("format", "csv, json or parquet")),
        }
        if let Some(o) = params.as_object() {
            for k in o
                .keys()
                .filter(|k| !["source", "format"].contains(&k.as_str()))
            {
                errors.push(FieldError::new(k.as_str(), "unknown field"));
            }
        } else {
            errors.push(FieldError::new("", "a JSON object"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let format = params.get("format").and_then(J::as_str).unwrap_or("csv");
        Ok(json!({"source": params["source"], "format": format}))
    }

    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let p = &job.job.params;
            let source = p["source"].as_str().unwrap_or_default().to_owned();
            let format = p["format"].as_str().unwrap_or("csv").to_owned();
            let app = &job.app;
            let store = app
                .files()
                .ok_or_else(|| JobError::Fail("no file storage is configured".into()))?;
            let ctx = app.system_ctx();
            // A collection of the app (as its API shows it), or the payloads of an entity.
            let (coll, filter) = match app.collection(&source) {
                Some(c) => (c.clone(), None),
                None => (
                    app.any_collection(TARGET)
                        .ok_or_else(|| JobError::Fail(format!("no `{TARGET}` collection")))?
                        .clone(),
                    Some(source.clone()),
                ),
            };
            let mut out = store.writer(&format).await.map_err(retry)?;
            let mut writer = Writer::new(&format);
            let (mut offset, mut rows, mut last) = (0u64, 0u64, 0u64);
            loop {
                let mut pairs = vec![
                    ("limit".to_owned(), BATCH.to_string()),
                    ("offset".to_owned(), offset.to_string()),
                    ("sort".to_owned(), "id".to_owned()),
                ];
                if let Some(entity) = &filter {
                    pairs.push(("entity".to_owned(), entity.clone()));
                }
                let page = app.list(&ctx, &coll, &pairs).await.map_err(retry)?;
                let total = page.total.map_or(0, |t| t.count);
                let n = page.items.len() as u64;
                let batch: Vec<Map<String, J>> = page
                    .items
                    .iter()
                    .map(|rec| match &filter {
                        Some(_) => rec.get("payload").cloned().unwrap_or(J::Null),
                        None => rec.to_json(),
                    })
                    .map(|row| match row {
                        J::Object(o) => o,
                        other => Map::from_iter([("value".to_owned(), other)]),
                    })
                    .collect();
                let chunk = writer.page(&batch).map_err(JobError::Fail)?;
                if let Err(e) = out.write(Bytes::from(chunk)).await {
                    out.abort().await;
                    return Err(retry(e));
                }
                rows += n;
                offset += n;
                if n < BATCH as u64 {
                    break;
                }
                if !progress(&job, rows, total, &mut last).await {
                    out.abort().await;
                    return Err(JobError::Fail("cancelled".into()));
                }
            }
            let tail = writer.finish().map_err(JobError::Fail)?;
            if let Err(e) = out.write(Bytes::from(tail)).await {
                out.abort().await;
                return Err(retry(e));
            }
            let file = out.finish().await.map_err(retry)?;
            Ok(JobOutput {
                result: Some(json!({"rows": rows, "format": format, "bytes": file.size,
                    "sha256": file.sha256})),
                result_uri: Some(format!("/files/{}", file.key)),
                ..JobOutput::default()
            })
        })
    }
}

/// Rows to CSV (header from the first row's keys), one JSON array, or Parquet.
enum Writer {
    Csv(Option<Vec<String>>),
    Json { first: bool },
    Parquet(Box<crate::parquet_out::ParquetRows>),
}

impl Writer {
    fn new(format: &str) -> Self {
        match format {
            "json" => Writer::Json { first: true },
            "parquet" => Writer::Parquet(Box::new(crate::parquet_out::ParquetRows::new())),
            _ => Writer::Csv(None),
        }
    }

    /// The bytes of one page of rows.
    fn page(&mut self, rows: &[Map<String, J>]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        match self {
            Writer::Json { first } => {
                for row in rows {
                    out.extend_from_slice(if *first { b"[\n" } else { b",\n" });
                    *first = false;
                    out.extend_from_slice(J::Object(row.clone()).to_string().as_bytes());
                }
            }
            Writer::Csv(header) => {
                let mut w = csv::Writer::from_writer(Vec::new());
                for row in rows {
                    let h = match header {
                        Some(h) => h,
                        None => {
                            let h: Vec<String> = row.keys().cloned().collect();
                            w.write_record(&h).map_err(|e| e.to_string())?;
                            header.insert(h)
                        }
                    };
                    let cells: Vec<String> = h.iter().map(|k| cell(row.get(k))).collect();
                    w.write_record(&cells).map_err(|e| e.to_string())?;
                }
                out = w.into_inner().map_err(|e| e.to_string())?;
            }
            Writer::Parquet(p) => out = p.batch(rows).map_err(|e| e.to_string())?,
        }
        Ok(out)
    }

    /// The file's last bytes.
    fn finish(self) -> Result<Vec<u8>, String> {
        match self {
            Writer::Json { first } => Ok(if first {
                b"[]\n".to_vec()
            } else {
                b"\n]\n".to_vec()
            }),
            Writer::Csv(_) => Ok(Vec::new()),
            Writer::Parquet(p) => (*p).finish().map_err(|e| e.to_string()),
        }
    }
}

/// A CSV cell: text as is, null empty, anything else as JSON.
fn cell(v: Option<&J>) -> String {
    match v {
        None | Some(J::Null) => String::new(),
        Some(J::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
