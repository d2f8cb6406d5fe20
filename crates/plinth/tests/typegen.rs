//! `plinth typegen --lang ts`: every bundled app's client compiles under `tsc --strict`
//! (and stricter flags a frontend may use), and the Sim-Flow client drives a live server:
//! create, list, get, delete, and typed `ApiError`s for a 401, a validation error and a 404
//! (`tests/typegen/live.ts`).
//!
//! Needs `node` and `tests/typegen/node_modules` (pinned TypeScript, installed by `npm ci`
//! on first use);
//! without them these tests print a note and pass, unless `TEST_REQUIRE_NODE=1` (as in
//! CI), where they fail instead.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Backend, TestEnv};

const APPS: &[&str] = &["simflow", "clouddrift", "revops", "datagen", "quadrax"];

/// `--strict` and the other checks a strict frontend config turns on; ES2022 with the DOM
/// library, where `fetch`, `Headers` and `FormData` are declared.
const TSC_FLAGS: &[&str] = &[
    "--strict",
    "--exactOptionalPropertyTypes",
    "--noUncheckedIndexedAccess",
    "--noUnusedLocals",
    "--noUnusedParameters",
    "--noImplicitReturns",
    "--noImplicitOverride",
    "--erasableSyntaxOnly",
    "--target",
    "es2022",
    "--lib",
    "es2022,dom",
];

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The pinned `tsc`, when it and `node` are there; otherwise a note (or a failure when
/// `TEST_REQUIRE_NODE=1`).
fn tsc() -> Option<PathBuf> {
    let tsc = repo().join("tests/typegen/node_modules/.bin/tsc");
    let node = Command::new("node").arg("--version").output();
    common::npm_ci("typegen");
    let missing = match (&node, tsc.is_file()) {
        (Ok(out), true) if out.status.success() => return Some(tsc),
        (Ok(out), _) if out.status.success() => {
            "tests/typegen/node_modules (`npm ci` there failed)"
        }
        _ => "node",
    };
    if std::env::var("TEST_REQUIRE_NODE").is_ok_and(|v| v == "1") {
        panic!("TEST_REQUIRE_NODE=1 but {missing} is missing");
    }
    eprintln!("note: typegen test skipped: {missing} is missing");
    None
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the command runs")
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `plinth typegen --lang ts <app> --out <dir>/<app>.ts`, from the repository root.
fn typegen(app: &str, dir: &Path) -> PathBuf {
    let file = dir.join(format!("{app}.ts"));
    let out = run(Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["typegen", "--lang", "ts", app, "--out"])
        .arg(&file)
        .current_dir(repo())
        .env("PLINTH_LOG_LEVEL", "warn")
        .env_remove("PLINTH_DATABASE_URL"));
    assert!(out.status.success(), "typegen {app}: {}", text(&out));
    file
}

#[test]
fn the_command_writes_to_stdout_or_a_file_and_takes_only_ts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = typegen("simflow", dir.path());
    let stdout = run(Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["typegen", "--lang", "ts", "simflow"])
        .current_dir(repo())
        .env_remove("PLINTH_DATABASE_URL"));
    assert!(stdout.status.success(), "{}", text(&stdout));
    let written = std::fs::read(&file).expect("the file is written");
    assert_eq!(
        stdout.stdout, written,
        "stdout and --out give the same, deterministic output"
    );
    let head = String::from_utf8_lossy(&written[..200.min(written.len())]).into_owned();
    assert!(
        head.contains("OpenAPI document of simflow (version "),
        "{head}"
    );

    let other = run(Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["typegen", "--lang", "py", "simflow"])
        .current_dir(repo()));
    assert!(!other.status.success());
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("invalid value 'py'") && err.contains("ts"),
        "{err}"
    );

    let unknown = run(Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["typegen", "--lang", "ts", "nosuchapp"])
        .current_dir(repo())
        .env_remove("PLINTH_DATABASE_URL"));
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no app named `nosuchapp`"));
}

#[test]
fn every_bundled_app_compiles_under_tsc_strict() {
    let Some(tsc) = tsc() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<PathBuf> = APPS.iter().map(|app| typegen(app, dir.path())).collect();
    // One compiler run for all five (each file is its own module); errors name the file.
    let out = run(Command::new(&tsc)
        .args(TSC_FLAGS)
        .args(["--noEmit", "--module", "es2022"])
        .args(&files));
    assert!(out.status.success(), "tsc: {}", text(&out));
}

#[tokio::test]
async fn the_generated_client_drives_a_live_server() {
    let Some(tsc) = tsc() else { return };
    let Some(env) = TestEnv::new(Backend::Sqlite) else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    typegen("simflow", dir.path());
    std::fs::copy(
        repo().join("tests/typegen/live.ts"),
        dir.path().join("live.ts"),
    )
    .expect("copy");
    let out = run(Command::new(&tsc)
        .args(TSC_FLAGS)
        .args(["--module", "commonjs", "--outDir"])
        .arg(dir.path().join("js"))
        .arg(dir.path().join("live.ts")));
    assert!(out.status.success(), "tsc: {}", text(&out));

    let app = env.spawn(&["simflow"]).await;
    let token = app.service_token("simflow", "SERVICE").await;
    let program = dir.path().join("js/live.js");
    let base = format!("{}/simflow/api", app.base);
    let out = tokio::task::spawn_blocking(move || {
        run(Command::new("node")
            .arg(program)
            .env("PLINTH_BASE_URL", base)
            .env("PLINTH_TOKEN", token))
    })
    .await
    .expect("node finished");
    assert!(
        out.status.success(),
        "the client program failed: {}",
        text(&out)
    );
    app.stop().await;
}
