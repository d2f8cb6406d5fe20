//! `?filter=` expressions on both databases: operators, grouping, null, contains (with LIKE
//! syntax taken literally), system fields, and clear errors for bad expressions.

mod common;

use common::{assert_object_error, TestEnv};
use serde_json::json;

both!(filter_expressions);

async fn filter_expressions(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let user = app
        .post(
            "/simflow/api/users",
            json!({"name": "Ed", "email": "ed@example.com", "role": "ENGINEER"}),
        )
        .await;
    let ed = user.body["user"]["id"].as_str().expect("id").to_owned();
    for (title, prio, hours, assigned) in [
        ("Fix VPN tunnel", "High", 5, true),
        ("Upgrade 50% of hosts", "Low", 20, false),
        ("Rotate keys", "Medium", 30, false),
        ("Audit 5000 hosts", "Low", 1, true),
    ] {
        let mut body = json!({"title": title, "description": "d", "vendor": "v", "priority": prio, "estimated_hours": hours});
        if assigned {
            body["assigned_to"] = json!(ed);
        }
        assert_eq!(app.post("/simflow/api/requests", body).await.status, 201);
    }
    let titles = |r: &common::Reply| -> Vec<String> {
        let mut t: Vec<String> = r.body["requests"]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| x["title"].as_str().unwrap_or_default().to_owned())
            .collect();
        t.sort();
        t
    };
    let cases: &[(&str, &[&str])] = &[
        (
            r#"priority = "High" || estimated_hours >= 30"#,
            &["Fix VPN tunnel", "Rotate keys"],
        ),
        (
            r#"priority = 'Low' && !(estimated_hours < 10)"#,
            &["Upgrade 50% of hosts"],
        ),
        ("title ~ 'vpn'", &["Fix VPN tunnel"]),
        ("title ~ '50%'", &["Upgrade 50% of hosts"]),
        ("title !~ 'hosts'", &["Fix VPN tunnel", "Rotate keys"]),
        (
            "assigned_to = null",
            &["Rotate keys", "Upgrade 50% of hosts"],
        ),
        (
            &format!("assigned_to = '{ed}' && 10 > estimated_hours"),
            &["Audit 5000 hosts", "Fix VPN tunnel"],
        ),
        (
            "created_at > '2000-01-01T00:00:00Z' && estimated_hours != 1 && estimated_hours != 5",
            &["Rotate keys", "Upgrade 50% of hosts"],
        ),
        (r#"title = "x' OR '1'='1""#, &[]),
    ];
    for (expr, want) in cases {
        let r = app
            .get_with("/simflow/api/requests", &[("filter", expr)])
            .await;
        assert_eq!(r.status, 200, "{expr}: {}", r.body);
        assert_eq!(titles(&r), want.to_vec(), "{expr}");
        assert_eq!(
            r.body["meta"]["total"],
            want.len(),
            "{expr}: total counts the filter"
        );
    }
    // The filter and the equality shortcuts combine.
    let both = app
        .get_with(
            "/simflow/api/requests",
            &[("filter", "estimated_hours > 1"), ("priority", "Low")],
        )
        .await;
    assert_eq!(titles(&both), vec!["Upgrade 50% of hosts"]);

    for (expr, says) in [
        ("priority = ", "position 11"),
        ("nope = 1", "unknown field `nope`"),
        ("estimated_hours ~ 'x'", "text fields"),
        ("estimated_hours = 'many'", "integer"),
        ("created_by = @auth.id", "@auth.id"),
    ] {
        let r = app
            .get_with("/simflow/api/requests", &[("filter", expr)])
            .await;
        assert_object_error(&r, 400, "VALIDATION_ERROR");
        assert_eq!(common::error_fields(&r)[0], "filter");
        let msg = r.body["error"]["details"]["fieldErrors"]["filter"][0]
            .as_str()
            .unwrap_or_default();
        assert!(msg.contains(says), "{expr}: {msg}");
    }
    app.stop().await;
}
