//! Sim-Flow's contract (seed 002_3eb57452689a5f80.txt, "API Endpoints"): every seed
//! endpoint called as its frontend calls it (method, path under `/api`, JSON body,
//! `Authorization: Bearer` of a user signed in over HTTP), asserting status and response
//! shape (keyed bodies `{request}`, `{requests, meta}`, `{request, comments}`; errors
//! `{success: false, error: {code, message, timestamp}}`), with the app mounted at its
//! default `/simflow` and at `/` (the frontend's own paths), on both databases.
//!
//! Error `details` are tested in `contract_clouddrift.rs` and `bad_input.rs`.

mod common;

use common::{assert_object_error, Reply, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(simflow_at_default_mount, simflow_at_root);

/// The password `TestApp::user_token` gives its users.
const PASSWORD: &str = "testPassw0rd";

async fn simflow_at_default_mount(env: TestEnv) {
    story(env, "/simflow").await;
}

async fn simflow_at_root(env: TestEnv) {
    story(env, "/").await;
}

/// Sim-Flow's frontend: every call under `{mount}/api`, JSON bodies, a bearer token.
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

    async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// `POST /auth/login {email, password}`, as the sign-in form does.
    async fn sign_in(&self, email: &str) -> Signed {
        let body = json!({"email": email, "password": PASSWORD});
        let r = self
            .call(Method::POST, "/auth/login", None, Some(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            keys(&r.body),
            ["refresh_token", "token", "user"],
            "{}",
            r.body
        );
        shape(&r.body["user"], USER);
        assert_eq!(r.body["user"]["email"], email);
        Signed {
            id: text(&r.body["user"]["id"]),
            token: text(&r.body["token"]),
        }
    }
}

struct Signed {
    id: String,
    token: String,
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
/// `string`, `int`, `object`; a trailing `?` allows null.
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
            "int" => got.is_u64() || got.is_i64(),
            "object" => got.is_object(),
            other => panic!("unknown kind {other}"),
        };
        assert!(ok, "`{key}` is not {kind}: {v}");
    }
}

/// Assert a keyed list `{<key>: [...], meta: {total, limit, offset}}`, each item of
/// `item`'s shape; the items.
fn list<'a>(r: &'a Reply, key: &str, item: &[(&str, &str)]) -> &'a Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    json_body(r);
    let mut expected = [key, "meta"];
    expected.sort_unstable();
    assert_eq!(keys(&r.body), expected, "{}", r.body);
    shape(
        &r.body["meta"],
        &[("total", "int"), ("limit", "int"), ("offset", "int")],
    );
    let items = r.body[key].as_array().expect("a list");
    for i in items {
        shape(i, item);
    }
    items
}

/// Assert a keyed record `{<key>: {...}}` of `item`'s shape; the record.
fn one<'a>(r: &'a Reply, status: u16, key: &str, item: &[(&str, &str)]) -> &'a Value {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    json_body(r);
    assert_eq!(keys(&r.body), [key], "{}", r.body);
    shape(&r.body[key], item);
    &r.body[key]
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
    ("name", "string"),
    ("email", "string"),
    ("role", "string"),
    ("avatar_url", "string?"),
    ("created_at", "time"),
    ("updated_at", "time"),
];

const REQUEST: &[(&str, &str)] = &[
    ("id", "id"),
    ("title", "string"),
    ("description", "string"),
    ("vendor", "string"),
    ("status", "string"),
    ("priority", "string"),
    ("created_by", "id?"),
    ("created_by_name", "string"),
    ("assigned_to", "id?"),
    ("assigned_to_name", "string?"),
    ("estimated_hours", "int?"),
    ("created_at", "time"),
    ("updated_at", "time"),
];

const COMMENT: &[(&str, &str)] = &[
    ("id", "id"),
    ("request_id", "id"),
    ("author_id", "id?"),
    ("author_name", "string"),
    ("author_role", "string"),
    ("content", "string"),
    ("created_at", "time"),
];

const ACTIVITY: &[(&str, &str)] = &[
    ("id", "id"),
    ("request_id", "id?"),
    ("user_id", "id?"),
    ("action", "string"),
    ("details", "object?"),
    ("created_at", "time"),
];

/// Who acts in the story, each signed in over HTTP.
struct Cast {
    max: Signed,
    rita: Signed,
    rob: Signed,
    ed: Signed,
    erin: Signed,
}

