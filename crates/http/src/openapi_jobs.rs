//! The job routes in an app's OpenAPI document: the manifest's `endpoints:` (enqueue,
//! upload, job status, health), job outputs under `/files/{key}`, and the admin job API
//! under `/_jobs` (docs/jobs.md).

use plinth_manifest::Manifest;
use serde_json::{json, Map, Value};

fn ok(code: &str, desc: &str, schema: Value) -> Value {
    json!({code: {"description": desc, "content": {"application/json": {"schema": schema}}}})
}

fn id_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

/// Add the app's job routes; `err` makes an error response in the app's style.
pub(crate) fn add_paths(m: &Manifest, paths: &mut Map<String, Value>, err: &dyn Fn(&str) -> Value) {
    if m.jobs.is_empty() && m.endpoints.is_empty() {
        return;
    }
    let job_id = json!({"type": "object", "required": ["jobId"],
        "properties": {"jobId": {"type": "string", "format": "uuid"}}});
    for e in &m.endpoints {
        let Some((method, path)) = e.method_path() else {
            continue;
        };
        let method = method.to_ascii_lowercase();
        let op = if e.health {
            let mut r = ok(
                "200",
                "The service and its database",
                json!({"type": "object",
                "properties": {"service": {"type": "string"}, "version": {"type": "string"},
                    "status": {"type": "string"}, "database": {"type": "string"}}}),
            );
            r["503"] = json!({"description": "The database is unavailable"});
            json!({"summary": "Health", "responses": r})
        } else if e.job_status {
            let mut r = ok(
                "200",
                "The job's status",
                json!({"type": "object", "properties": {
                "jobId": {"type": "string", "format": "uuid"}, "type": {"type": "string"},
                "status": {"type": "string"}, "resultUri": {"type": ["string", "null"]},
                "progress": {"type": ["number", "null"]}, "result": {},
                "error": {"type": ["string", "null"]}, "attempts": {"type": "integer"},
                "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}}}),
            );
            r["404"] = err("No such job");
            json!({"summary": "A job's status", "parameters": [id_param("id")], "responses": r})
        } else if let Some(u) = &e.upload {
            let mut r = ok(
                "201",
                "Stored; the job that reads it is queued",
                job_id.clone(),
            );
            r["400"] = err("No file, or not a multipart form");
            r["413"] = err("Larger than the limit");
            r["415"] = err("Not an accepted kind of file (judged by its content)");
            json!({"summary": format!("Upload a file ({}; at most {} bytes)", u.types.join(", "), u.max_bytes),
                "requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}},
                "responses": r})
        } else {
            let kind = e.enqueue.as_deref().unwrap_or_default();
            let mut r = ok("202", "Queued", job_id.clone());
            r["400"] = err("Bad parameters (nothing queued)");
            json!({"summary": format!("Queue a `{kind}` job"),
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": r})
        };
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    let mut file = json!({"200": {"description": "The file",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}});
    file["404"] = err("No such file, or not yours to see");
    paths.insert(
        "/files/{key}".into(),
        json!({"get": {"operationId": "downloadFile", "summary": "A job's output (its resultUri)",
        "parameters": [id_param("key")], "responses": file}}),
    );
    let job = json!({"type": "object", "description": "A row of the job queue (docs/jobs.md)"});
    let mut list = ok("200", "Jobs", json!({"type": "object"}));
    list["401"] = err("Sign in first");
    list["403"] = err("Admins only");
    let params: Vec<Value> = ["status", "kind", "queue"]
        .iter()
        .map(|p| json!({"name": p, "in": "query", "schema": {"type": "string"}}))
        .chain([json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}),
            json!({"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}})])
        .collect();
    paths.insert("/_jobs".into(), json!({"get": {"operationId": "listQueueJobs", "summary": "The job queue (admins)", "parameters": params, "responses": list}}));
    let mut one = ok("200", "A job", job.clone());
    one["401"] = err("Sign in first");
    one["403"] = err("Admins only");
    one["404"] = err("No such job");
    paths.insert("/_jobs/{id}".into(), json!({"get": {"operationId": "getQueueJob", "summary": "A job (admins)", "parameters": [id_param("id")], "responses": one.clone()}}));
    let mut act = one;
    act["409"] = err("Not in a state this applies to");
    // Operation ids of their own, apart from the `jobs` collection's (DataGen has one).
    for (action, id, what) in [
        (
            "cancel",
            "cancelQueueJob",
            "Cancel a pending or running job",
        ),
        (
            "retry",
            "retryQueueJob",
            "Run a failed, dead or cancelled job again",
        ),
    ] {
        paths.insert(
            format!("/_jobs/{{id}}/{action}"),
            json!({"post": {"operationId": id, "summary": what, "parameters": [id_param("id")], "responses": act}}),
        );
    }
}
