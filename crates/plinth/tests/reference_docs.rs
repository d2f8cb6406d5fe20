//! The generated reference documents are committed; each must equal what the code renders
//! now. `UPDATE_REFERENCE=1 cargo test -p plinth --test reference_docs` rewrites them.

mod common;

use std::path::PathBuf;

fn check(relative: &str, rendered: &str) {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(relative);
    if std::env::var("UPDATE_REFERENCE").is_ok_and(|v| v == "1") {
        std::fs::write(&path, rendered).expect("write reference");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "{relative} is out of date with the code; run \
         UPDATE_REFERENCE=1 cargo test -p plinth --test reference_docs"
    );
}

#[test]
fn the_configuration_reference_matches_the_config_types() {
    let md = plinth::reference::config_markdown();
    // Every top-level field is there, nested ones flattened, per-app ones templated.
    for key in [
        "`listen`",
        "`jobs.lease_secs`",
        "`tls.cert_file`",
        "`apps.<name>.cors_origins`",
    ] {
        assert!(md.contains(key), "{key} missing");
    }
    assert!(md.contains("`PLINTH_APPS__<NAME>__RATE_LIMITS__API__MAX`"));
    assert!(md.contains("| `jobs.lease_secs` | `PLINTH_JOBS__LEASE_SECS` | number | `30` |"));
    check("docs/config.md", &md);
}

#[test]
fn the_metrics_reference_and_dashboard_match_the_catalogue() {
    use plinth_http::metrics_catalogue::{grafana_dashboard, markdown, METRICS};
    let md = markdown();
    let dashboard = grafana_dashboard();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert_eq!(panels.len(), METRICS.len());
    for (m, p) in METRICS.iter().zip(panels) {
        assert!(md.contains(&format!("`{}`", m.name)));
        let expr = p["targets"][0]["expr"].as_str().expect("expr");
        assert!(expr.contains(m.name), "{expr}");
    }
    check("docs/metrics.md", &md);
    let json = serde_json::to_string_pretty(&dashboard).expect("json") + "\n";
    check("deploy/grafana/plinth.json", &json);
}

/// A live server exports exactly the catalogued families, each with its type and help.
#[tokio::test]
async fn a_server_exports_exactly_the_catalogued_metrics() {
    use plinth_http::metrics_catalogue::METRICS;
    let env = common::TestEnv::new(common::Backend::Sqlite).expect("env");
    let app = env.spawn(&["datagen"]).await;
    // A request, a write and a job run to completion put every family on the page.
    let g = app
        .post(
            "/datagen/generate",
            serde_json::json!({"entity": "users", "rows": 10, "seed": 1}),
        )
        .await;
    assert_eq!(g.status, 202, "{}", g.body);
    let job = g.body["jobId"].as_str().expect("job id").to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let page = loop {
        let done = app.get(&format!("/datagen/status/{job}")).await;
        let text = app.text("/metrics").await;
        if done.body["status"] == "completed" && text.contains("# TYPE plinth_jobs gauge") {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job or gauges never showed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let exported: std::collections::BTreeMap<&str, &str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(name, _)| name.starts_with("plinth_"))
        .collect();
    let catalogued: std::collections::BTreeMap<&str, &str> =
        METRICS.iter().map(|m| (m.name, m.kind.as_str())).collect();
    assert_eq!(exported, catalogued);
    for m in METRICS {
        assert!(
            page.contains(&format!("# HELP {} {}", m.name, m.help)),
            "no help for {}",
            m.name
        );
    }
    app.stop().await;
}
