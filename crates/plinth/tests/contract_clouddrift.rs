//! CloudDrift's contract (seed 001_78ef9dd8ad64cfd9.txt, phases 2 and 3): every seed
//! endpoint called as its frontend calls it (method, path under `/api/v1`, JSON body,
//! `Authorization: Bearer` of a user signed in over HTTP, the scanner's service token for
//! internal drift creation), asserting status and response shape (`{success, data, meta}`;
//! errors `{success: false, error: {code, message, timestamp}}`), with the app mounted at
//! its default `/clouddrift` and at `/` (the frontend's own paths), on both databases.
//!
//! Error `details` follow Zod's `flatten()` (`{fieldErrors, formErrors}`). Drift
//! de-duplication is tested elsewhere.

mod common;

use common::{assert_object_error, Reply, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(clouddrift_at_default_mount, clouddrift_at_root);

/// The password `TestApp::user_token` gives its users.
const PASSWORD: &str = "testPassw0rd";

async fn clouddrift_at_default_mount(env: TestEnv) {
    story(env, "/clouddrift").await;
}

async fn clouddrift_at_root(env: TestEnv) {
    story(env, "/").await;
}

/// CloudDrift's frontend: every call under `{mount}/api/v1`, JSON bodies, a bearer token.
struct Front<'a> {
    app: &'a TestApp,
    api: String,
}

impl Front<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{path}", self.api);
        self.app.send(method, &url, token, body).await
    }

    async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// `POST /auth/login {email, password}`, as the sign-in form does: the access token.
    async fn sign_in(&self, email: &str) -> Signed {
        let body = json!({"email": email, "password": PASSWORD});
        let r = self
            .call(Method::POST, "/auth/login", None, Some(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(keys(&r.body), ["data", "success"], "{}", r.body);
        assert_eq!(r.body["success"], true);
        let data = &r.body["data"];
        assert_eq!(keys(data), ["refresh_token", "token", "user"], "{}", r.body);
        shape(&data["user"], USER);
        assert_eq!(data["user"]["email"], email);
        Signed {
            id: text(&data["user"]["id"]),
            token: text(&data["token"]),
            refresh: text(&data["refresh_token"]),
        }
    }
}

struct Signed {
    id: String,
    token: String,
    refresh: String,
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// An object's keys, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

/// Assert `v` holds each key with a value of its kind: `id` (a UUID), `time` (RFC 3339),
/// `string`, `number`, `int`, `bool`, `object`, `array`; a trailing `?` allows null.
fn shape(v: &Value, spec: &[(&str, &str)]) {
    for (key, kind) in spec {
        let got = v
            .get(*key)
            .unwrap_or_else(|| panic!("`{key}` missing: {v}"));
        let (kind, nullable) = match kind.strip_suffix('?') {
            Some(k) => (k, true),
            None => (*kind, false),
        };
        if nullable && got.is_null() {
            continue;
        }
        let ok = match kind {
            "id" => got
                .as_str()
                .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok()),
            "time" => got
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "string" => got.is_string(),
            "number" => got.is_number(),
            "int" => got.is_u64() || got.is_i64(),
            "bool" => got.is_boolean(),
            "object" => got.is_object(),
            "array" => got.is_array(),
            other => panic!("unknown kind {other}"),
        };
        assert!(ok, "`{key}` is not {kind}: {v}");
    }
}

/// Assert a list answer: `{success: true, data: [...], meta: {total, limit, offset}}`,
/// each item of `item`'s shape; the items.
fn list<'a>(r: &'a Reply, item: &[(&str, &str)]) -> &'a Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    json_body(r);
    assert_eq!(keys(&r.body), ["data", "meta", "success"], "{}", r.body);
    assert_eq!(r.body["success"], true);
    let meta = &r.body["meta"];
    shape(
        meta,
        &[("total", "int"), ("limit", "int"), ("offset", "int")],
    );
    let items = r.body["data"].as_array().expect("data is a list");
    for i in items {
        shape(i, item);
    }
    items
}

/// Assert a one-record answer `{success: true, data: {...}}` of `item`'s shape; the record.
fn one<'a>(r: &'a Reply, status: u16, item: &[(&str, &str)]) -> &'a Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    json_body(r);
    assert_eq!(keys(&r.body), ["data", "success"], "{}", r.body);
    assert_eq!(r.body["success"], true);
    shape(&r.body["data"], item);
    &r.body["data"]
}

