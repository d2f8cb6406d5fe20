//! Demo data: every bundled app's demo.yaml loads through the API's validation, on both
//! databases, with references between records resolved, and only into empty apps; the
//! CloudDrift and Sim-Flow demo data show every state, as their demo users read it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{TestApp, TestEnv};
use serde_json::{json, Value};

both!(demo_data_loads_once, demo_data_covers_every_state);

/// How many records `apps/<app>/demo.yaml` gives `collection`.
fn demo_count(app: &str, collection: &str) -> usize {
    let path = format!("{}/../../apps/{app}/demo.yaml", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(path).expect("demo.yaml");
    let demo: BTreeMap<String, Vec<Value>> = serde_yaml::from_str(&src).expect("demo parses");
    demo.get(collection).map_or(0, Vec::len)
}

async fn demo_data_loads_once(env: TestEnv) {
    let mut config = env.config(&[
        ("simflow", None),
        ("clouddrift", None),
        ("revops", None),
        ("datagen", None),
        ("quadrax", None),
    ]);
    config.demo_data = Some(true);
    let app = env
        .start(&config)
        .await
        .expect("starts with demo data")
        .with_service_tokens()
        .await;
    let requests = app.get("/simflow/api/requests").await;
    assert_eq!(
        requests.body["meta"]["total"],
        demo_count("simflow", "requests"),
        "{}",
        requests.body
    );
    let users = app.get("/simflow/api/users?role=ENGINEER").await;
    assert_eq!(users.body["meta"]["total"], 2);
    let thermal = app
        .get_with(
            "/simflow/api/requests",
            &[("title", "Thermal model for enclosure v2")],
        )
        .await;
    let thermal = &thermal.body["requests"][0];
    assert_eq!(thermal["title"], "Thermal model for enclosure v2");
    let ed = app
        .get(&format!(
            "/simflow/api/users/{}",
            thermal["assigned_to"].as_str().expect("ref")
        ))
        .await;
    assert_eq!(
        ed.body["user"]["name"], "Ed Engineer",
        "reference resolved to the right record"
    );
    for path in [
        "/clouddrift/api/v1/drifts",
        "/revops/api/datasets",
        "/datagen/jobs",
        "/quadrax/api/models",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(
            r.body["meta"]["total"].as_u64().is_some_and(|n| n > 0),
            "{path}: {}",
            r.body
        );
    }
    // Demo users sign in with the README's demo password; the hash is never shown.
    for (path, email) in [
        ("/simflow/api/auth/login", "max@simflow.example"),
        ("/clouddrift/api/v1/auth/login", "viewer@clouddrift.example"),
        ("/quadrax/api/auth/login", "john@quadrax.example"),
    ] {
        let r = app
            .post(
                path,
                serde_json::json!({"email": email, "password": "plinthdemo1"}),
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let body = if r.body["data"].is_object() {
            &r.body["data"]
        } else {
            &r.body
        };
        assert_eq!(body["user"]["email"], email);
        assert!(
            body["user"].get("password_hash").is_none() && body["user"].get("password").is_none()
        );
    }
    let before = app.get("/simflow/api/users").await.body["meta"]["total"].clone();
    app.stop().await;
    // A restart does not load it again.
    let app = env
        .start(&config)
        .await
        .expect("restarts")
        .with_service_tokens()
        .await;
    assert_eq!(
        app.get("/simflow/api/users").await.body["meta"]["total"],
        before
    );
    app.stop().await;
}

/// Sign in as a demo user with the README's demo password; the access token.
async fn sign_in(app: &TestApp, login: &str, email: &str) -> String {
    let r = app
        .post(login, json!({"email": email, "password": "plinthdemo1"}))
        .await;
    assert_eq!(r.status, 200, "{email} signs in: {}", r.body);
    let body = if r.body["data"].is_object() {
        &r.body["data"]
    } else {
        &r.body
    };
    body["token"].as_str().expect("token").to_owned()
}

/// The records of a list answered under `key` (`data` or the keyed envelope's name).
async fn list(app: &TestApp, path: &str, key: &str) -> Vec<Value> {
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    let items = r.body[key].as_array().expect("a list").clone();
    assert_eq!(
        r.body["meta"]["total"].as_u64(),
        Some(items.len() as u64),
        "{path}: one page holds them all"
    );
    items
}

fn text<'a>(record: &'a Value, field: &str) -> &'a str {
    record[field].as_str().unwrap_or_default()
}

