//! De-duplicated creates, through CloudDrift's drifts (`dedupe: {keys: [resource_id,
//! resource_type], window: 24h}`): a repeat within the window answers the first drift (200)
//! and inserts nothing, not even its trigger's alert; concurrent repeats insert once; a
//! repeat after the window is a new drift. On both databases.

mod common;

use common::{TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    repeats_answer_the_recent_drift,
    concurrent_repeats_insert_once
);

const API: &str = "/clouddrift/api/v1";

fn drift(resource: &str, kind: &str) -> Value {
    json!({"title": "Public bucket", "resource_id": resource, "resource_type": kind,
        "severity": "critical"})
}

/// How many drifts of `resource` and alerts about them the database holds.
async fn stored(env: &TestEnv, resource: &str) -> (String, String) {
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM drifts WHERE resource_id = '{resource}'), \
         (SELECT COUNT(*) FROM alerts WHERE drift_id IN \
          (SELECT id FROM drifts WHERE resource_id = '{resource}'))"
    );
    let rows = env.direct("clouddrift", &sql, &sql).await;
    let n = |i: usize| rows[0][i].clone().expect("count");
    (n(0), n(1))
}

async fn post(app: &TestApp, token: &str, body: Value) -> common::Reply {
    app.send(
        Method::POST,
        &format!("{API}/drifts"),
        Some(token),
        Some(body),
    )
    .await
}

async fn repeats_answer_the_recent_drift(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    // One user, so a critical drift's trigger inserts one alert.
    app.user_token(
        "clouddrift",
        "vic@example.com",
        "viewer",
        json!({"name": "Vic"}),
    )
    .await;
    let first = post(&app, &scanner, drift("arn:bucket", "aws_s3_bucket")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let id = first.body["data"]["id"].clone();
    let again = post(&app, &scanner, drift("arn:bucket", "aws_s3_bucket")).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["success"], true);
    assert_eq!(again.body["data"]["id"], id, "the first drift is answered");
    assert_eq!(stored(&env, "arn:bucket").await, ("1".into(), "1".into()));
    // Another key value is another drift.
    let other = post(&app, &scanner, drift("arn:bucket", "aws_s3_bucket_policy")).await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_ne!(other.body["data"]["id"], id);
    // Once the first drift is older than the window, a repeat is a new drift.
    let old = "2020-01-01T00:00:00.000Z";
    let back = format!(
        "UPDATE drifts SET created_at = '{old}' WHERE id = '{}'",
        id.as_str().expect("id")
    );
    env.direct("clouddrift", &back, &back).await;
    let later = post(&app, &scanner, drift("arn:bucket", "aws_s3_bucket")).await;
    assert_eq!(later.status, 201, "{}", later.body);
    assert_ne!(later.body["data"]["id"], id);
    assert_eq!(stored(&env, "arn:bucket").await.0, "3");
    app.stop().await;
}

async fn concurrent_repeats_insert_once(env: TestEnv) {
    let app = std::sync::Arc::new(env.spawn(&["clouddrift"]).await);
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    // One user, so a critical drift's trigger inserts one alert.
    app.user_token(
        "clouddrift",
        "vic@example.com",
        "viewer",
        json!({"name": "Vic"}),
    )
    .await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (app, token) = (app.clone(), scanner.clone());
        calls.spawn(async move { post(&app, &token, drift("arn:racy", "aws_s3_bucket")).await });
    }
    let replies = calls.join_all().await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one create inserts");
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert!(r.status == 200 || r.status == 201, "{}", r.body);
            r.body["data"]["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every caller got the one drift: {ids:?}");
    assert_eq!(stored(&env, "arn:racy").await, ("1".into(), "1".into()));
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}
