//! The first minutes of a new user: on an interactive terminal (a pseudo-terminal made by
//! `script`), `plinth serve` prints a banner with every app's URL, its API reference page
//! and OpenAPI document, a demo sign-in and the data folder, and `GET /` lists the apps;
//! with output to a pipe there is no banner and logs are JSON lines.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn serve(dir: &std::path::Path, on_terminal: bool) -> Child {
    let bin = env!("CARGO_BIN_EXE_plinth");
    let mut cmd = if on_terminal {
        let mut c = Command::new("script");
        c.args(["-qfec", &format!("{bin} serve"), "/dev/null"]);
        c
    } else {
        let mut c = Command::new(bin);
        c.arg("serve");
        c
    };
    cmd.current_dir(dir)
        .env("PLINTH_DATA_DIR", dir.join("data"))
        .env("PLINTH_LISTEN", "127.0.0.1:0")
        .env("PLINTH_LOG_LEVEL", "info")
        .env_remove("PLINTH_DATABASE_URL")
        .env_remove("PLINTH_LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd.spawn().expect("plinth starts")
}

/// Lines of `child`'s output until one contains `until` (fails after 90 s).
async fn read_until(child: &mut Child, until: &str) -> Vec<String> {
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(90), async {
        while let Ok(Some(l)) = lines.next_line().await {
            let done = l.contains(until);
            seen.push(l.trim_end_matches('\r').to_owned());
            if done {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "never saw {until:?} in {seen:#?}");
    seen
}

#[tokio::test]
async fn a_terminal_gets_a_banner_and_the_index_lists_the_apps() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = serve(dir.path(), true);
    let lines = read_until(&mut child, "stop: Ctrl-C").await;
    let text = lines.join("\n");
    assert!(text.contains("is serving 5 app(s)"), "{text}");
    let base = lines
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("http://") && w.ends_with("/simflow/api"))
        })
        .expect("simflow's URL")
        .trim_end_matches("/simflow/api")
        .to_owned();
    for path in [
        "/simflow/api",
        "/clouddrift/api/v1",
        "/revops/api",
        "/datagen",
        "/quadrax/api",
    ] {
        assert!(text.contains(&format!("{base}{path}")), "{path} in {text}");
        assert!(
            text.contains(&format!("{base}{path}/openapi.json")),
            "{text}"
        );
        assert!(
            text.contains(&format!("API reference: {base}{path}/docs")),
            "{text}"
        );
    }
    assert!(
        text.contains("demo sign-in: ") && text.contains("plinthdemo1"),
        "{text}"
    );
    assert!(text.contains("data: ") && text.contains("SQLite"), "{text}");
    // Human-readable logs on a terminal, not JSON.
    assert!(!lines.iter().any(|l| l.starts_with('{')), "{text}");
    // The index page lists the same apps.
    let index = reqwest::Client::new()
        .get(format!("{base}/"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("index");
    assert_eq!(index.status(), 200);
    let body: serde_json::Value = index.json().await.expect("json");
    let listed = body.to_string();
    for app in ["simflow", "clouddrift", "revops", "datagen", "quadrax"] {
        assert!(listed.contains(app), "{listed}");
    }
    child.start_kill().expect("stop");
    let _ = child.wait().await;
}

#[tokio::test]
async fn a_pipe_gets_json_logs_and_no_banner() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = serve(dir.path(), false);
    let lines = read_until(&mut child, "\"serving\"").await;
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|_| panic!("a JSON line: {l}"));
        assert!(v.get("level").is_some(), "{l}");
    }
    assert!(!lines.iter().any(|l| l.contains("is serving")));
    child.start_kill().expect("stop");
    let _ = child.wait().await;
}
