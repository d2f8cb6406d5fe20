//! `datagen.export`: `{"source": "users", "format": "csv"}` writes a collection of the app
//! or a generated entity (the `generated_data` rows of that entity, their payloads) to a
//! CSV or JSON file in the app's file storage; the job's `result_uri` is `/files/<key>`
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
            None | Some("csv" | "json") => {}
            Some(_) => errors.push(FieldError::new("format", "csv or json")),
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
                let mut chunk = Vec::new();
                for rec in &page.items {
                    let row = match &filter {
                        Some(_) => rec.get("payload").cloned().unwrap_or(J::Null),
                        None => rec.to_json(),
                    };
                    writer
                        .row(&row, &mut chunk)
                        .map_err(|e| JobError::Fail(e.to_string()))?;
                }
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
            let mut tail = Vec::new();
            writer.finish(&mut tail);
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

/// Rows to CSV (header from the first row's keys) or to one JSON array.
struct Writer {
    json: bool,
    header: Option<Vec<String>>,
    first: bool,
}

impl Writer {
    fn new(format: &str) -> Self {
        Writer {
            json: format == "json",
            header: None,
            first: true,
        }
    }

    fn row(&mut self, row: &J, out: &mut Vec<u8>) -> Result<(), csv::Error> {
        let empty = Map::new();
        let obj = row.as_object().unwrap_or(&empty);
        if self.json {
            out.extend_from_slice(if self.first { b"[\n" } else { b",\n" });
            self.first = false;
            out.extend_from_slice(row.to_string().as_bytes());
            return Ok(());
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = match &self.header {
            Some(h) => h,
            None => {
                let h: Vec<String> = obj.keys().cloned().collect();
                w.write_record(&h)?;
                self.header.insert(h)
            }
        };
        let cells: Vec<String> = header.iter().map(|k| cell(obj.get(k))).collect();
        w.write_record(&cells)?;
        out.extend_from_slice(
            &w.into_inner()
                .map_err(|e| csv::Error::from(e.into_error()))?,
        );
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.json {
            out.extend_from_slice(if self.first { b"[]\n" } else { b"\n]\n" });
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
