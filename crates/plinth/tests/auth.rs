//! Sign-in: register, login, me, refresh with rotation and reuse detection, logout; bad
//! tokens are 401s. Both databases; QUADRAX (camelCase, `data` envelope, string errors) and
//! Sim-Flow (`keyed`).

mod common;

use common::{assert_string_error, Reply, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(quadrax_sign_in_story, simflow_sign_in_shape);

async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("authorization", format!("Bearer {token}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    TestApp::reply(req.send().await.expect("sent")).await
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

async fn quadrax_sign_in_story(env: TestEnv) {
    let app = env.spawn(&["quadrax"]).await;
    let auth = "/quadrax/api/auth";
    let body = json!({"email": "john@example.com", "password": "securePassword123", "firstName": "John", "lastName": "Doe", "organization": "Company Inc"});
    let reg = app.post(&format!("{auth}/register"), body.clone()).await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    let data = &reg.body["data"];
    assert_eq!(data["user"]["firstName"], "John");
    assert_eq!(
        data["user"]["role"], "USER",
        "the collection's default role"
    );
    for hidden in ["passwordHash", "password_hash", "password", "failedLogins"] {
        assert!(data["user"].get(hidden).is_none(), "{hidden}: {data}");
    }
    let token = s(&data["token"]);
    let refresh1 = s(&data["refreshToken"]);

    // Same email again, a weak password, a chosen role: refused, nothing written.
    assert_eq!(
        app.post(&format!("{auth}/register"), body).await.status,
        409
    );
    let weak = app
        .post(&format!("{auth}/register"), json!({"email": "a@b.co", "password": "short", "firstName": "A", "lastName": "B", "role": "ADMIN"}))
        .await;
    assert_string_error(&weak, 400, "VALIDATION_ERROR");
    let fields: Vec<&str> = weak.body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["password", "role"], "{}", weak.body);

    let me = with_token(&app, Method::GET, &format!("{auth}/me"), &token, None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["data"]["user"]["email"], "john@example.com");
    assert_string_error(
        &app.get(&format!("{auth}/me")).await,
        401,
        "UNAUTHENTICATED",
    );
    let mut tampered = token.clone();
    tampered.insert(token.len() - 2, 'A');
    for bad in [tampered.as_str(), "nonsense", ""] {
        let r = with_token(&app, Method::GET, &format!("{auth}/me"), bad, None).await;
        assert_string_error(&r, 401, "UNAUTHENTICATED");
    }

    let wrong = app
        .post(
            &format!("{auth}/login"),
            json!({"email": "john@example.com", "password": "nope12345"}),
        )
        .await;
    assert_string_error(&wrong, 401, "UNAUTHENTICATED");
    let unknown = app
        .post(
            &format!("{auth}/login"),
            json!({"email": "who@example.com", "password": "nope12345"}),
        )
        .await;
    assert_eq!(
        unknown.body["error"], wrong.body["error"],
        "one message for both"
    );
    let login = app
        .post(
            &format!("{auth}/login"),
            json!({"email": "john@example.com", "password": "securePassword123"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let other_device = s(&login.body["data"]["refreshToken"]);

    // Rotation: each refresh token works once and yields the next.
    let r2 = app
        .post(
            &format!("{auth}/refresh"),
            json!({"refreshToken": refresh1}),
        )
        .await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    let refresh2 = s(&r2.body["data"]["refreshToken"]);
    assert_ne!(refresh2, refresh1);
    let me2 = with_token(
        &app,
        Method::GET,
        &format!("{auth}/me"),
        &s(&r2.body["data"]["token"]),
        None,
    )
    .await;
    assert_eq!(me2.status, 200);
    // Reuse of the spent token revokes the family: the newer token dies with it...
    let reuse = app
        .post(
            &format!("{auth}/refresh"),
            json!({"refreshToken": refresh1}),
        )
        .await;
    assert_string_error(&reuse, 401, "UNAUTHENTICATED");
    let after = app
        .post(
            &format!("{auth}/refresh"),
            json!({"refreshToken": refresh2}),
        )
        .await;
    assert_string_error(&after, 401, "UNAUTHENTICATED");
    // ...but another sign-in's family is untouched; logging it out ends it.
    let r3 = app
        .post(
            &format!("{auth}/refresh"),
            json!({"refreshToken": other_device}),
        )
        .await;
    assert_eq!(r3.status, 200, "{}", r3.body);
    let (t3, refresh3) = (
        s(&r3.body["data"]["token"]),
        s(&r3.body["data"]["refreshToken"]),
    );
    let out = with_token(&app, Method::POST, &format!("{auth}/logout"), &t3, None).await;
    assert_eq!(out.status, 204, "{}", out.body);
    let dead = app
        .post(
            &format!("{auth}/refresh"),
            json!({"refreshToken": refresh3}),
        )
        .await;
    assert_string_error(&dead, 401, "UNAUTHENTICATED");
    let missing = app.post(&format!("{auth}/refresh"), json!({})).await;
    assert_string_error(&missing, 400, "VALIDATION_ERROR");
    app.stop().await;
}

async fn simflow_sign_in_shape(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await;
    let reg = app
        .post(
            "/simflow/api/auth/register",
            json!({"email": "mia@example.com", "password": "managerPass1", "name": "Mia"}),
        )
        .await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    assert_eq!(reg.body["user"]["name"], "Mia");
    assert!(
        reg.body["token"].is_string() && reg.body["refresh_token"].is_string(),
        "{}",
        reg.body
    );
    // Users made through the generic API have no password: they cannot sign in.
    let plain = app
        .post(
            "/simflow/api/users",
            json!({"name": "Eve", "email": "eve@example.com", "role": "ENGINEER"}),
        )
        .await;
    assert_eq!(plain.status, 201);
    let r = app
        .post(
            "/simflow/api/auth/login",
            json!({"email": "eve@example.com", "password": "anything1"}),
        )
        .await;
    common::assert_object_error(&r, 401, "UNAUTHENTICATED");
    app.stop().await;
}