/// What a demo shows: drifts of every severity in every status, reviewed ones with their
/// review and audit entry, read and unread alerts (one "Critical drift" per user per
/// critical drift, as the create trigger raises), costs on at least a week of days; Sim-Flow
/// requests in every state, assigned and not, each with comments or activity that agree
/// with its state. Read over HTTP as the apps' demo admin and manager.
async fn demo_data_covers_every_state(env: TestEnv) {
    let mut config = env.config(&[("simflow", None), ("clouddrift", None)]);
    config.demo_data = Some(true);
    let mut app = env.start(&config).await.expect("starts with demo data");

    let cd = "/clouddrift/api/v1";
    let admin = sign_in(
        &app,
        &format!("{cd}/auth/login"),
        "admin@clouddrift.example",
    )
    .await;
    app.act_as("clouddrift", &admin);
    let drifts = list(&app, &format!("{cd}/drifts?limit=100"), "data").await;
    let audit = list(&app, &format!("{cd}/audit_logs?limit=100"), "data").await;
    let mut shown = BTreeSet::new();
    for d in &drifts {
        let (severity, status) = (text(d, "severity"), text(d, "status"));
        shown.insert((severity, status));
        let reviewed = status != "pending";
        for f in ["reviewed_by", "reviewed_at", "review_comment"] {
            assert_eq!(d[f].is_null(), !reviewed, "{f} of a {status} drift: {d}");
        }
        if reviewed {
            let entry = audit.iter().find(|a| a["drift_id"] == d["id"]);
            let entry = entry.unwrap_or_else(|| panic!("no audit entry for {d}"));
            let verb = if status == "approved" {
                "approve"
            } else {
                "reject"
            };
            assert_eq!(text(entry, "action"), verb, "{entry}");
            assert_eq!(entry["details"]["after"]["status"], status, "{entry}");
            assert_eq!(entry["entity_type"], "drift", "{entry}");
            assert_eq!(entry["user_id"], d["reviewed_by"], "{entry}");
            assert!(entry["details"].is_object(), "{entry}");
        }
    }
    for severity in ["critical", "warning", "info"] {
        for status in ["pending", "approved", "rejected"] {
            assert!(
                shown.contains(&(severity, status)),
                "no {severity} drift that is {status}: {shown:?}"
            );
        }
    }

    let alerts = list(&app, &format!("{cd}/alerts?limit=100"), "data").await;
    for read in [true, false] {
        assert!(
            alerts.iter().any(|a| a["is_read"] == read),
            "no alert with is_read = {read}"
        );
    }
    assert!(
        alerts.iter().any(|a| a["user_id"].is_null()),
        "no broadcast alert"
    );
    assert!(
        alerts.iter().any(|a| a["user_id"].is_string()),
        "no per-user alert"
    );
    // As the create trigger raises them: one "Critical drift" alert per user.
    let users = list(&app, &format!("{cd}/users?limit=100"), "data").await;
    let everyone: BTreeSet<&str> = users.iter().map(|u| text(u, "id")).collect();
    for d in drifts.iter().filter(|d| d["severity"] == "critical") {
        let raised: Vec<&str> = alerts
            .iter()
            .filter(|a| a["drift_id"] == d["id"] && a["title"] == "Critical drift")
            .map(|a| text(a, "user_id"))
            .collect();
        let owners: BTreeSet<&str> = raised.iter().copied().collect();
        assert_eq!(raised.len(), everyone.len(), "Critical drift alerts of {d}");
        assert_eq!(owners, everyone, "one per user: {d}");
    }

    let costs = list(&app, &format!("{cd}/cost_metrics?limit=500"), "data").await;
    let days: BTreeSet<&str> = costs
        .iter()
        .map(|c| text(c, "recorded_at").get(..10).unwrap_or_default())
        .collect();
    assert!(days.len() >= 7, "costs on {} days: {days:?}", days.len());
    assert!(costs
        .iter()
        .all(|c| c["currency"] == "USD" && c["amount"].is_number()));

    let sf = "/simflow/api";
    let max = sign_in(&app, &format!("{sf}/auth/login"), "max@simflow.example").await;
    app.act_as("simflow", &max);
    let users = list(&app, &format!("{sf}/users?limit=100"), "users").await;
    let user = |id: &Value| users.iter().find(|u| u["id"] == *id).cloned();
    let requests = list(&app, &format!("{sf}/requests?limit=100"), "requests").await;
    let states: BTreeSet<&str> = requests.iter().map(|r| text(r, "status")).collect();
    assert_eq!(
        states,
        BTreeSet::from(["Submitted", "In Progress", "Completed", "Cancelled"])
    );
    assert!(requests.iter().any(|r| r["assigned_to"].is_string()));
    assert!(requests.iter().any(|r| r["assigned_to"].is_null()));
    for r in &requests {
        let id = text(r, "id");
        let one = app.get(&format!("{sf}/requests/{id}")).await;
        assert_eq!(one.status, 200, "{}", one.body);
        let comments = one.body["comments"].as_array().expect("comments").clone();
        let log = list(
            &app,
            &format!("{sf}/activity_log?request_id={id}&sort=id"),
            "activity_log",
        )
        .await;
        assert!(
            comments.len() + log.len() > 0,
            "{}: no comment or activity",
            r["title"]
        );
        // Comments carry their author's name and role, as the app stores them.
        for c in &comments {
            let author = user(&c["author_id"]).expect("author");
            assert_eq!(c["author_name"], author["name"], "{c}");
            assert_eq!(c["author_role"], author["role"], "{c}");
        }
        // The last state move logged leads to the state the request is in.
        let last_move = log
            .iter()
            .rev()
            .map(|e| text(e, "action"))
            .find(|a| ["started", "completed", "cancelled", "reopened"].contains(a));
        let ok = matches!(
            (text(r, "status"), last_move),
            ("Submitted", None | Some("reopened"))
                | ("In Progress", Some("started"))
                | ("Completed", Some("completed"))
                | ("Cancelled", Some("cancelled"))
        );
        assert!(ok, "{} is {} after {last_move:?}", r["title"], r["status"]);
        // An assigned request was assigned to its engineer, by the assign action's input.
        let assigned = log.iter().rev().find(|e| e["action"] == "assigned");
        match assigned {
            Some(e) => assert_eq!(e["details"]["engineerId"], r["assigned_to"], "{e}"),
            None => assert!(
                r["assigned_to"].is_null(),
                "{}: who assigned it?",
                r["title"]
            ),
        }
    }
    app.stop().await;
}
