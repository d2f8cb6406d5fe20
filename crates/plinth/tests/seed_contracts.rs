//! The seed endpoints that the generic REST API already serves, called the way each seed's
//! frontend calls them (method, path, body, status, response shape), on both databases.
//! Seed endpoints that need workflows, route aliases or auth (Sim-Flow status/assign and
//! comments-with-request, CloudDrift approve/reject and metrics, RevOps session-state,
//! DataGen generate/status, QUADRAX auth and predict) are not built yet.

mod common;

use common::TestEnv;
use serde_json::json;

both!(
    simflow_seed_endpoints,
    clouddrift_seed_endpoints,
    quadrax_seed_endpoints
);

/// Seed 002: `POST /api/requests`, `GET /api/requests`, `GET /api/requests/:id`,
/// `GET /api/users`, `GET /api/users?role=ENGINEER`, with keyed bodies.
async fn simflow_seed_endpoints(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await;
    let api = "/simflow/api";
    for (name, role) in [("Eve", "ENGINEER"), ("Rex", "REQUESTER")] {
        let body = json!({"name": name, "email": format!("{name}@example.com"), "role": role});
        assert_eq!(app.post(&format!("{api}/users"), body).await.status, 201);
    }
    let created = app
        .post(&format!("{api}/requests"), json!({"title": "CFD run", "description": "Duct flow", "vendor": "OpenFOAM", "priority": "Medium"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let request = &created.body["request"];
    for key in [
        "id",
        "title",
        "description",
        "vendor",
        "status",
        "priority",
        "created_at",
        "updated_at",
    ] {
        assert!(
            request.get(key).is_some(),
            "request.{key} missing: {request}"
        );
    }
    let id = request["id"].as_str().expect("id");
    let all = app.get(&format!("{api}/requests")).await;
    assert_eq!(all.body["requests"][0]["id"], id);
    let one = app.get(&format!("{api}/requests/{id}")).await;
    assert_eq!(one.body["request"]["vendor"], "OpenFOAM");
    let users = app.get(&format!("{api}/users")).await;
    assert_eq!(users.body["users"].as_array().map(Vec::len), Some(2));
    let engineers = app.get(&format!("{api}/users?role=ENGINEER")).await;
    let list = engineers.body["users"].as_array().expect("users");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Eve");
    app.stop().await;
}

/// Seed 001: `GET /api/v1/drifts` with filters and offset/limit, `GET /api/v1/drifts/:id`,
/// `POST /api/v1/drifts`, `GET /api/v1/alerts`, in the `{success, data, meta}` envelope.
async fn clouddrift_seed_endpoints(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let api = "/clouddrift/api/v1";
    for (title, severity) in [("Public bucket", "critical"), ("Tag missing", "info")] {
        let r = app
            .post(&format!("{api}/drifts"), json!({"title": title, "resource_id": format!("arn:{title}"), "resource_type": "aws_s3_bucket", "severity": severity}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["success"], true);
        assert_eq!(r.body["data"]["status"], "pending");
    }
    let page = app
        .get(&format!(
            "{api}/drifts?severity=critical&status=pending&limit=10&offset=0"
        ))
        .await;
    assert_eq!(page.body["success"], true);
    assert_eq!(
        page.body["meta"],
        json!({"total": 1, "limit": 10, "offset": 0})
    );
    let id = page.body["data"][0]["id"].as_str().expect("id");
    let one = app.get(&format!("{api}/drifts/{id}")).await;
    assert_eq!(one.body["data"]["title"], "Public bucket");
    let alerts = app.get(&format!("{api}/alerts")).await;
    assert_eq!(
        alerts.body,
        json!({"success": true, "data": [], "meta": {"total": 0, "limit": 50, "offset": 0}})
    );
    app.stop().await;
}

/// Seed 004: `POST /api/workstations` with the seed's body, `GET /api/workstations` in the
/// `{success, data}` envelope, and its string-style validation errors.
async fn quadrax_seed_endpoints(env: TestEnv) {
    let app = env.spawn(&["quadrax"]).await;
    let body = json!({
        "name": "ml-training-env",
        "description": "Machine learning training environment",
        "function": "TRAINING",
        "nature": ["machine-learning", "data-science"],
        "resources": {"cpu": 8, "memory": 16384, "storage": 102400, "gpu": true}
    });
    let created = app.post("/quadrax/api/workstations", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["success"], true);
    assert_eq!(created.body["data"]["resources"]["gpu"], true);
    let list = app.get("/quadrax/api/workstations").await;
    let first = &list.body["data"][0];
    assert_eq!(first["name"], "ml-training-env");
    assert_eq!(first["status"], "STOPPED");
    let bad = app
        .post(
            "/quadrax/api/workstations",
            json!({"name": "x", "function": "PLAY"}),
        )
        .await;
    common::assert_string_error(&bad, 400, "VALIDATION_ERROR");
    assert_eq!(bad.body["error"], "Validation failed");
    let fields: Vec<&str> = bad.body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "description", "function"]);
    app.stop().await;
}
