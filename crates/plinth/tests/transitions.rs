//! State transitions, through CloudDrift's approve and reject (`POST /drifts/:id/approve`):
//! who may, from which state, required input, the audit entry in the same unit, and two
//! racing transitions of one record (exactly one wins), on both databases.

mod common;

use common::{assert_object_error, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    approve_and_reject_drifts,
    racing_transitions_one_wins,
    critical_drifts_raise_an_alert,
    alerts_are_marked_read_by_their_recipient
);

const API: &str = "/clouddrift/api/v1";

/// Who these tests act as: the scanner's service token, Emma (engineer), Vic (viewer).
struct Cast {
    scanner: String,
    emma_id: String,
    emma: String,
    vic_id: String,
    vic: String,
}

async fn cast(app: &TestApp) -> Cast {
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let emma = json!({"name": "Emma"});
    let (emma_id, emma) = app
        .user_token("clouddrift", "emma@example.com", "engineer", emma)
        .await;
    let vic = json!({"name": "Vic"});
    let (vic_id, vic) = app
        .user_token("clouddrift", "vic@example.com", "viewer", vic)
        .await;
    Cast {
        scanner,
        emma_id,
        emma,
        vic_id,
        vic,
    }
}

/// The entries of drift `id`'s own trail (`audit_logs`) after its creation, read as
/// Plinth, oldest first; checks that Plinth's `_plinth_audit` holds none for it (a
/// collection with a trail of its own gets one entry per change).
async fn audit_of(app: &TestApp, id: &str) -> Vec<Value> {
    let svc = app.service("clouddrift");
    let read = |name: &str, query: Vec<(&str, &str)>| {
        let coll = svc.any_collection(name).expect("audit collection");
        let query: Vec<(String, String)> = query
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        async move {
            let page = svc.list(&svc.system_ctx(), coll, &query).await;
            page.expect("audit entries")
                .items
                .iter()
                .map(|r| serde_json::to_value(r).expect("json"))
                .collect::<Vec<Value>>()
        }
    };
    let plinth = read("_plinth_audit", vec![("record_id", id)]).await;
    assert_eq!(plinth, Vec::<Value>::new(), "entries in _plinth_audit");
    let own = read(
        "audit_logs",
        vec![("entity_id", id), ("sort", "created_at")],
    )
    .await;
    own.into_iter()
        .filter(|e| e["action"] != "create")
        .collect()
}

async fn drift(app: &TestApp, scanner: &str, title: &str) -> String {
    let body = json!({"title": title, "resource_id": format!("arn:{title}"), "resource_type": "aws_s3_bucket", "severity": "critical"});
    let r = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(scanner),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"]["id"].as_str().expect("id").to_owned()
}

async fn act(
    app: &TestApp,
    token: Option<&str>,
    id: &str,
    action: &str,
    body: Option<Value>,
) -> common::Reply {
    app.send(
        Method::POST,
        &format!("{API}/drifts/{id}/{action}"),
        token,
        body,
    )
    .await
}