/// Assert the answer is JSON, as the frontend's `response.json()` expects.
fn json_body(r: &Reply) {
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "content-type {ct:?}: {}",
        r.body
    );
}

fn ids(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["id"].as_str()).collect()
}

const USER: &[(&str, &str)] = &[
    ("id", "id"),
    ("email", "string"),
    ("name", "string"),
    ("role", "string"),
    ("last_login_at", "time?"),
    ("created_at", "time"),
    ("updated_at", "time"),
];

const DRIFT: &[(&str, &str)] = &[
    ("id", "id"),
    ("title", "string"),
    ("description", "string?"),
    ("resource_id", "string"),
    ("resource_type", "string"),
    ("provider", "string?"),
    ("region", "string?"),
    ("severity", "string"),
    ("status", "string"),
    ("expected_state", "object?"),
    ("actual_state", "object?"),
    ("reviewed_by", "id?"),
    ("reviewed_at", "time?"),
    ("review_comment", "string?"),
    ("created_at", "time"),
    ("updated_at", "time"),
];

const ALERT: &[(&str, &str)] = &[
    ("id", "id"),
    ("drift_id", "id?"),
    ("user_id", "id?"),
    ("title", "string"),
    ("message", "string"),
    ("severity", "string"),
    ("is_read", "bool"),
    ("read_at", "time?"),
    ("created_at", "time"),
    ("updated_at", "time"),
];

const COST: &[(&str, &str)] = &[
    ("id", "id"),
    ("drift_id", "id"),
    ("amount", "number"),
    ("currency", "string"),
    ("recorded_at", "time"),
    ("created_at", "time"),
];

const AUDIT: &[(&str, &str)] = &[
    ("id", "id"),
    ("drift_id", "id?"),
    ("user_id", "id?"),
    ("action", "string"),
    ("entity_type", "string?"),
    ("entity_id", "id?"),
    ("details", "object?"),
    ("ip_address", "string?"),
    ("created_at", "time"),
];

/// The dashboard's measures (`GET /metrics/summary`).
const SUMMARY: &[&str] = &[
    "approved_drifts",
    "critical_drifts",
    "info_drifts",
    "pending_drifts",
    "rejected_drifts",
    "total_cost",
    "total_drifts",
    "unread_alerts",
    "warning_drifts",
];

/// The whole frontend story with CloudDrift mounted at `mount`.
async fn story(env: TestEnv, mount: &str) {
    let mut config = env.config(&[("clouddrift", None)]);
    config.apps.get_mut("clouddrift").expect("app").mount = Some(mount.to_owned());
    let app = env.start(&config).await.expect("server starts");
    let prefix = mount.trim_end_matches('/');
    let front = Front {
        app: &app,
        api: format!("{prefix}/api/v1"),
    };
    // Served where mounted, and only there.
    let elsewhere = if prefix.is_empty() {
        "/clouddrift/api/v1/auth/login"
    } else {
        "/api/v1/auth/login"
    };
    let body = json!({"email": "x@example.com", "password": PASSWORD});
    let r = app.send(Method::POST, elsewhere, None, Some(body)).await;
    assert_eq!(r.status, 404, "{elsewhere}: {}", r.body);

    // Operators make the users (the seed names no sign-up); each signs in over HTTP.
    for (email, role, name) in [
        ("emma@example.com", "engineer", "Emma"),
        ("vic@example.com", "viewer", "Vic"),
        ("ada@example.com", "admin", "Ada"),
    ] {
        app.user_token("clouddrift", email, role, json!({"name": name}))
            .await;
    }
    let emma = auth(&front).await;
    let vic = front.sign_in("vic@example.com").await;
    let ada = front.sign_in("ada@example.com").await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;

    let [a, b, _] = drifts(&front, &scanner, &emma, &vic).await;
    drift_details(&front, &scanner, &emma, &vic, &a, &b).await;
    review(&front, &emma, &vic, &a, &b).await;
    alerts_and_metrics(&front, &scanner, &emma, &vic, &ada, &a, &b).await;
    app.stop().await;
}

