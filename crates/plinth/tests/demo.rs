//! Demo data: every bundled app's demo.yaml loads through the API's validation, on both
//! databases, with references between records resolved, and only into empty apps.

mod common;

use common::TestEnv;

both!(demo_data_loads_once);

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
    let requests = app.get("/simflow/api/requests?sort=title").await;
    assert_eq!(requests.body["meta"]["total"], 3, "{}", requests.body);
    let users = app.get("/simflow/api/users?role=ENGINEER").await;
    assert_eq!(users.body["meta"]["total"], 2);
    let thermal = &requests.body["requests"][2];
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