/// The whole frontend story with Sim-Flow mounted at `mount`.
async fn story(env: TestEnv, mount: &str) {
    let mut config = env.config(&[("simflow", None)]);
    config.apps.get_mut("simflow").expect("app").mount = Some(mount.to_owned());
    let app = env.start(&config).await.expect("server starts");
    let prefix = mount.trim_end_matches('/');
    let front = Front {
        app: &app,
        api: format!("{prefix}/api"),
    };
    // Served where mounted, and only there.
    let elsewhere = if prefix.is_empty() {
        "/simflow/api/auth/login"
    } else {
        "/api/auth/login"
    };
    let body = json!({"email": "x@example.com", "password": PASSWORD});
    let r = app.send(Method::POST, elsewhere, None, Some(body)).await;
    assert_eq!(r.status, 404, "{elsewhere}: {}", r.body);

    // The seed's mock users, made by the operator, each signing in over HTTP.
    for (email, role, name) in [
        ("max@example.com", "MANAGER", "Max Manager"),
        ("rita@example.com", "REQUESTER", "Rita Requester"),
        ("rob@example.com", "REQUESTER", "Rob Requester"),
        ("ed@example.com", "ENGINEER", "Ed Engineer"),
        ("erin@example.com", "ENGINEER", "Erin Engineer"),
    ] {
        app.user_token("simflow", email, role, json!({"name": name}))
            .await;
    }
    auth(&front).await;
    let cast = Cast {
        max: front.sign_in("max@example.com").await,
        rita: front.sign_in("rita@example.com").await,
        rob: front.sign_in("rob@example.com").await,
        ed: front.sign_in("ed@example.com").await,
        erin: front.sign_in("erin@example.com").await,
    };
    users(&front, &cast).await;
    let (r1, r2) = requests(&front, &cast).await;
    assign(&front, &cast, &r1).await;
    comments(&front, &cast, &r1).await;
    statuses(&front, &cast, &r1, &r2).await;
    activity(&front, &cast, &r1).await;
    app.stop().await;
}

/// `POST /auth/login`, `GET /auth/me`, `POST /auth/refresh`, `POST /auth/logout`.
async fn auth(front: &Front<'_>) {
    let wrong = json!({"email": "rita@example.com", "password": "wrongPassw0rd"});
    let r = front
        .call(Method::POST, "/auth/login", None, Some(wrong))
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    let body = json!({"email": "rita@example.com", "password": PASSWORD});
    let login = front
        .call(Method::POST, "/auth/login", None, Some(body))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let token = text(&login.body["token"]);
    let refresh = text(&login.body["refresh_token"]);

    let me = front.get("/auth/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(keys(&me.body), ["user"], "{}", me.body);
    shape(&me.body["user"], USER);
    assert_eq!(me.body["user"]["name"], "Rita Requester");
    assert_eq!(me.body["user"]["role"], "REQUESTER");
    for hidden in ["password_hash", "password", "failed_logins"] {
        assert!(
            me.body["user"].get(hidden).is_none(),
            "{hidden}: {}",
            me.body
        );
    }
    let r = front.call(Method::GET, "/auth/me", None, None).await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    assert_object_error(
        &front.get("/requests", "not-a-token").await,
        401,
        "UNAUTHENTICATED",
    );

    let r = front
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        keys(&r.body),
        ["refresh_token", "token", "user"],
        "{}",
        r.body
    );
    assert_eq!(r.body["user"]["email"], "rita@example.com");
    let token = text(&r.body["token"]);
    let refresh2 = text(&r.body["refresh_token"]);
    assert_ne!(refresh2, refresh, "rotated");
    assert_eq!(front.get("/auth/me", &token).await.status, 200);
    let r = front
        .call(Method::POST, "/auth/logout", Some(&token), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(r.body.is_null(), "{}", r.body);
    let r = front
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh2})),
        )
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
}

/// `GET /users` and `GET /users?role=ENGINEER` (the manager's assign picker).
async fn users(front: &Front<'_>, cast: &Cast) {
    let r = front.get("/users", &cast.max.token).await;
    assert_eq!(list(&r, "users", USER).len(), 5, "{}", r.body);
    assert_eq!(
        r.body["meta"],
        json!({"total": 5, "limit": 50, "offset": 0})
    );
    for token in [&cast.max.token, &cast.rita.token] {
        let r = front.get("/users?role=ENGINEER&sort=name", token).await;
        let names: Vec<&str> = list(&r, "users", USER)
            .iter()
            .filter_map(|u| u["name"].as_str())
            .collect();
        assert_eq!(names, ["Ed Engineer", "Erin Engineer"], "{}", r.body);
        let engineers = r.body["users"].as_array().expect("users");
        assert_eq!(engineers[0]["id"], cast.ed.id.as_str());
        assert!(
            engineers.iter().all(|u| u["role"] == "ENGINEER"),
            "{}",
            r.body
        );
        for hidden in ["password_hash", "password"] {
            assert!(engineers[0].get(hidden).is_none(), "{}", r.body);
        }
    }
}

