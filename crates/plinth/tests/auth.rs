//! Sign-in: register, login, me, refresh with rotation and reuse detection, logout; bad
//! tokens are 401s. Both databases; QUADRAX (camelCase, `data` envelope, string errors) and
//! Sim-Flow (`keyed`).

mod common;

use common::{assert_string_error, Reply, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(quadrax_sign_in_story, simflow_sign_in_shape, account_story);

async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    app.send(method, path, Some(token), body).await
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
    // Only managers and services make users through the generic API (anyone else: 401/403),
    // and those users have no password: they cannot sign in.
    let eve = json!({"name": "Eve", "email": "eve@example.com", "role": "ENGINEER"});
    let anon = app.post("/simflow/api/users", eve.clone()).await;
    common::assert_object_error(&anon, 401, "UNAUTHENTICATED");
    let mia = reg.body["token"].as_str().expect("token");
    let denied = app
        .send(
            Method::POST,
            "/simflow/api/users",
            Some(mia),
            Some(eve.clone()),
        )
        .await;
    common::assert_object_error(&denied, 403, "FORBIDDEN");
    let service = app.service_token("simflow", "SERVICE").await;
    let plain = app
        .send(
            Method::POST,
            "/simflow/api/users",
            Some(&service),
            Some(eve),
        )
        .await;
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(
        reg.body["user"]["role"], "REQUESTER",
        "the declared default role"
    );
    let r = app
        .post(
            "/simflow/api/auth/login",
            json!({"email": "eve@example.com", "password": "anything1"}),
        )
        .await;
    common::assert_object_error(&r, 401, "UNAUTHENTICATED");
    app.stop().await;
}

/// Sessions, logout-all, password change and lockout, through QUADRAX (camelCase bodies).
async fn account_story(env: TestEnv) {
    let app = env.spawn(&["quadrax"]).await;
    let auth = "/quadrax/api/auth";
    let creds = json!({"email": "ann@example.com", "password": "firstPass123"});
    let reg = app
        .post(&format!("{auth}/register"), json!({"email": "ann@example.com", "password": "firstPass123", "firstName": "Ann", "lastName": "Lee"}))
        .await;
    assert_eq!(reg.status, 201, "{}", reg.body);
    let t1 = s(&reg.body["data"]["token"]);
    let second = app.post(&format!("{auth}/login"), creds.clone()).await;
    let (t2, r2) = (
        s(&second.body["data"]["token"]),
        s(&second.body["data"]["refreshToken"]),
    );

    let list = with_token(&app, Method::GET, &format!("{auth}/sessions"), &t1, None).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let sessions = list.body["data"]["sessions"]
        .as_array()
        .expect("sessions")
        .clone();
    assert_eq!(sessions.len(), 2, "{}", list.body);
    assert!(
        sessions
            .iter()
            .all(|x| x.get("tokenHash").is_none() && x["expiresAt"].is_string()),
        "{}",
        list.body
    );
    // Revoke the second device's session from the first: its refresh token dies.
    let sid = s(&sessions[0]["id"]);
    let del = with_token(
        &app,
        Method::DELETE,
        &format!("{auth}/sessions/{sid}"),
        &t1,
        None,
    )
    .await;
    assert_eq!(del.status, 204, "{}", del.body);
    let again = with_token(
        &app,
        Method::DELETE,
        &format!("{auth}/sessions/{sid}"),
        &t1,
        None,
    )
    .await;
    assert_string_error(&again, 404, "NOT_FOUND");
    assert_string_error(
        &app.post(&format!("{auth}/refresh"), json!({"refreshToken": r2}))
            .await,
        401,
        "UNAUTHENTICATED",
    );

    // Password change: the old password is checked, the new one must be strong.
    let wrong = with_token(
        &app,
        Method::POST,
        &format!("{auth}/password"),
        &t2,
        Some(json!({"currentPassword": "nope1234", "newPassword": "secondPass456"})),
    )
    .await;
    assert_string_error(&wrong, 400, "VALIDATION_ERROR");
    assert_eq!(wrong.body["details"][0]["field"], "currentPassword");
    let weak = with_token(
        &app,
        Method::POST,
        &format!("{auth}/password"),
        &t2,
        Some(json!({"currentPassword": "firstPass123", "newPassword": "weak"})),
    )
    .await;
    assert_eq!(
        weak.body["details"][0]["field"], "newPassword",
        "{}",
        weak.body
    );
    let ok = with_token(
        &app,
        Method::POST,
        &format!("{auth}/password"),
        &t2,
        Some(json!({"currentPassword": "firstPass123", "newPassword": "secondPass456"})),
    )
    .await;
    assert_eq!(ok.status, 204, "{}", ok.body);
    assert_eq!(
        app.post(&format!("{auth}/login"), creds.clone())
            .await
            .status,
        401
    );
    let fresh = app
        .post(
            &format!("{auth}/login"),
            json!({"email": "ann@example.com", "password": "secondPass456"}),
        )
        .await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);

    // logout-all ends every session.
    let t3 = s(&fresh.body["data"]["token"]);
    let r3 = s(&fresh.body["data"]["refreshToken"]);
    assert_eq!(
        with_token(&app, Method::POST, &format!("{auth}/logout-all"), &t3, None)
            .await
            .status,
        204
    );
    assert_string_error(
        &app.post(&format!("{auth}/refresh"), json!({"refreshToken": r3}))
            .await,
        401,
        "UNAUTHENTICATED",
    );
    let none = with_token(&app, Method::GET, &format!("{auth}/sessions"), &t3, None).await;
    assert_eq!(none.body["data"]["sessions"], json!([]), "{}", none.body);

    // Lockout: five wrong passwords lock the account, even against the right one.
    let bad = json!({"email": "ann@example.com", "password": "wrongPass999"});
    for _ in 0..5 {
        assert_eq!(
            app.post(&format!("{auth}/login"), bad.clone()).await.status,
            401
        );
    }
    let locked = app
        .post(
            &format!("{auth}/login"),
            json!({"email": "ann@example.com", "password": "secondPass456"}),
        )
        .await;
    assert_string_error(&locked, 401, "UNAUTHENTICATED");
    assert!(
        s(&locked.body["error"]).contains("try again later"),
        "{}",
        locked.body
    );
    app.stop().await;
}
