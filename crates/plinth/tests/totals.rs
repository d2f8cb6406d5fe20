//! List totals (`count=exact|estimated|none`): exact by count, except an unfiltered list of
//! a large PostgreSQL table, which reports PostgreSQL's live-row statistic, marked
//! `meta.estimated`.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestEnv};
use serde_json::json;

both!(totals_follow_the_count_parameter);

const ROWS: usize = 1200;

async fn totals_follow_the_count_parameter(env: TestEnv) {
    let app = std::sync::Arc::new(env.spawn(&["clouddrift"]).await.with_service_tokens().await);
    let api = "/clouddrift/api/v1/drifts";
    let mut tasks = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..ROWS).step_by(8) {
                let sev = if i % 4 == 0 { "critical" } else { "info" };
                let body = json!({"title": format!("d{i}"), "resource_id": format!("r{i}"), "resource_type": "aws_s3_bucket", "severity": sev});
                assert_eq!(app.post(api, body).await.status, 201);
            }
        }));
    }
    for t in tasks {
        t.await.expect("seeding task");
    }
    let exact = app
        .get_with(api, &[("count", "exact"), ("limit", "1")])
        .await;
    assert_eq!(exact.body["meta"]["total"], ROWS, "{}", exact.body);
    assert!(exact.body["meta"].get("estimated").is_none());
    let none = app.get_with(api, &[("count", "none")]).await;
    assert!(none.body["meta"]["total"].is_null(), "{}", none.body);
    assert_eq!(none.body["data"].as_array().map(Vec::len), Some(50));
    let filtered = app.get_with(api, &[("severity", "critical")]).await;
    assert_eq!(
        filtered.body["meta"]["total"],
        ROWS / 4,
        "{}",
        filtered.body
    );
    assert!(filtered.body["meta"].get("estimated").is_none());
    let bad = app.get_with(api, &[("count", "some")]).await;
    common::assert_object_error(&bad, 400, "VALIDATION_ERROR");

    match env.backend {
        Backend::Sqlite => {
            let default = app.get(api).await;
            assert_eq!(
                default.body["meta"]["total"], ROWS,
                "{}",
                default.body["meta"]
            );
            assert!(default.body["meta"].get("estimated").is_none());
        }
        Backend::Postgres => {
            // PostgreSQL publishes each backend's row counts within about a second of its
            // commits: until the statistic reaches the threshold the list counts exactly;
            // after, it reports the statistic, which lags the truth by at most that second.
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let r = app.get(api).await;
                let meta = &r.body["meta"];
                let total = meta["total"].as_u64().expect("total");
                if meta["estimated"] == true {
                    assert!((1000..=ROWS as u64).contains(&total), "{meta}");
                    if total == ROWS as u64 {
                        break;
                    }
                } else {
                    assert_eq!(total, ROWS as u64, "{meta}");
                }
                assert!(
                    Instant::now() < deadline,
                    "the statistic never caught up: {meta}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}
