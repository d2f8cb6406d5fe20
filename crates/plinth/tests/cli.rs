//! The `plinth` binary: check, openapi and migrate as a user runs them.

use std::process::Command;

fn plinth(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(args)
        .current_dir(dir)
        .env("PLINTH_DATA_DIR", dir.join("data"))
        .env("PLINTH_LOG_LEVEL", "warn")
        .env_remove("PLINTH_DATABASE_URL")
        .output()
        .expect("plinth runs")
}

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn check_reports_every_error_with_its_location() {
    let dir = tempfile::tempdir().expect("tmp");
    let app = dir.path().join("bad");
    std::fs::create_dir_all(&app).expect("mkdir");
    std::fs::write(
        app.join("app.yaml"),
        "name: bad\ncollections:\n  posts:\n    fields:\n      author: { type: relation, collection: people }\n      n: { type: int, min: 3, max: 1 }\n",
    )
    .expect("write");
    let out = plinth(dir.path(), &["check", "bad"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("app.yaml:5:") && err.contains("unknown collection `people`"),
        "{err}"
    );
    assert!(
        err.contains("app.yaml:6:") && err.contains("min (3) is greater than max (1)"),
        "{err}"
    );

    let ok = plinth(&repo(), &["check", "apps/simflow"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("app `simflow`"));
}

#[test]
fn a_failed_command_says_why_in_one_line_without_a_backtrace() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["check", "apps/simflow"])
        .current_dir(dir.path())
        .env("PLINTH_NO_SUCH_SETTING", "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("plinth runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("Error: invalid configuration: ") && err.contains("no_such_setting"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn openapi_prints_the_document() {
    let out = plinth(&repo(), &["openapi", "clouddrift"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/clouddrift/api/v1");
    assert!(doc["paths"]["/drifts"]["get"].is_object());

    // Every operation that takes a body (POST, PATCH) documents 413 and 415 in the app's
    // error schema, so a client (or schemathesis) checking status codes accepts them.
    for app in ["simflow", "clouddrift", "revops", "datagen", "quadrax"] {
        let out = plinth(&repo(), &["openapi", app]);
        assert!(out.status.success(), "{app}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let error = &doc["components"]["schemas"]["Error"]["properties"]["error"];
        let style = if matches!(app, "revops" | "quadrax") {
            "string"
        } else {
            "object"
        };
        assert_eq!(error["type"], style, "{app}: {error}");
        let mut writes = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                // Bodiless POSTs (auth/logout) never read a body, so cannot meet either.
                if op.get("requestBody").is_some() {
                    writes.push(method.clone());
                    for code in ["413", "415"] {
                        assert_eq!(
                            op["responses"][code]["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/Error",
                            "{app} {method} {path} lacks {code}"
                        );
                    }
                }
            }
        }
        assert!(writes.contains(&"post".to_owned()), "{app}");
        assert!(writes.contains(&"patch".to_owned()), "{app}");
    }
}

#[test]
fn migrate_status_up_and_down() {
    let dir = tempfile::tempdir().expect("tmp");
    let status = plinth(dir.path(), &["migrate", "status", "--app", "simflow"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(
        String::from_utf8_lossy(&status.stdout).contains("pending  create collection `requests`")
    );
    let up = plinth(dir.path(), &["migrate", "up", "--app", "simflow"]);
    assert!(String::from_utf8_lossy(&up.stdout).contains("simflow: applied auto"));
    let again = plinth(dir.path(), &["migrate", "up", "--app", "simflow"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("simflow: up to date"));
    let down_all = plinth(dir.path(), &["migrate", "down"]);
    assert!(!down_all.status.success(), "down needs --app");
    let down = plinth(dir.path(), &["migrate", "down", "--app", "simflow"]);
    assert!(
        String::from_utf8_lossy(&down.stdout).contains("rolled back 1 auto"),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}
