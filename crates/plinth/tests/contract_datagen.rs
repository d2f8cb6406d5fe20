//! DataGen's API as its seed (003) names it, called the way its clients would, at its default
//! mount and at `/`, on both databases: `GET /` health; `POST /generate` (202 `{jobId}`) and a
//! worker that writes the rows; `POST /upload` (201 `{jobId}`) read in the background;
//! `POST /export` (202) whose `resultUri` downloads the file; `GET /status/:jobId` until done.
//! Bad parameters get 400 before anything is enqueued; uploads that are too large (413), of
//! the wrong kind by content (415) or cut off leave no file, record or job.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{TestApp, TestEnv};
use plinth_core::jobs::NewJob;
use reqwest::Method;
use serde_json::{json, Value};

both!(
    datagen_at_default_mount,
    datagen_at_root,
    uploads_that_fail_leave_nothing,
    old_jobs_are_cleaned_up
);

async fn datagen_at_default_mount(env: TestEnv) {
    story(env, "/datagen").await;
}

async fn datagen_at_root(env: TestEnv) {
    story(env, "/").await;
}

async fn start(env: &TestEnv, mount: &str, manifest: Option<PathBuf>) -> TestApp {
    let mut config = env.config(&[("datagen", manifest)]);
    config.apps.get_mut("datagen").expect("app").mount = Some(mount.to_owned());
    config.jobs.poll_ms = 50;
    env.start(&config).await.expect("server starts")
}

