//! Every kind of bad input gets the app's error envelope with the right status, on both
//! databases, and loses nothing.

mod common;

use common::{assert_object_error, assert_string_error, TestEnv};
use reqwest::Method;
use serde_json::json;

both!(
    bad_bodies,
    bad_queries_and_routes,
    string_style_errors,
    string_style_unmatched_routes
);

async fn bad_bodies(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let path = "/simflow/api/requests";

    let malformed = app
        .raw(
            Method::POST,
            path,
            "application/json",
            b"{\"title\": ".to_vec(),
        )
        .await;
    assert_object_error(&malformed, 400, "VALIDATION_ERROR");
    assert!(malformed.body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Malformed JSON")));

    let not_object = app.post(path, json!([1, 2])).await;
    assert_object_error(&not_object, 400, "VALIDATION_ERROR");

    let wrong = app
        .post(path, json!({"title": 5, "description": "d", "vendor": "v", "priority": "Urgent", "estimated_hours": "3", "colour": "red"}))
        .await;
    assert_object_error(&wrong, 400, "VALIDATION_ERROR");
    let fields = common::error_fields(&wrong);
    assert_eq!(fields, ["colour", "title", "priority", "estimated_hours"]);

    let missing = app.post(path, json!({})).await;
    assert_object_error(&missing, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_fields(&missing).len(), 4, "{}", missing.body);

    let readonly = app
        .post(
            "/simflow/api/users",
            json!({"id": "x", "name": "a", "email": "a@b.co", "role": "r"}),
        )
        .await;
    assert_eq!(common::error_fields(&readonly)[0], "id");

    let bad_email = app
        .post(
            "/simflow/api/users",
            json!({"name": "a", "email": "nope", "role": "r"}),
        )
        .await;
    assert_eq!(common::error_fields(&bad_email)[0], "email");

    let too_big = app
        .raw(
            Method::POST,
            path,
            "application/json",
            serde_json::to_vec(&json!({"title": "x".repeat(100_000)})).expect("json"),
        )
        .await;
    assert_object_error(&too_big, 413, "PAYLOAD_TOO_LARGE");

    let wrong_type = app
        .raw(Method::POST, path, "text/plain", b"title=x".to_vec())
        .await;
    assert_object_error(&wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE");

    // NUL characters: PostgreSQL would refuse them, so both backends answer 400, not 500.
    let nul = app
        .post(
            path,
            json!({"title": "a\u{0}b", "description": "d", "vendor": "v", "priority": "Low"}),
        )
        .await;
    assert_object_error(&nul, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_fields(&nul)[0], "title");
    let nul_json = app
        .post(
            "/simflow/api/activity_log",
            json!({"action": "x", "details": {"k": "\u{0}"}}),
        )
        .await;
    assert_object_error(&nul_json, 400, "VALIDATION_ERROR");

    let list = app.get(path).await;
    assert_eq!(list.body["meta"]["total"], 0, "no bad write was stored");

    // A valid record, then a bad patch that must leave it untouched.
    let ok = app
        .post(
            path,
            json!({"title": "t", "description": "d", "vendor": "v", "priority": "Low"}),
        )
        .await;
    let id = ok.body["request"]["id"].as_str().expect("id").to_owned();
    let bad_patch = app
        .patch(
            &format!("{path}/{id}"),
            json!({"priority": "Urgent", "title": null}),
        )
        .await;
    assert_object_error(&bad_patch, 400, "VALIDATION_ERROR");
    let after = app.get(&format!("{path}/{id}")).await;
    assert_eq!(after.body["request"]["priority"], "Low");
    app.stop().await;
}

async fn bad_queries_and_routes(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    for q in [
        "limit=0",
        "limit=100000",
        "limit=abc",
        "offset=-1",
        "sort=nope",
        "sort=details",
        "estimated_hours=abc",
        "bogus=1",
    ] {
        let r = app.get(&format!("/simflow/api/requests?{q}")).await;
        assert_object_error(&r, 400, "VALIDATION_ERROR");
        assert!(!common::error_fields(&r).is_empty(), "{q}: {}", r.body);
    }
    // An injection attempt is just a value that matches nothing.
    let inj = app.get("/simflow/api/users?role=x'%20OR%20'1'='1").await;
    assert_eq!(inj.status, 200);
    assert_eq!(inj.body["meta"]["total"], 0);

    assert_object_error(&app.get("/simflow/api/nothing").await, 404, "NOT_FOUND");
    assert_object_error(
        &app.get("/simflow/api/requests/not-a-uuid").await,
        404,
        "NOT_FOUND",
    );
    assert_object_error(
        &app.get(&format!("/simflow/api/requests/{}", uuid::Uuid::now_v7()))
            .await,
        404,
        "NOT_FOUND",
    );
    assert_object_error(&app.get("/nowhere").await, 404, "NOT_FOUND");
    assert_object_error(
        &app.get("/simflow/api/users?name=a%00b").await,
        400,
        "VALIDATION_ERROR",
    );
    // A path that is not UTF-8 is rejected by the router itself; it still gets the envelope.
    let bad_path = app.get("/simflow/api/users/%FF%FE").await;
    assert_object_error(&bad_path, 400, "VALIDATION_ERROR");
    let put = app
        .call(Method::PUT, "/simflow/api/requests", Some(json!({})))
        .await;
    assert_object_error(&put, 405, "METHOD_NOT_ALLOWED");

    // Request ids: generated when absent, echoed when given, and named in error bodies.
    let given = app
        .client
        .get(format!("{}/simflow/api/nothing", app.base))
        .header("x-request-id", "req-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(given.headers()["x-request-id"], "req-123");
    let body: serde_json::Value = given.json().await.expect("json");
    assert_eq!(body["error"]["requestId"], "req-123");
    let fresh = app.get("/health").await;
    assert!(fresh.headers.get("x-request-id").is_some());
    app.stop().await;
}

async fn string_style_errors(env: TestEnv) {
    let app = env.spawn(&["revops"]).await.with_service_tokens().await;
    let r = app
        .raw(
            Method::POST,
            "/revops/api/data_snapshots",
            "application/json",
            b"nope".to_vec(),
        )
        .await;
    assert_string_error(&r, 400, "VALIDATION_ERROR");
    let r = app
        .post("/revops/api/data_snapshots", json!({"unknown_field": 1}))
        .await;
    assert_string_error(&r, 400, "VALIDATION_ERROR");
    assert!(r.body["details"]
        .as_array()
        .is_some_and(|d| d.iter().any(|e| e["field"] == "unknown_field")));
    let body = r.body.to_string().to_lowercase();
    assert!(!body.contains("select") && !body.contains("sqlite") && !body.contains("postgres"));
    app.stop().await;
}

/// Any path under a string-style app's base that matches no route, and a known path with
/// another method, answer in the app's own style, not the listener's object style: under a
/// nested base (`/quadrax/api`, including `/quadrax/api/`), and for an app whose base is
/// the listener's root.
async fn string_style_unmatched_routes(env: TestEnv) {
    let app = env.spawn(&["quadrax"]).await.with_service_tokens().await;
    for path in [
        "/quadrax/api/nope",
        "/quadrax/api/nope/x/y/z",
        "/quadrax/api/users/x/y/z",
        "/quadrax/api/",
        "/quadrax/api",
    ] {
        let r = app.get(path).await;
        assert_string_error(&r, 404, "NOT_FOUND");
        assert!(r.body["requestId"].is_string(), "{path}: {}", r.body);
    }
    // `{collection}/{id}/{name}`: GET lists an included collection, POST runs a
    // transition or action; an unknown name is a 404 either way.
    assert_string_error(&app.get("/quadrax/api/models/x/y").await, 404, "NOT_FOUND");
    let r = app.post("/quadrax/api/models/x/y", json!({})).await;
    assert_string_error(&r, 404, "NOT_FOUND");
    let id = uuid::Uuid::now_v7();
    for (method, path) in [
        (Method::PUT, "/quadrax/api/users".to_owned()),
        (Method::DELETE, "/quadrax/api/users".to_owned()),
        (Method::POST, format!("/quadrax/api/users/{id}")),
        (Method::PUT, "/quadrax/api/openapi.json".to_owned()),
    ] {
        let r = app.call(method, &path, Some(json!({}))).await;
        assert_string_error(&r, 405, "METHOD_NOT_ALLOWED");
    }
    // Outside every app's base the listener's object style still applies.
    assert_object_error(&app.get("/quadrax/elsewhere").await, 404, "NOT_FOUND");
    assert_object_error(&app.get("/nowhere/x").await, 404, "NOT_FOUND");
    assert_eq!(
        app.get("/quadrax/api/openapi.json").await.body["servers"][0]["url"],
        "/quadrax/api"
    );
    app.stop().await;

    // A string-style app whose base is the root: every unrouted path is under its base.
    let manifest = env.dir.path().join("notes.yaml");
    std::fs::write(
        &manifest,
        "name: notes\nbase: /\nerrors: string\ncollections:\n  notes:\n    fields:\n      title: { type: text }\n    rules: { list: '', view: '', create: '', update: '', delete: '' }\n",
    )
    .expect("write manifest");
    let mut config = env.config(&[("notes", Some(manifest))]);
    config.apps.get_mut("notes").expect("notes").mount = Some("/".into());
    let app = env.start(&config).await.expect("server starts");
    for path in ["/notes/x/y/z", "/", "/a/b/c/d"] {
        assert_string_error(&app.get(path).await, 404, "NOT_FOUND");
    }
    let put = app.call(Method::PUT, "/notes", Some(json!({}))).await;
    assert_string_error(&put, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(app.get("/health").await.status, 200);
    app.stop().await;
}
