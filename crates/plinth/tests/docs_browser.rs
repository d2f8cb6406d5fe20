//! Every bundled app's API reference page in a real browser: `tests/browser/docs.mjs` loads
//! each `{base}/docs` in headless Chromium (npm's `playwright-core` driving the system's
//! `/usr/bin/chromium`, or `CHROMIUM`) and fails on a failed request, a console error, or a rendered count
//! of operations or responses that differs from the app's OpenAPI document. It saves a
//! screenshot of CloudDrift's page to `<target dir>/artifacts/docs-clouddrift.png`, or to
//! `DOCS_SCREENSHOT`.
//!
//! `tests/browser/node_modules` is installed by `npm ci` on first use. Without Chromium,
//! `node` or a working `npm ci` the test prints
//! a note and passes, unless `TEST_REQUIRE_BROWSER=1` (as in CI), where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Backend, TestEnv};
use serde_json::Value;

/// The app whose page is photographed; its base goes first.
const SCREENSHOT_APP: &str = "clouddrift";

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Why the browser test cannot run here, if it cannot.
fn missing(chromium: &Path) -> Option<String> {
    if !chromium.exists() {
        return Some(format!("no Chromium at {}", chromium.display()));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("no `node` on PATH".into());
    }
    let module = workspace().join("tests/browser/node_modules/playwright-core");
    if !common::npm_ci("browser") || !module.exists() {
        return Some("no tests/browser/node_modules (`npm ci` there failed)".into());
    }
    None
}

/// `$CARGO_TARGET_DIR/artifacts/docs-<app>.png`, or `DOCS_SCREENSHOT`.
fn screenshot_path() -> PathBuf {
    if let Some(p) = std::env::var_os("DOCS_SCREENSHOT").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // The binary is `<target>/<profile>/plinth`.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            Path::new(env!("CARGO_BIN_EXE_plinth"))
                .parent()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| workspace().join("target"));
    target
        .join("artifacts")
        .join(format!("docs-{SCREENSHOT_APP}.png"))
}

#[tokio::test]
async fn every_bundled_apps_reference_page_renders_in_chromium() {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if let Some(why) = missing(&chromium) {
        if std::env::var("TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_BROWSER=1 but {why}");
        }
        eprintln!("note: browser test skipped: {why}");
        return;
    }
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite");
    let names: Vec<&str> = plinth::apps::BUNDLED.iter().map(|b| b.name).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    let app = env.spawn(&names).await;

    // The API bases, as the index lists them.
    let index: Value = app
        .client
        .get(format!("{}/", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .expect("index")
        .json()
        .await
        .expect("json");
    let mut apps: Vec<(String, String)> = index["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| {
            let name = a["name"].as_str().expect("name").to_owned();
            (
                name,
                format!("{}{}", app.base, a["api"].as_str().expect("api")),
            )
        })
        .collect();
    assert_eq!(apps.len(), names.len(), "{index}");
    apps.sort_by_key(|(name, _)| name != SCREENSHOT_APP);

    let shot = screenshot_path();
    if let Some(dir) = shot.parent() {
        std::fs::create_dir_all(dir).expect("artifacts dir");
    }
    let run = tokio::process::Command::new("node")
        .arg(workspace().join("tests/browser/docs.mjs"))
        .args(apps.iter().map(|(_, base)| base))
        .env("CHROMIUM", &chromium)
        .env("DOCS_SCREENSHOT", &shot)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("the browser check finishes within 4 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // One clean line per app.
    for (name, base) in &apps {
        assert!(
            stdout.contains(&format!("\"base\":\"{base}\"")),
            "{name} in {stdout}"
        );
    }
    assert!(shot.exists(), "screenshot at {}", shot.display());
    println!("screenshot: {}", shot.display());
    app.stop().await;
}
