//! Named aggregates, through CloudDrift's dashboard (`GET /metrics/summary`,
//! `GET /metrics/cost-trend`): each answer equals the same figure computed by SQL run
//! straight on the database, for callers with different list rules, on both databases.

mod common;

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, Utc};
use common::{assert_object_error, TestApp, TestEnv};
use reqwest::Method;
use serde_json::json;

both!(summary_equals_direct_sql, cost_trend_equals_direct_sql);

const API: &str = "/clouddrift/api/v1";

/// Cost entries: (recorded_at, amount). Two fall outside the range the tests ask for.
const COSTS: &[(&str, f64)] = &[
    ("2025-09-15T10:00:00Z", 99.0),
    ("2025-10-28T23:30:00Z", 12.25),
    ("2025-10-31T12:00:00Z", 40.5),
    ("2025-11-01T00:00:00Z", -7.75),
    ("2025-11-02T08:00:00Z", 182.4),
    ("2025-11-02T20:00:00Z", 3.1),
    ("2025-11-15T10:00:00Z", 191.1),
    ("2025-12-05T00:00:00Z", 55.0),
];

/// Drifts of every status and severity, alerts for Emma and Vic, costs; returns
/// (Emma's id and token, Vic's id and token).
async fn seed(app: &TestApp) -> ((String, String), (String, String)) {
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let emma = app
        .user_token(
            "clouddrift",
            "emma@example.com",
            "engineer",
            json!({"name": "Emma"}),
        )
        .await;
    let vic = app
        .user_token(
            "clouddrift",
            "vic@example.com",
            "viewer",
            json!({"name": "Vic"}),
        )
        .await;
    let drifts = [
        ("critical", ""),
        ("warning", "approve"),
        ("info", "reject"),
        ("critical", ""),
        ("warning", ""),
    ];
    let mut first = None;
    for (i, (severity, review)) in drifts.iter().enumerate() {
        let body = json!({"title": format!("Drift {i}"), "resource_id": format!("r-{i}"),
            "resource_type": "aws_s3_bucket", "severity": severity});
        let d = app
            .send(
                Method::POST,
                &format!("{API}/drifts"),
                Some(&scanner),
                Some(body),
            )
            .await;
        assert_eq!(d.status, 201, "{}", d.body);
        let id = d.body["data"]["id"].as_str().expect("id").to_owned();
        first.get_or_insert(id.clone());
        if !review.is_empty() {
            let r = app
                .send(
                    Method::POST,
                    &format!("{API}/drifts/{id}/{review}"),
                    Some(&emma.1),
                    Some(json!({"review_comment": "checked"})),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
    }
    let drift = first.expect("a drift");
    let alerts = [
        (&emma.0, false),
        (&emma.0, false),
        (&emma.0, true),
        (&vic.0, false),
    ];
    for (user, read) in alerts {
        let body = json!({"drift_id": drift, "user_id": user, "title": "t", "message": "m",
            "severity": "info", "is_read": read});
        let a = app
            .send(
                Method::POST,
                &format!("{API}/alerts"),
                Some(&scanner),
                Some(body),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }
    let yesterday = (Utc::now() - Duration::days(1)).to_rfc3339();
    for (at, amount) in COSTS
        .iter()
        .map(|(a, m)| ((*a).to_owned(), *m))
        .chain([(yesterday, 1.5)])
    {
        let body = json!({"drift_id": drift, "amount": amount, "recorded_at": at});
        let c = app
            .send(
                Method::POST,
                &format!("{API}/cost_metrics"),
                Some(&scanner),
                Some(body),
            )
            .await;
        assert_eq!(c.status, 201, "{}", c.body);
    }
    (emma, vic)
}

/// One number computed straight on the database.
async fn number(env: &TestEnv, sqlite: &str, postgres: &str) -> f64 {
    let rows = env.direct("clouddrift", sqlite, postgres).await;
    rows[0][0]
        .as_deref()
        .map_or(0.0, |v| v.parse().expect("number"))
}

async fn summary_equals_direct_sql(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let (emma, vic) = seed(&app).await;
    let summary = |token: Option<String>| {
        let app = &app;
        async move {
            let r = app
                .send(
                    Method::GET,
                    &format!("{API}/metrics/summary"),
                    token.as_deref(),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["success"], true);
            r.body["data"].clone()
        }
    };
    let s = summary(Some(emma.1.clone())).await;
    let counts = [
        ("total_drifts", "TRUE"),
        ("pending_drifts", "status = 'pending'"),
        ("approved_drifts", "status = 'approved'"),
        ("rejected_drifts", "status = 'rejected'"),
        ("critical_drifts", "severity = 'critical'"),
        ("warning_drifts", "severity = 'warning'"),
        ("info_drifts", "severity = 'info'"),
    ];
    for (key, cond) in counts {
        let sql = format!("SELECT COUNT(*) FROM drifts WHERE {cond}");
        let expected = number(&env, &sql, &sql).await;
        assert_eq!(s[key].as_f64(), Some(expected), "{key}: {s}");
    }
    assert_eq!(s["total_drifts"], 5, "the seed made five: {s}");
    let sql = "SELECT SUM(amount) FROM cost_metrics";
    let total = number(&env, sql, sql).await;
    let got = s["total_cost"].as_f64().expect("total_cost");
    assert!((got - total).abs() < 1e-9, "total_cost {got} vs {total}");
    // Unread alerts are what each caller may list: their own and the broadcast ones.
    for (user, token) in [&emma, &vic] {
        let cond = format!("(user_id = '{user}' OR user_id IS NULL)");
        let expected = number(
            &env,
            &format!("SELECT COUNT(*) FROM alerts WHERE is_read = 0 AND {cond}"),
            &format!("SELECT COUNT(*) FROM alerts WHERE is_read = false AND {cond}"),
        )
        .await;
        let s = summary(Some(token.clone())).await;
        assert_eq!(s["unread_alerts"].as_f64(), Some(expected), "{s}");
    }
    // Emma: two unread of hers plus the two broadcast alerts of the critical drifts.
    assert_eq!(s["unread_alerts"], 4, "{s}");
    // Anonymous callers may list nothing, so nothing is counted.
    let anon = summary(None).await;
    assert_eq!(anon["total_drifts"], 0, "{anon}");
    assert_eq!(anon["total_cost"], 0.0, "{anon}");
    app.stop().await;
}

/// The start of the bucket holding `date` (`YYYY-MM-DD`): itself, its Monday, or the 1st.
fn bucket(date: &str, interval: &str) -> String {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    let start = match interval {
        "week" => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        "month" => d.with_day(1).expect("first"),
        _ => d,
    };
    start.format("%Y-%m-%d").to_string()
}

async fn cost_trend_equals_direct_sql(env: TestEnv) {
    let mut app = env.spawn(&["clouddrift"]).await;
    let (emma, _) = seed(&app).await;
    app.act_as("clouddrift", &emma.1);
    let range = [("from", "2025-10-01"), ("to", "2025-12-01T00:00:00Z")];
    let rows = env
        .direct(
            "clouddrift",
            "SELECT substr(recorded_at, 1, 10), amount FROM cost_metrics \
             WHERE recorded_at >= '2025-10-01' AND recorded_at < '2025-12-01'",
            "SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), amount \
             FROM cost_metrics WHERE recorded_at >= '2025-10-01T00:00:00Z' \
             AND recorded_at < '2025-12-01T00:00:00Z'",
        )
        .await;
    assert_eq!(rows.len(), 6, "six entries fall in the range");
    for interval in ["day", "week", "month"] {
        let mut expected: BTreeMap<String, (f64, u64)> = BTreeMap::new();
        for row in &rows {
            let (date, amount) = (row[0].as_deref().expect("date"), &row[1]);
            let amount: f64 = amount.as_deref().expect("amount").parse().expect("f64");
            let e = expected.entry(bucket(date, interval)).or_default();
            e.0 += amount;
            e.1 += 1;
        }
        let mut query = range.to_vec();
        query.push(("interval", interval));
        let r = app
            .get_with(&format!("{API}/metrics/cost-trend"), &query)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let got = r.body["data"].as_array().expect("a list of buckets");
        assert_eq!(got.len(), expected.len(), "{interval}: {}", r.body);
        for (g, (date, (sum, n))) in got.iter().zip(&expected) {
            assert_eq!(g["date"], *date, "{interval}: {}", r.body);
            assert_eq!(g["entries"], *n, "{interval}: {}", r.body);
            let total = g["total_cost"].as_f64().expect("total_cost");
            assert!(
                (total - sum).abs() < 1e-9,
                "{interval} {date}: {total} vs {sum}"
            );
        }
    }
    // Without parameters: the last 30 days, by day (only the entry of yesterday).
    let recent = app.get(&format!("{API}/metrics/cost-trend")).await;
    let yesterday = (Utc::now() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        recent.body["data"],
        json!([{"date": yesterday, "total_cost": 1.5, "entries": 1}])
    );
    // Bad parameters are a 400 naming each one; nothing unknown is ignored.
    let bad = app
        .get_with(
            &format!("{API}/metrics/cost-trend"),
            &[
                ("interval", "year"),
                ("from", "last tuesday"),
                ("bucket", "x"),
            ],
        )
        .await;
    assert_object_error(&bad, 400, "VALIDATION_ERROR");
    let fields = common::error_fields(&bad);
    assert_eq!(fields, ["bucket", "from", "interval"], "{}", bad.body);
    app.stop().await;
}