/// `POST /requests` and the role-filtered `GET /requests`, `GET /requests/:id`; the ids of
/// Rita's request (r1) and Rob's (r2).
async fn requests(front: &Front<'_>, cast: &Cast) -> (String, String) {
    let body = json!({"title": "CFD mesh for duct", "description": "Need a hex mesh of the intake duct", "vendor": "OpenFOAM", "priority": "High"});
    let r = front
        .post("/requests", &cast.rita.token, body.clone())
        .await;
    let req = one(&r, 201, "request", REQUEST);
    for (k, v) in body.as_object().expect("object") {
        assert_eq!(&req[k], v, "{k}: {}", r.body);
    }
    assert_eq!(req["status"], "Submitted");
    assert_eq!(req["created_by"], cast.rita.id.as_str(), "from the caller");
    assert_eq!(
        req["created_by_name"], "Rita Requester",
        "from the caller's user"
    );
    for k in ["assigned_to", "assigned_to_name", "estimated_hours"] {
        assert!(req[k].is_null(), "{k}: {}", r.body);
    }
    let r1 = text(&req["id"]);
    let body = json!({"title": "FEA of bracket", "description": "Static load case", "vendor": "Ansys", "priority": "Low"});
    let r = front.post("/requests", &cast.rob.token, body).await;
    let r2 = text(&one(&r, 201, "request", REQUEST)["id"]);

    // Bad input: 400; no token: 401.
    let bad = json!({"title": "x", "description": "y", "priority": "Urgent"});
    assert_object_error(
        &front.post("/requests", &cast.rita.token, bad).await,
        400,
        "VALIDATION_ERROR",
    );
    let r = front
        .call(
            Method::POST,
            "/requests",
            None,
            Some(json!({"title": "x", "description": "y", "vendor": "v", "priority": "Low"})),
        )
        .await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");

    // Role-filtered lists: requesters their own, engineers what is assigned to them
    // (nothing yet), managers everything (newest first).
    for (who, expected) in [
        (&cast.rita, vec![r1.as_str()]),
        (&cast.rob, vec![r2.as_str()]),
        (&cast.ed, vec![]),
        (&cast.max, vec![r2.as_str(), r1.as_str()]),
    ] {
        let r = front.get("/requests", &who.token).await;
        assert_eq!(ids(list(&r, "requests", REQUEST)), expected, "{}", r.body);
        assert_eq!(r.body["meta"]["total"], expected.len(), "{}", r.body);
    }
    let r = front
        .get("/requests?status=Submitted&priority=High", &cast.max.token)
        .await;
    assert_eq!(
        ids(list(&r, "requests", REQUEST)),
        [r1.as_str()],
        "{}",
        r.body
    );

    // One request with its comments (none yet); others' requests are not there.
    let r = front
        .get(&format!("/requests/{r1}"), &cast.rita.token)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(keys(&r.body), ["comments", "request"], "{}", r.body);
    shape(&r.body["request"], REQUEST);
    assert_eq!(r.body["request"]["id"], r1.as_str());
    assert_eq!(r.body["comments"], json!([]));
    for who in [&cast.rob, &cast.ed] {
        let r = front.get(&format!("/requests/{r1}"), &who.token).await;
        assert_object_error(&r, 404, "NOT_FOUND");
    }
    let r = front.get(&format!("/requests/{r1}"), &cast.max.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let unknown = uuid::Uuid::now_v7();
    let r = front
        .get(&format!("/requests/{unknown}"), &cast.max.token)
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    (r1, r2)
}

/// `PATCH /requests/:id/assign {engineerId, estimatedHours}`: managers only; the
/// engineer's name is copied onto the request.
async fn assign(front: &Front<'_>, cast: &Cast, r1: &str) {
    let path = format!("/requests/{r1}/assign");
    let body = json!({"engineerId": cast.ed.id, "estimatedHours": 12});
    // The engineer cannot see the request yet (404); the requester may see it but not
    // assign it (403).
    assert_object_error(
        &front.patch(&path, &cast.ed.token, body.clone()).await,
        404,
        "NOT_FOUND",
    );
    assert_object_error(
        &front.patch(&path, &cast.rita.token, body.clone()).await,
        403,
        "FORBIDDEN",
    );
    let r = front
        .patch(&path, &cast.max.token, json!({"estimatedHours": 3}))
        .await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    let r = front.patch(&path, &cast.max.token, body).await;
    let req = one(&r, 200, "request", REQUEST);
    assert_eq!(req["id"], r1);
    assert_eq!(req["assigned_to"], cast.ed.id.as_str());
    assert_eq!(req["assigned_to_name"], "Ed Engineer");
    assert_eq!(req["estimated_hours"], 12);
    assert_eq!(req["status"], "Submitted", "assigning moves no state");
    // Now the engineer sees it, the other engineer does not.
    let r = front.get("/requests", &cast.ed.token).await;
    assert_eq!(ids(list(&r, "requests", REQUEST)), [r1], "{}", r.body);
    let r = front.get("/requests", &cast.erin.token).await;
    assert!(list(&r, "requests", REQUEST).is_empty(), "{}", r.body);
    let r = front.get(&format!("/requests/{r1}"), &cast.ed.token).await;
    assert_eq!(
        r.body["request"]["assigned_to_name"], "Ed Engineer",
        "{}",
        r.body
    );
}

/// `POST /requests/:id/comments {content}`: comments with their author's name and role.
async fn comments(front: &Front<'_>, cast: &Cast, r1: &str) {
    let path = format!("/requests/{r1}/comments");
    let r = front
        .post(
            &path,
            &cast.rita.token,
            json!({"content": "Any news on the mesh?"}),
        )
        .await;
    let c = one(&r, 201, "comment", COMMENT);
    assert_eq!(c["request_id"], r1, "from the path");
    assert_eq!(c["author_id"], cast.rita.id.as_str());
    assert_eq!(c["author_name"], "Rita Requester");
    assert_eq!(c["author_role"], "REQUESTER");
    assert_eq!(c["content"], "Any news on the mesh?");
    let r = front
        .post(&path, &cast.ed.token, json!({"content": "Meshing today"}))
        .await;
    let c = one(&r, 201, "comment", COMMENT);
    assert_eq!(c["author_name"], "Ed Engineer");
    assert_eq!(c["author_role"], "ENGINEER");
    // Someone who cannot see the request does not find it; empty comments are refused,
    // and so is a body naming another request.
    let r = front
        .post(&path, &cast.rob.token, json!({"content": "Me too"}))
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    let r = front
        .post(&path, &cast.rita.token, json!({"content": ""}))
        .await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    let other = json!({"content": "x", "request_id": uuid::Uuid::nil().to_string()});
    let r = front.post(&path, &cast.rita.token, other).await;
    assert_object_error(&r, 400, "VALIDATION_ERROR");
    // GET /requests/:id/comments lists them.
    let r = front.get(&path, &cast.ed.token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["comments"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.body
    );

    // GET /requests/:id: `{request, comments}`, oldest first, as each may see it.
    for who in [&cast.rita, &cast.ed, &cast.max] {
        let r = front.get(&format!("/requests/{r1}"), &who.token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(keys(&r.body), ["comments", "request"], "{}", r.body);
        let list = r.body["comments"].as_array().expect("comments");
        let authors: Vec<&str> = list
            .iter()
            .map(|c| {
                shape(c, COMMENT);
                c["author_name"].as_str().unwrap_or_default()
            })
            .collect();
        assert_eq!(authors, ["Rita Requester", "Ed Engineer"], "{}", r.body);
    }
}

/// `PATCH /requests/:id/status {status}`: allowed by role and state.
async fn statuses(front: &Front<'_>, cast: &Cast, r1: &str, r2: &str) {
    let path = format!("/requests/{r1}/status");
    let to = |s: &str| json!({ "status": s });
    // Only the assignee (or a manager) starts work; no such state: 400.
    assert_object_error(
        &front
            .patch(&path, &cast.rita.token, to("In Progress"))
            .await,
        403,
        "FORBIDDEN",
    );
    assert_object_error(
        &front.patch(&path, &cast.ed.token, to("Teleported")).await,
        400,
        "VALIDATION_ERROR",
    );
    let r = front.patch(&path, &cast.ed.token, to("In Progress")).await;
    assert_eq!(one(&r, 200, "request", REQUEST)["status"], "In Progress");
    // Started already: 409.
    assert_object_error(
        &front.patch(&path, &cast.ed.token, to("In Progress")).await,
        409,
        "CONFLICT",
    );
    let r = front.patch(&path, &cast.ed.token, to("Completed")).await;
    assert_eq!(one(&r, 200, "request", REQUEST)["status"], "Completed");
    // The requester reopens it; it cannot be completed again before it is started.
    let r = front.patch(&path, &cast.rita.token, to("Submitted")).await;
    assert_eq!(one(&r, 200, "request", REQUEST)["status"], "Submitted");
    assert_object_error(
        &front.patch(&path, &cast.ed.token, to("Completed")).await,
        409,
        "CONFLICT",
    );
    // Cancelling is the requester's, not the engineer's.
    assert_object_error(
        &front.patch(&path, &cast.ed.token, to("Cancelled")).await,
        403,
        "FORBIDDEN",
    );
    let r = front.patch(&path, &cast.rita.token, to("Cancelled")).await;
    let req = one(&r, 200, "request", REQUEST);
    assert_eq!(req["status"], "Cancelled");
    assert_eq!(req["assigned_to_name"], "Ed Engineer", "kept: {}", r.body);
    // A manager may make any transition, even on an unassigned request.
    let r = front
        .patch(
            &format!("/requests/{r2}/status"),
            &cast.max.token,
            to("In Progress"),
        )
        .await;
    assert_eq!(one(&r, 200, "request", REQUEST)["status"], "In Progress");
    // Someone who cannot see the request: 404.
    let r = front
        .patch(
            &format!("/requests/{r2}/status"),
            &cast.rita.token,
            to("Cancelled"),
        )
        .await;
    assert_object_error(&r, 404, "NOT_FOUND");
    let r = front
        .get("/requests?status=Cancelled", &cast.rita.token)
        .await;
    assert_eq!(ids(list(&r, "requests", REQUEST)), [r1], "{}", r.body);
    // Requests keep no trail of their own (`audit:`), so each action and transition made
    // is in Plinth's `_plinth_audit`, in order, with who made it; the refused ones are not.
    let svc = front.app.service("simflow");
    let audit = svc.any_collection("_plinth_audit").expect("audit");
    let query = [
        ("record_id".to_owned(), r1.to_owned()),
        ("sort".to_owned(), "created_at".to_owned()),
    ];
    let page = svc.list(&svc.system_ctx(), audit, &query).await;
    let entries: Vec<Value> = page
        .expect("audit entries")
        .items
        .iter()
        .map(|r| serde_json::to_value(r).expect("json"))
        .collect();
    let made = action_and_who(&entries, "actor_id");
    let (max, ed, rita) = (&*cast.max.id, &*cast.ed.id, &*cast.rita.id);
    assert_eq!(
        made,
        [
            ("assign", max),
            ("start", ed),
            ("complete", ed),
            ("reopen", rita),
            ("cancel", rita)
        ]
    );
}

/// Each entry's `action` and who made it (the `who` field), in order.
fn action_and_who<'a>(entries: &'a [Value], who: &str) -> Vec<(&'a str, &'a str)> {
    entries
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e[who].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// The activity entries the create, comments and actions wrote, each with who and what,
/// refused ones none.
async fn activity(front: &Front<'_>, cast: &Cast, r1: &str) {
    let path = format!("/activity_log?request_id={r1}&sort=created_at,id");
    for who in [&cast.rita, &cast.max] {
        let r = front.get(&path, &who.token).await;
        let entries = list(&r, "activity_log", ACTIVITY);
        let got = action_and_who(entries, "user_id");
        assert_eq!(
            got,
            [
                ("created", cast.rita.id.as_str()),
                ("assigned", cast.max.id.as_str()),
                ("commented", cast.rita.id.as_str()),
                ("commented", cast.ed.id.as_str()),
                ("started", cast.ed.id.as_str()),
                ("completed", cast.ed.id.as_str()),
                ("reopened", cast.rita.id.as_str()),
                ("cancelled", cast.rita.id.as_str()),
            ],
            "{}",
            r.body
        );
        assert!(entries.iter().all(|e| e["request_id"] == r1), "{}", r.body);
        assert_eq!(
            entries[1]["details"],
            json!({"engineerId": cast.ed.id, "estimatedHours": 12}),
            "{}",
            r.body
        );
    }
    // Whoever may not see the request sees none of its activity.
    let r = front.get(&path, &cast.rob.token).await;
    assert!(list(&r, "activity_log", ACTIVITY).is_empty(), "{}", r.body);
    assert_eq!(r.body["meta"]["total"], 0);
}