async fn approve_and_reject_drifts(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let Cast {
        scanner,
        emma_id: eng_id,
        emma: eng,
        vic: viewer,
        ..
    } = cast(&app).await;
    let id = drift(&app, &scanner, "Public bucket").await;

    // Anonymous: 401; a viewer may see it but not approve it: 403; unknown action: 404.
    assert_object_error(
        &act(&app, None, &id, "approve", None).await,
        401,
        "UNAUTHENTICATED",
    );
    assert_object_error(
        &act(&app, Some(&viewer), &id, "approve", None).await,
        403,
        "FORBIDDEN",
    );
    assert_object_error(
        &act(&app, Some(&eng), &id, "archive", None).await,
        404,
        "NOT_FOUND",
    );
    // Input: only the declared fields; a rejection needs its reason.
    let r = act(
        &app,
        Some(&eng),
        &id,
        "approve",
        Some(json!({"severity": "info"})),
    )
    .await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    let r = act(&app, Some(&eng), &id, "reject", Some(json!({}))).await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    assert!(r.body.to_string().contains("review_comment"), "{}", r.body);
    // An empty body sent as JSON (as client libraries do) is no input, not malformed JSON.
    let empty = app
        .client
        .post(format!("{}{API}/drifts/{id}/reject", app.base))
        .header("authorization", format!("Bearer {eng}"))
        .header("content-type", "application/json")
        .send()
        .await
        .expect("sent");
    let r = TestApp::reply(empty).await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    assert!(r.body.to_string().contains("review_comment"), "{}", r.body);
    // The status moves only through transitions.
    let r = app
        .send(
            Method::PATCH,
            &format!("{API}/drifts/{id}"),
            Some(&eng),
            Some(json!({"status": "approved"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let unchanged = app
        .send(
            Method::GET,
            &format!("{API}/drifts/{id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        unchanged.body["data"]["status"], "pending",
        "nothing changed so far"
    );

    let r = act(
        &app,
        Some(&eng),
        &id,
        "approve",
        Some(json!({"review_comment": "Known exception"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["status"], "approved");
    assert_eq!(d["reviewed_by"], eng_id.as_str());
    assert_eq!(d["review_comment"], "Known exception");
    assert!(d["reviewed_at"].is_string(), "{d}");
    // From approved there is no way back: 409 for both.
    let r = act(&app, Some(&eng), &id, "approve", None).await;
    assert_object_error(&r, 409, "CONFLICT");
    let r = act(
        &app,
        Some(&eng),
        &id,
        "reject",
        Some(json!({"review_comment": "x"})),
    )
    .await;
    assert_object_error(&r, 409, "CONFLICT");

    // One audit entry, written with the change: who, what, the request, the state change
    // and the input.
    let entries = audit_of(&app, &id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry["action"], "approve");
    assert_eq!(entry["user_id"], eng_id.as_str());
    assert_eq!(entry["drift_id"], id.as_str());
    let request_id = entry["request_id"].as_str().unwrap_or_default();
    assert_eq!(
        uuid::Uuid::parse_str(request_id).map(|_| ()),
        Ok(()),
        "{entry}"
    );
    assert_eq!(entry["details"]["before"]["status"], "pending", "{entry}");
    assert_eq!(entry["details"]["after"]["status"], "approved", "{entry}");
    assert_eq!(
        entry["details"]["after"]["review_comment"], "Known exception",
        "{entry}"
    );
    app.stop().await;
}

async fn racing_transitions_one_wins(env: TestEnv) {
    let app = std::sync::Arc::new(env.spawn(&["clouddrift"]).await);
    let Cast {
        scanner, emma: eng, ..
    } = cast(&app).await;
    for round in 0..5 {
        let id = drift(&app, &scanner, &format!("race-{round}")).await;
        let (a, b) = tokio::join!(
            act(&app, Some(&eng), &id, "approve", None),
            act(
                &app,
                Some(&eng),
                &id,
                "reject",
                Some(json!({"review_comment": "no"}))
            ),
        );
        let mut codes = [a.status.as_u16(), b.status.as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [200, 409], "approve: {} reject: {}", a.body, b.body);
        let entries = audit_of(&app, &id).await;
        assert_eq!(entries.len(), 1, "only the winner is audited");
    }
    match std::sync::Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("app still shared"),
    }
}

/// `on_create`: a critical drift inserts an alert for every user in its own unit; others
/// do not.
async fn critical_drifts_raise_an_alert(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let Cast {
        scanner,
        vic: viewer,
        vic_id,
        emma_id,
        ..
    } = cast(&app).await;
    let critical = drift(&app, &scanner, "Open security group").await;
    let body = json!({"title": "Tag missing", "resource_id": "arn:t", "resource_type": "aws_s3_bucket", "severity": "info"});
    let r = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let alerts = app
        .send(Method::GET, &format!("{API}/alerts"), Some(&viewer), None)
        .await;
    let list = alerts.body["data"].as_array().expect("alerts").clone();
    assert_eq!(list.len(), 1, "{}", alerts.body);
    assert_eq!(list[0]["drift_id"], critical.as_str());
    assert_eq!(list[0]["message"], "Open security group");
    assert_eq!(list[0]["severity"], "critical");
    assert_eq!(list[0]["user_id"], vic_id.as_str(), "Vic's own");
    // One per user, each their own.
    let all = app
        .send(
            Method::GET,
            &format!("{API}/alerts?sort=user_id"),
            Some(&scanner),
            None,
        )
        .await;
    let mut owners: Vec<&str> = all.body["data"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|a| a["user_id"].as_str())
        .collect();
    owners.sort_unstable();
    let mut want = [emma_id.as_str(), vic_id.as_str()];
    want.sort_unstable();
    assert_eq!(owners, want, "{}", all.body);
    app.stop().await;
}

/// `POST /alerts/:id/mark-read` (a named action): the recipient only.
async fn alerts_are_marked_read_by_their_recipient(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let Cast {
        scanner,
        emma,
        vic_id,
        vic,
        ..
    } = cast(&app).await;
    let drift_id = drift(&app, &scanner, "Public bucket").await;
    let alert = json!({"drift_id": drift_id, "user_id": vic_id, "title": "t", "message": "m", "severity": "info"});
    let r = app
        .send(
            Method::POST,
            &format!("{API}/alerts"),
            Some(&scanner),
            Some(alert),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mine = r.body["data"]["id"].as_str().expect("id").to_owned();
    let read = |token: &str, id: &str| {
        let path = format!("{API}/alerts/{id}/mark-read");
        let token = token.to_owned();
        let app = &app;
        async move { app.send(Method::POST, &path, Some(&token), None).await }
    };
    // Someone else's alert is not there for Emma; a broadcast one (no recipient) is not
    // Vic's to mark.
    assert_object_error(&read(&emma, &mine).await, 404, "NOT_FOUND");
    let note = json!({"title": "Scan done", "message": "m", "severity": "info"});
    let r = app
        .send(
            Method::POST,
            &format!("{API}/alerts"),
            Some(&scanner),
            Some(note),
        )
        .await;
    let broadcast = r.body["data"]["id"]
        .as_str()
        .expect("broadcast alert")
        .to_owned();
    assert_object_error(&read(&vic, &broadcast).await, 403, "FORBIDDEN");
    let r = read(&vic, &mine).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["is_read"], true);
    assert!(r.body["data"]["read_at"].is_string(), "{}", r.body);
    app.stop().await;
}