/// `GET /status/:jobId` until the job is completed or failed (fails after 30 s).
async fn settle(app: &TestApp, prefix: &str, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let r = app.get(&format!("{prefix}/status/{id}")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if matches!(r.body["status"].as_str(), Some("completed" | "failed")) {
            return r.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job never finished: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn job_id(r: &common::Reply) -> String {
    r.body["jobId"].as_str().expect("jobId").to_owned()
}

async fn count(env: &TestEnv, sql: &str) -> i64 {
    let rows = env.direct("datagen", sql, sql).await;
    rows[0][0]
        .as_deref()
        .expect("count")
        .parse()
        .expect("number")
}

async fn upload(app: &TestApp, path: &str, name: &str, bytes: Vec<u8>) -> common::Reply {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    TestApp::reply(res).await
}

async fn story(env: TestEnv, mount: &str) {
    let app = start(&env, mount, None).await;
    let p = mount.trim_end_matches('/');

    // Health: service, version, database.
    let h = app.get(&format!("{p}/")).await;
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.body["service"], "datagen");
    assert_eq!(h.body["database"], "ok");
    assert!(h.body["version"].is_string());

    // Generate 1,000 users, seeded.
    let g = app
        .post(
            &format!("{p}/generate"),
            json!({"entity": "users", "rows": 1000, "seed": 42}),
        )
        .await;
    assert_eq!(g.status, 202, "{}", g.body);
    let id = job_id(&g);
    let done = settle(&app, p, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["jobId"], id);
    assert_eq!(done["type"], "generation");
    assert_eq!(done["resultUri"], Value::Null);
    assert_eq!(done["result"]["rows"], 1000);
    assert_eq!(done["progress"], 1.0);
    let n = count(
        &env,
        &format!("SELECT COUNT(*) FROM generated_data WHERE entity = 'users' AND job_id = '{id}'"),
    )
    .await;
    assert_eq!(n, 1000);
    // The seed's jobs table follows the job.
    let row = app.get(&format!("{p}/jobs/{id}")).await;
    assert_eq!(row.body["status"], "completed", "{}", row.body);
    assert_eq!(row.body["type"], "generation");

    // The same seed gives the same rows.
    let again = app
        .post(
            &format!("{p}/generate"),
            json!({"entity": "users", "rows": 1000, "seed": 42}),
        )
        .await;
    let id2 = job_id(&again);
    settle(&app, p, &id2).await;
    let first = |job: &str| {
        format!("SELECT payload FROM generated_data WHERE job_id = '{job}' ORDER BY id LIMIT 1")
    };
    let a = env
        .direct(
            "datagen",
            &first(&id),
            &format!("SELECT payload::text FROM ({}) x", first(&id)),
        )
        .await;
    let b = env
        .direct(
            "datagen",
            &first(&id2),
            &format!("SELECT payload::text FROM ({}) x", first(&id2)),
        )
        .await;
    let parse = |r: &Vec<Vec<Option<String>>>| -> Value {
        serde_json::from_str(r[0][0].as_deref().expect("payload")).expect("json")
    };
    assert_eq!(parse(&a), parse(&b));
    assert!(parse(&a)["email"].as_str().is_some_and(|e| e.contains('@')));

    // Custom columns.
    let c = app
        .post(
            &format!("{p}/generate"),
            json!({"columns": [
            {"name": "score", "type": "int", "min": 1, "max": 5},
            {"name": "tier", "type": "enum", "values": ["gold", "silver"]}], "rows": 50}),
        )
        .await;
    assert_eq!(c.status, 202, "{}", c.body);
    assert_eq!(settle(&app, p, &job_id(&c)).await["status"], "completed");

    // Bad parameters: 400 naming each field, and nothing enqueued.
    let jobs_before = count(&env, "SELECT COUNT(*) FROM _plinth_jobs").await;
    let bad = app
        .post(
            &format!("{p}/generate"),
            json!({"entity": "cars", "rows": 0}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields = common::error_fields(&bad);
    assert!(
        fields.contains(&"entity".to_owned()) && fields.contains(&"rows".to_owned()),
        "{}",
        bad.body
    );
    let bad = app
        .post(
            &format!("{p}/export"),
            json!({"source": "nowhere", "format": "xls"}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields = common::error_fields(&bad);
    assert!(
        fields.contains(&"source".to_owned()) && fields.contains(&"format".to_owned()),
        "{}",
        bad.body
    );
    let malformed = app
        .raw(
            Method::POST,
            &format!("{p}/generate"),
            "application/json",
            b"{rows".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    assert_eq!(
        count(&env, "SELECT COUNT(*) FROM _plinth_jobs").await,
        jobs_before
    );

    // Export the users as CSV and download them.
    let e = app
        .post(
            &format!("{p}/export"),
            json!({"source": "users", "format": "csv"}),
        )
        .await;
    assert_eq!(e.status, 202, "{}", e.body);
    let done = settle(&app, p, &job_id(&e)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["type"], "export");
    let uri = done["resultUri"].as_str().expect("resultUri").to_owned();
    assert!(
        uri.starts_with(&format!("{p}/files/")) && uri.ends_with(".csv"),
        "{uri}"
    );
    let file = app
        .client
        .get(format!("{}{uri}", app.base))
        .send()
        .await
        .expect("download");
    assert_eq!(file.status(), 200);
    assert_eq!(file.headers()["content-type"], "text/csv");
    let text = file.text().await.expect("body");
    let lines: Vec<&str> = text.lines().collect();
    // Two generations of 1,000 users each, and a header.
    assert_eq!(lines.len(), 2001, "{}", &text[..200.min(text.len())]);
    assert!(lines[0].contains("email"), "{}", lines[0]);
    // The same as Parquet: typed columns, every row.
    let e = app
        .post(
            &format!("{p}/export"),
            json!({"source": "users", "format": "parquet"}),
        )
        .await;
    let done = settle(&app, p, &job_id(&e)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let uri = done["resultUri"].as_str().expect("resultUri").to_owned();
    assert!(uri.ends_with(".parquet"), "{uri}");
    let res = app
        .client
        .get(format!("{}{uri}", app.base))
        .send()
        .await
        .expect("download");
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    let bytes = res.bytes().await.expect("body");
    use parquet::file::reader::FileReader;
    let file = parquet::file::reader::SerializedFileReader::new(bytes).expect("a Parquet file");
    let meta = file.metadata().file_metadata();
    assert_eq!(meta.num_rows(), 2000);
    let columns: Vec<String> = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    assert!(
        columns.contains(&"email".to_owned()) && columns.contains(&"age".to_owned()),
        "{columns:?}"
    );
    let age = meta
        .schema_descr()
        .columns()
        .iter()
        .find(|c| c.name() == "age")
        .expect("age");
    assert_eq!(age.physical_type(), parquet::basic::Type::INT64);
    // The seed's jobs table as JSON.
    let e = app
        .post(
            &format!("{p}/export"),
            json!({"source": "jobs", "format": "json"}),
        )
        .await;
    let done = settle(&app, p, &job_id(&e)).await;
    let uri = done["resultUri"].as_str().expect("resultUri").to_owned();
    let body: Value = app
        .client
        .get(format!("{}{uri}", app.base))
        .send()
        .await
        .expect("download")
        .json()
        .await
        .expect("json");
    assert!(body.as_array().is_some_and(|a| a.len() >= 4), "{body}");
    assert!(body
        .as_array()
        .expect("rows")
        .iter()
        .all(|j| j["type"].is_string()));

    // Upload a CSV; it is read into generated_data in the background.
    let csv = "name,age,active\nAda,36,true\nGrace,45,false\nLinus,,true\n";
    let u = upload(
        &app,
        &format!("{p}/upload"),
        "people.csv",
        csv.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(u.status, 201, "{}", u.body);
    let uid = job_id(&u);
    let done = settle(&app, p, &uid).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["type"], "upload");
    assert_eq!(done["result"]["rows"], 3);
    let rows = env
        .direct("datagen",
            &format!("SELECT original_name, status, size_bytes FROM uploaded_files WHERE job_id = '{uid}'"),
            &format!("SELECT original_name, status, size_bytes::text FROM uploaded_files WHERE job_id = '{uid}'"))
        .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0].as_deref(), Some("people.csv"));
    assert_eq!(rows[0][1].as_deref(), Some("completed"));
    assert_eq!(rows[0][2].as_deref(), Some(csv.len().to_string().as_str()));
    assert_eq!(
        count(
            &env,
            &format!("SELECT COUNT(*) FROM generated_data WHERE job_id = '{uid}'")
        )
        .await,
        3
    );

    // The queue on /metrics: finished jobs by kind and status, and the depth gauges.
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.expect("text");
    assert!(
        text.contains(
            "plinth_jobs_finished_total{app=\"datagen\",kind=\"generation\",status=\"completed\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("plinth_jobs{app=\"datagen\",status=\"pending\"}"),
        "{text}"
    );
    assert!(text.contains("plinth_job_start_delay_seconds"), "{text}");

    // A row of the seed's jobs table written directly (no job in the queue) still answers
    // its status from its own fields.
    let row = app.post(&format!("{p}/jobs"), json!({"type": "export", "params": {"source": "users"}, "status": "failed", "error_message": "disk full"})).await;
    assert_eq!(row.status, 201, "{}", row.body);
    let rid = row.body["id"].as_str().expect("id").to_owned();
    let s = app.get(&format!("{p}/status/{rid}")).await;
    assert_eq!(s.status, 200, "{}", s.body);
    assert_eq!(
        (s.body["status"].as_str(), s.body["type"].as_str()),
        (Some("failed"), Some("export"))
    );
    assert_eq!(s.body["error"], "disk full");

    // Unknown jobs and files.
    let missing = app
        .get(&format!("{p}/status/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let junk = app.get(&format!("{p}/status/not-a-job")).await;
    assert_eq!(junk.status, 404, "{}", junk.body);
    let nofile = app
        .get(&format!("{p}/files/{}.csv", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(nofile.status, 404, "{}", nofile.body);
    app.stop().await;
}

/// The bundled manifest with a 2 KiB upload limit.
fn small_uploads(env: &TestEnv) -> PathBuf {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../apps/datagen/app.yaml"
    ))
    .expect("manifest");
    assert!(src.contains("max_bytes: 52428800"));
    let path = env.dir.path().join("datagen.yaml");
    std::fs::write(&path, src.replace("max_bytes: 52428800", "max_bytes: 2048")).expect("write");
    path
}

/// Files stored for the app (none may be left by a failed upload).
fn stored_files(env: &TestEnv) -> Vec<PathBuf> {
    let dir = env.dir.path().join("data/files/datagen");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                out.push(p)
            }
        }
    }
    out
}

/// No stored file, upload record or job.
async fn nothing(env: &TestEnv) {
    let files = stored_files(env);
    assert!(files.is_empty(), "{files:?}");
    assert_eq!(count(env, "SELECT COUNT(*) FROM uploaded_files").await, 0);
    // (The daily clean-up's missed run is the one job a fresh start has.)
    assert_eq!(
        count(
            env,
            "SELECT COUNT(*) FROM _plinth_jobs WHERE kind != 'cleanup'"
        )
        .await,
        0
    );
    assert_eq!(count(env, "SELECT COUNT(*) FROM jobs").await, 0);
}

async fn uploads_that_fail_leave_nothing(env: TestEnv) {
    let app = start(&env, "/datagen", Some(small_uploads(&env))).await;
    // Too large.
    let big = "a,b\n".repeat(1000).into_bytes();
    let r = upload(&app, "/datagen/upload", "big.csv", big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "PAYLOAD_TOO_LARGE");
    nothing(&env).await;
    // A PNG named .csv.
    let png = [
        &[0x89u8, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
        &[0u8; 64],
    ]
    .concat();
    let r = upload(&app, "/datagen/upload", "data.csv", png).await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(r.body["error"]["code"], "UNSUPPORTED_MEDIA_TYPE");
    nothing(&env).await;
    // No file field.
    let form = reqwest::multipart::Form::new().text("note", "hello");
    let res = app
        .client
        .post(format!("{}/datagen/upload", app.base))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 400);
    // Cut off mid-way: the client's body fails after some bytes.
    let boundary = "XBOUNDARYX";
    let head = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.csv\"\r\nContent-Type: text/csv\r\n\r\nname,age\nAda,36\n");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(head.into_bytes()),
        Ok(b"Grace,45\n".to_vec()),
        Err(std::io::Error::other("client gone")),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let sent = app
        .client
        .post(format!("{}/datagen/upload", app.base))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await;
    assert!(sent.is_err(), "the request could not complete");
    // The server notices the cut and cleans up (on its own time): wait until it has.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !stored_files(&env).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nothing(&env).await;
    app.stop().await;
}

/// The daily clean-up: jobs older than its `days` go with their generated rows (cascade)
/// and their export files; newer ones stay.
async fn old_jobs_are_cleaned_up(env: TestEnv) {
    let app = start(&env, "/datagen", None).await;
    let g = app
        .post(
            "/datagen/generate",
            json!({"entity": "products", "rows": 20}),
        )
        .await;
    let old = job_id(&g);
    settle(&app, "/datagen", &old).await;
    let e = app
        .post(
            "/datagen/export",
            json!({"source": "products", "format": "json"}),
        )
        .await;
    let export = job_id(&e);
    let done = settle(&app, "/datagen", &export).await;
    let uri = done["resultUri"].as_str().expect("uri").to_owned();
    let n = app
        .post("/datagen/generate", json!({"entity": "orders", "rows": 5}))
        .await;
    let new = job_id(&n);
    settle(&app, "/datagen", &new).await;
    // The first two are a year old.
    let ids = format!("'{old}', '{export}'");
    env.direct(
        "datagen",
        &format!("UPDATE jobs SET created_at = '2025-01-01T00:00:00.000Z' WHERE id IN ({ids})"),
        &format!("UPDATE jobs SET created_at = '2025-01-01T00:00:00Z' WHERE id IN ({ids})"),
    )
    .await;
    assert_eq!(stored_files(&env).len(), 1);
    let svc = app.service("datagen").clone();
    let ctx = svc.system_ctx();
    let job = NewJob {
        kind: "cleanup".into(),
        params: json!({"days": 30}),
        ..Default::default()
    };
    let job = svc
        .enqueue(&ctx, job)
        .await
        .expect("enqueued")
        .expect("new");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let done = loop {
        let j = svc.job(&ctx, job.id).await.expect("read").expect("job");
        if j.is_finished() {
            break j;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "clean-up never finished"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(done.status, "completed", "{done:?}");
    assert_eq!(done.result, Some(json!({"jobs": 2, "files": 1})));
    assert_eq!(count(&env, "SELECT COUNT(*) FROM jobs").await, 1);
    assert_eq!(
        count(
            &env,
            &format!("SELECT COUNT(*) FROM generated_data WHERE job_id = '{old}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &env,
            &format!("SELECT COUNT(*) FROM generated_data WHERE job_id = '{new}'")
        )
        .await,
        5
    );
    assert!(stored_files(&env).is_empty());
    let gone = app.get(&uri).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(app.get(&format!("/datagen/status/{new}")).await.status, 200);
    app.stop().await;
}