/// `POST /auth/login`, `GET /auth/me`, `POST /auth/refresh`, `POST /auth/logout`; Emma,
/// signed in again, for the rest of the story.
async fn auth(front: &Front<'_>) -> Signed {
    let wrong = json!({"email": "emma@example.com", "password": "wrongPassw0rd"});
    let r = front
        .call(Method::POST, "/auth/login", None, Some(wrong))
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    let first = front.sign_in("emma@example.com").await;

    let me = front.get("/auth/me", &first.token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(keys(&me.body), ["data", "success"], "{}", me.body);
    shape(&me.body["data"]["user"], USER);
    assert_eq!(me.body["data"]["user"]["id"], first.id.as_str());
    assert_eq!(me.body["data"]["user"]["role"], "engineer");
    // Sign-in keeps the seed's users.last_login_at.
    assert!(
        me.body["data"]["user"]["last_login_at"].is_string(),
        "{}",
        me.body
    );
    for hidden in ["password_hash", "password", "failed_logins"] {
        assert!(
            me.body["data"]["user"].get(hidden).is_none(),
            "{hidden}: {}",
            me.body
        );
    }
    // 401 without a token, and with a token that is not one.
    let r = front.call(Method::GET, "/auth/me", None, None).await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    assert_object_error(
        &front.get("/drifts", "not-a-token").await,
        401,
        "UNAUTHENTICATED",
    );

    // Refresh: a new pair, and the new access token works.
    let body = json!({"refresh_token": first.refresh});
    let r = front
        .call(Method::POST, "/auth/refresh", None, Some(body))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(keys(&r.body), ["data", "success"], "{}", r.body);
    let data = &r.body["data"];
    assert_eq!(keys(data), ["refresh_token", "token", "user"], "{}", r.body);
    assert_eq!(data["user"]["id"], first.id.as_str());
    let refreshed = Signed {
        id: first.id.clone(),
        token: text(&data["token"]),
        refresh: text(&data["refresh_token"]),
    };
    assert_ne!(refreshed.refresh, first.refresh, "rotated");
    assert_eq!(front.get("/auth/me", &refreshed.token).await.status, 200);

    // Logout: 204 without a body; the session's refresh token stops working.
    let r = front
        .call(Method::POST, "/auth/logout", Some(&refreshed.token), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_null(), "{}", r.body);
    let body = json!({"refresh_token": refreshed.refresh});
    let r = front
        .call(Method::POST, "/auth/refresh", None, Some(body))
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    front.sign_in("emma@example.com").await
}

/// `POST /drifts` (internal: the scanner's service token) and `GET /drifts` with filters
/// and offset/limit; the three drifts made: critical, warning, info, oldest first.
async fn drifts(front: &Front<'_>, scanner: &str, emma: &Signed, vic: &Signed) -> [String; 3] {
    let made = [
        json!({
            "title": "Public S3 bucket",
            "description": "ACL changed to public-read outside Terraform",
            "resource_id": "arn:aws:s3:::acme-logs",
            "resource_type": "aws_s3_bucket",
            "provider": "aws",
            "region": "us-east-1",
            "severity": "critical",
            "expected_state": {"acl": "private"},
            "actual_state": {"acl": "public-read"}
        }),
        json!({"title": "Instance type changed", "resource_id": "i-0abc", "resource_type": "aws_instance", "severity": "warning"}),
        json!({"title": "Tag missing", "resource_id": "disk-01", "resource_type": "azurerm_managed_disk", "severity": "info"}),
    ];
    let mut made_ids = Vec::new();
    for body in &made {
        let r = front.post("/drifts", scanner, body.clone()).await;
        let d = one(&r, 201, DRIFT);
        for (k, v) in body.as_object().expect("object") {
            assert_eq!(&d[k], v, "{k}: {}", r.body);
        }
        assert_eq!(d["status"], "pending", "{}", r.body);
        for k in ["reviewed_by", "reviewed_at", "review_comment"] {
            assert!(d[k].is_null(), "{k}: {}", r.body);
        }
        made_ids.push(text(&d["id"]));
    }
    let [a, b, c]: [String; 3] = made_ids.try_into().expect("three drifts");

    // Internal only: a signed-in user may not create drifts; anonymous callers neither.
    let body = made[2].clone();
    for token in [&emma.token, &vic.token] {
        let r = front.post("/drifts", token, body.clone()).await;
        assert_object_error(&r, 403, "FORBIDDEN");
    }
    let r = front
        .call(Method::POST, "/drifts", None, Some(body.clone()))
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    // Bad input is a 400 (unknown severity, no title).
    let bad = json!({"resource_id": "x", "resource_type": "t", "severity": "urgent"});
    let r = front.post("/drifts", scanner, bad).await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    // The seed's `details` is an object: field messages in Zod's flatten() shape.
    let details = &r.body["error"]["details"];
    assert_eq!(
        common::error_fields(&r),
        ["title", "severity"],
        "{}",
        r.body
    );
    assert!(
        details["fieldErrors"]["severity"][0].is_string(),
        "{details}"
    );
    assert_eq!(details["formErrors"], json!([]), "{details}");

    // The list: newest first, every drift for any signed-in user.
    let all = front.get("/drifts", &vic.token).await;
    let items = list(&all, DRIFT);
    assert_eq!(
        ids(items),
        [c.as_str(), b.as_str(), a.as_str()],
        "{}",
        all.body
    );
    assert_eq!(
        all.body["meta"],
        json!({"total": 3, "limit": 50, "offset": 0})
    );
    // Filters by status and severity.
    let r = front
        .get("/drifts?status=pending&severity=critical", &vic.token)
        .await;
    assert_eq!(ids(list(&r, DRIFT)), [a.as_str()], "{}", r.body);
    assert_eq!(r.body["meta"]["total"], 1);
    let r = front.get("/drifts?severity=warning", &emma.token).await;
    assert_eq!(ids(list(&r, DRIFT)), [b.as_str()], "{}", r.body);
    let r = front.get("/drifts?status=approved", &emma.token).await;
    assert!(list(&r, DRIFT).is_empty(), "{}", r.body);
    assert_eq!(r.body["meta"]["total"], 0);
    // offset/limit pages.
    let r = front.get("/drifts?offset=0&limit=2", &vic.token).await;
    assert_eq!(ids(list(&r, DRIFT)), [c.as_str(), b.as_str()], "{}", r.body);
    assert_eq!(r.body["meta"], json!({"total": 3, "limit": 2, "offset": 0}));
    let r = front.get("/drifts?offset=2&limit=2", &vic.token).await;
    assert_eq!(ids(list(&r, DRIFT)), [a.as_str()], "{}", r.body);
    assert_eq!(r.body["meta"], json!({"total": 3, "limit": 2, "offset": 2}));
    assert_object_error(
        &front.get("/drifts?severity=urgent", &vic.token).await,
        400,
        "VALIDATION_ERROR",
    );
    [a, b, c]
}

/// `GET /drifts/:id` with its alerts, cost metrics and audit entries.
async fn drift_details(
    front: &Front<'_>,
    scanner: &str,
    emma: &Signed,
    vic: &Signed,
    a: &str,
    b: &str,
) {
    for (drift, amount, at) in [
        (a, 120.5, "2025-11-03T10:00:00Z"),
        (a, 30.0, "2025-11-05T12:00:00Z"),
        (b, -12.25, "2025-11-12T09:00:00Z"),
    ] {
        let body = json!({"drift_id": drift, "amount": amount, "recorded_at": at});
        let r = front.post("/cost_metrics", scanner, body).await;
        let cost = one(&r, 201, COST);
        assert_eq!(cost["currency"], "USD", "{}", r.body);
    }
    let body = json!({"drift_id": a, "action": "drift.detected", "entity_type": "drift", "entity_id": a, "details": {"source": "scanner"}});
    let r = front.post("/audit_logs", scanner, body).await;
    one(&r, 201, AUDIT);

    let r = front.get(&format!("/drifts/{a}"), &emma.token).await;
    let d = one(&r, 200, DRIFT);
    assert_eq!(d["id"], a);
    assert_eq!(d["title"], "Public S3 bucket");
    assert_eq!(d["actual_state"], json!({"acl": "public-read"}));
    let alerts = d["alerts"].as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "the critical drift's alert: {}", r.body);
    shape(&alerts[0], ALERT);
    assert_eq!(alerts[0]["drift_id"], a);
    assert_eq!(alerts[0]["severity"], "critical");
    assert_eq!(alerts[0]["message"], "Public S3 bucket");
    let costs = d["cost_metrics"].as_array().expect("cost_metrics");
    let amounts: Vec<f64> = costs
        .iter()
        .map(|c| {
            shape(c, COST);
            c["amount"].as_f64().expect("amount")
        })
        .collect();
    assert_eq!(amounts, [120.5, 30.0], "oldest first: {}", r.body);
    // The drift's own audit entry of its creation, then the one the scanner posted.
    let audit = d["audit_logs"].as_array().expect("audit_logs");
    assert_eq!(audit.len(), 2, "{}", r.body);
    shape(&audit[0], AUDIT);
    assert_eq!(audit[0]["action"], "create");
    assert_eq!(audit[0]["details"]["after"]["title"], "Public S3 bucket");
    assert_eq!(audit[1]["action"], "drift.detected");
    assert_eq!(audit[1]["details"]["source"], "scanner");
    // A viewer gets the same drift; the audit trail is for reviewers.
    let r = front.get(&format!("/drifts/{a}"), &vic.token).await;
    let d = one(&r, 200, DRIFT);
    assert_eq!(d["alerts"].as_array().map(Vec::len), Some(1), "{}", r.body);
    assert_eq!(d["cost_metrics"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["audit_logs"], json!([]), "{}", r.body);
    // The warning drift raised no alert.
    let r = front.get(&format!("/drifts/{b}"), &vic.token).await;
    let d = one(&r, 200, DRIFT);
    assert_eq!(d["alerts"], json!([]), "{}", r.body);
    assert_eq!(d["cost_metrics"].as_array().map(Vec::len), Some(1));

    let unknown = uuid::Uuid::now_v7();
    let r = front.get(&format!("/drifts/{unknown}"), &vic.token).await;
    assert_object_error(&r, 404, "NOT_FOUND");
    // Differs from the seed's token middleware (not asserted): without a token, reads are
    // not refused with a 401; `GET /drifts` is an empty page and `GET /drifts/:id` a 404
    // (docs/rules.md, "What a rule means").
}

/// `POST /drifts/:id/approve` and `/reject`: engineers (and admins) review, viewers may not,
/// only from pending, a rejection needs its comment.
async fn review(front: &Front<'_>, emma: &Signed, vic: &Signed, a: &str, b: &str) {
    let approve = format!("/drifts/{a}/approve");
    let comment = json!({"review_comment": "Known exception, ticket OPS-12"});
    assert_object_error(
        &front.post(&approve, &vic.token, comment.clone()).await,
        403,
        "FORBIDDEN",
    );
    let r = front
        .call(Method::POST, &approve, None, Some(comment.clone()))
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    let unknown = uuid::Uuid::now_v7();
    let r = front
        .post(
            &format!("/drifts/{unknown}/approve"),
            &emma.token,
            comment.clone(),
        )
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    // A rejection without its reason is a 400, with or without a body.
    let reject_a = format!("/drifts/{a}/reject");
    assert_object_error(
        &front.post(&reject_a, &emma.token, json!({})).await,
        400,
        "VALIDATION_ERROR",
    );
    let r = front
        .call(Method::POST, &reject_a, Some(&emma.token), None)
        .await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    let still = front.get(&format!("/drifts/{a}"), &vic.token).await;
    assert_eq!(still.body["data"]["status"], "pending", "{}", still.body);

    let r = front.post(&approve, &emma.token, comment.clone()).await;
    let d = one(&r, 200, DRIFT);
    assert_eq!(d["id"], a);
    assert_eq!(d["status"], "approved");
    assert_eq!(d["reviewed_by"], emma.id.as_str());
    assert_eq!(d["review_comment"], comment["review_comment"]);
    assert!(d["reviewed_at"].is_string(), "{}", r.body);
    // From approved, neither approve nor reject: 409.
    assert_object_error(
        &front.post(&approve, &emma.token, json!({})).await,
        409,
        "CONFLICT",
    );
    let r = front
        .post(&reject_a, &emma.token, json!({"review_comment": "No"}))
        .await;
    assert_object_error(&r, 409, "CONFLICT");

    let reject_b = format!("/drifts/{b}/reject");
    assert_object_error(
        &front
            .post(&reject_b, &vic.token, json!({"review_comment": "No"}))
            .await,
        403,
        "FORBIDDEN",
    );
    let r = front
        .post(
            &reject_b,
            &emma.token,
            json!({"review_comment": "Revert the instance type"}),
        )
        .await;
    let d = one(&r, 200, DRIFT);
    assert_eq!(d["status"], "rejected");
    assert_eq!(d["reviewed_by"], emma.id.as_str());
    assert_eq!(d["review_comment"], "Revert the instance type");
    let r = front
        .post(&format!("/drifts/{b}/approve"), &emma.token, json!({}))
        .await;
    assert_object_error(&r, 409, "CONFLICT");
    // The list filters by the new states.
    let r = front.get("/drifts?status=approved", &vic.token).await;
    assert_eq!(ids(list(&r, DRIFT)), [a], "{}", r.body);
    let r = front.get("/drifts?status=rejected", &vic.token).await;
    assert_eq!(ids(list(&r, DRIFT)), [b], "{}", r.body);
    // Each review is in the drift's audit trail, with who and the state change.
    for (id, action, status) in [(a, "approve", "approved"), (b, "reject", "rejected")] {
        let r = front.get(&format!("/drifts/{id}"), &emma.token).await;
        let d = one(&r, 200, DRIFT);
        let audit = d["audit_logs"].as_array().expect("audit_logs");
        let review = audit.iter().find(|e| e["action"] == action);
        let review = review.unwrap_or_else(|| panic!("no {action} entry: {}", r.body));
        shape(review, AUDIT);
        assert_eq!(review["user_id"], emma.id.as_str());
        assert_eq!(review["details"]["before"]["status"], "pending");
        assert_eq!(review["details"]["after"]["status"], status);
    }
}

/// `GET /alerts`, `POST /alerts/:id/mark-read`, `GET /metrics/summary`,
/// `GET /metrics/cost-trend?from&to&interval`.
async fn alerts_and_metrics(
    front: &Front<'_>,
    scanner: &str,
    emma: &Signed,
    vic: &Signed,
    ada: &Signed,
    a: &str,
    b: &str,
) {
    // An alert for Vic alone, beside his own copy of the critical drift's alert.
    let body = json!({"drift_id": b, "user_id": vic.id, "title": "Drift rejected", "message": "Instance type will be reverted", "severity": "warning"});
    let r = front.post("/alerts", scanner, body).await;
    let mine = text(&one(&r, 201, ALERT)["id"]);
    assert_eq!(r.body["data"]["is_read"], false, "{}", r.body);

    let r = front.get("/alerts", &vic.token).await;
    let items = list(&r, ALERT);
    assert_eq!(items.len(), 2, "both his own: {}", r.body);
    assert_eq!(
        r.body["meta"],
        json!({"total": 2, "limit": 50, "offset": 0})
    );
    assert_eq!(items[0]["id"], mine.as_str(), "newest first: {}", r.body);
    let vics_critical = text(&items[1]["id"]);
    assert_eq!(items[1]["drift_id"], a);
    assert_eq!(items[1]["user_id"], vic.id.as_str(), "{}", r.body);
    let r = front.get("/alerts", &emma.token).await;
    let emmas = list(&r, ALERT);
    assert_eq!(emmas.len(), 1, "her own copy only: {}", r.body);
    assert_eq!(emmas[0]["user_id"], emma.id.as_str());
    assert_ne!(emmas[0]["id"], vics_critical.as_str());
    let r = front.get("/alerts?is_read=false&limit=1", &vic.token).await;
    assert_eq!(list(&r, ALERT).len(), 1, "{}", r.body);
    assert_eq!(r.body["meta"], json!({"total": 2, "limit": 1, "offset": 0}));

    // The dashboard before anything is read, as Vic sees it.
    let summary = |token: String| async move {
        let r = front.get("/metrics/summary", &token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(keys(&r.body), ["data", "success"], "{}", r.body);
        assert_eq!(r.body["success"], true);
        assert_eq!(keys(&r.body["data"]), SUMMARY, "{}", r.body);
        for k in SUMMARY {
            assert!(r.body["data"][*k].is_number(), "{k}: {}", r.body);
        }
        r.body["data"].clone()
    };
    let s = summary(vic.token.clone()).await;
    for (k, n) in [
        ("total_drifts", 3),
        ("pending_drifts", 1),
        ("approved_drifts", 1),
        ("rejected_drifts", 1),
        ("critical_drifts", 1),
        ("warning_drifts", 1),
        ("info_drifts", 1),
        ("unread_alerts", 2),
    ] {
        assert_eq!(s[k], n, "{k}: {s}");
    }
    let cost = s["total_cost"].as_f64().expect("total_cost");
    assert!((cost - 138.25).abs() < 1e-9, "{s}");
    let s = summary(emma.token.clone()).await;
    assert_eq!(s["unread_alerts"], 1, "her copy of the critical alert: {s}");

    // Mark read: one's own alerts (each user has their own copy of a critical drift's
    // alert); someone else's is not there.
    let r = front
        .call(
            Method::POST,
            &format!("/alerts/{mine}/mark-read"),
            Some(&vic.token),
            None,
        )
        .await;
    let alert = one(&r, 200, ALERT);
    assert_eq!(alert["id"], mine.as_str());
    assert_eq!(alert["is_read"], true);
    assert!(alert["read_at"].is_string(), "{}", r.body);
    let r = front
        .call(
            Method::POST,
            &format!("/alerts/{mine}/mark-read"),
            Some(&emma.token),
            None,
        )
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    let read_critical = format!("/alerts/{vics_critical}/mark-read");
    let r = front
        .call(Method::POST, &read_critical, Some(&emma.token), None)
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    let r = front
        .call(Method::POST, &read_critical, Some(&vic.token), None)
        .await;
    assert_eq!(one(&r, 200, ALERT)["is_read"], true, "{}", r.body);
    let s = summary(vic.token.clone()).await;
    assert_eq!(s["unread_alerts"], 0, "{s}");
    let r = front.get("/alerts?is_read=false", &vic.token).await;
    assert!(list(&r, ALERT).is_empty(), "{}", r.body);
    // Emma's copy is still unread: read state is per user.
    let s = summary(emma.token.clone()).await;
    assert_eq!(s["unread_alerts"], 1, "{s}");
    // A broadcast alert (no recipient, posted by the scanner) is one row for everyone:
    // only an admin marks it.
    let note = json!({"title": "Scan done", "message": "3 drifts", "severity": "info"});
    let r = front.post("/alerts", scanner, note).await;
    let broadcast = text(&one(&r, 201, ALERT)["id"]);
    let read_broadcast = format!("/alerts/{broadcast}/mark-read");
    let r = front
        .call(Method::POST, &read_broadcast, Some(&vic.token), None)
        .await;
    assert_object_error(&r, 403, "FORBIDDEN");
    let r = front
        .call(Method::POST, &read_broadcast, Some(&ada.token), None)
        .await;
    assert_eq!(one(&r, 200, ALERT)["is_read"], true, "{}", r.body);

    // Cost over time, by the frontend's from/to/interval.
    let trend = |query: &'static str| async move {
        let r = front
            .get(&format!("/metrics/cost-trend?{query}"), &vic.token)
            .await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert_eq!(keys(&r.body), ["data", "success"], "{}", r.body);
        let buckets = r.body["data"].as_array().expect("buckets").clone();
        buckets
            .iter()
            .map(|b| {
                assert_eq!(keys(b), ["date", "entries", "total_cost"], "{b}");
                let cost = b["total_cost"].as_f64().expect("total_cost");
                (
                    text(&b["date"]),
                    cost,
                    b["entries"].as_u64().expect("entries"),
                )
            })
            .collect::<Vec<_>>()
    };
    let week = trend("from=2025-11-01&to=2025-12-01&interval=week").await;
    assert_eq!(
        week,
        [
            ("2025-11-03".to_owned(), 150.5, 2),
            ("2025-11-10".to_owned(), -12.25, 1)
        ]
    );
    let day = trend("from=2025-11-01T00:00:00Z&to=2025-11-06T00:00:00Z&interval=day").await;
    assert_eq!(
        day,
        [
            ("2025-11-03".to_owned(), 120.5, 1),
            ("2025-11-05".to_owned(), 30.0, 1)
        ]
    );
    let month = trend("from=2025-10-01&to=2026-01-01&interval=month").await;
    assert_eq!(month, [("2025-11-01".to_owned(), 138.25, 3)]);
    let none = trend("from=2025-12-01&to=2026-01-01").await;
    assert!(none.is_empty(), "{none:?}");
    let r = front
        .get("/metrics/cost-trend?interval=year", &vic.token)
        .await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
}
