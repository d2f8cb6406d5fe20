//! Seed endpoints called the way each seed's frontend calls them (method, path, body,
//! bearer token of a signed-in user, status, response shape), on both databases.
//! Sim-Flow's and CloudDrift's full contracts, at both mounts, are in contract_simflow.rs
//! and contract_clouddrift.rs. Seed endpoints that need route aliases, jobs or ML
//! (Sim-Flow `POST /requests/:id/comments`, RevOps session-state save/load, DataGen
//! generate/status, QUADRAX predict) are not built yet.

mod common;

use common::TestEnv;
use serde_json::json;

both!(
    simflow_seed_endpoints,
    clouddrift_seed_endpoints,
    quadrax_seed_endpoints,
    revops_mixed_wire_names
);

/// Seed 002: `POST /api/requests`, `GET /api/requests`, `GET /api/requests/:id`,
/// `GET /api/users`, `GET /api/users?role=ENGINEER`, with keyed bodies.
async fn simflow_seed_endpoints(env: TestEnv) {
    let mut app = env.spawn(&["simflow"]).await;
    let api = "/simflow/api";
    // A manager adds an engineer; a requester files a request.
    let (_, max) = app
        .user_token(
            "simflow",
            "max@example.com",
            "MANAGER",
            json!({"name": "Max"}),
        )
        .await;
    app.act_as("simflow", &max);
    let body = json!({"name": "Eve", "email": "eve@example.com", "role": "ENGINEER"});
    assert_eq!(app.post(&format!("{api}/users"), body).await.status, 201);
    let (rex_id, rex) = app
        .user_token(
            "simflow",
            "rex@example.com",
            "REQUESTER",
            json!({"name": "Rex"}),
        )
        .await;
    app.act_as("simflow", &rex);
    let created = app
        .post(&format!("{api}/requests"), json!({"title": "CFD run", "description": "Duct flow", "vendor": "OpenFOAM", "priority": "Medium"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let request = &created.body["request"];
    assert_eq!(
        request["created_by"],
        rex_id.as_str(),
        "filled from the caller"
    );
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
    // PATCH /api/requests/:id/status: allowed by role and state (docs/workflows.md).
    let status = format!("{api}/requests/{id}/status");
    let r = app.patch(&status, json!({"status": "In Progress"})).await;
    common::assert_object_error(&r, 403, "FORBIDDEN"); // only the assignee starts work
    let r = app.patch(&status, json!({"status": "Teleported"})).await;
    common::assert_object_error(&r, 400, "VALIDATION_ERROR");
    // A comment carries its author from the caller (id, name and role).
    let c = app
        .post(
            &format!("{api}/comments"),
            json!({"request_id": id, "content": "Any news?"}),
        )
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body["comment"]["author_name"], "Rex", "{}", c.body);
    assert_eq!(c.body["comment"]["author_role"], "REQUESTER");
    assert_eq!(c.body["comment"]["author_id"], rex_id.as_str());
    // GET /api/requests/:id: `{request, comments}`.
    let one = app.get(&format!("{api}/requests/{id}")).await;
    assert_eq!(one.body["request"]["id"], id, "{}", one.body);
    assert_eq!(
        one.body["comments"][0]["content"], "Any news?",
        "{}",
        one.body
    );
    assert_eq!(one.body["comments"].as_array().map(Vec::len), Some(1));
    // The manager assigns an engineer, who starts and completes the work.
    let (ed_id, ed) = app
        .user_token(
            "simflow",
            "ed@example.com",
            "ENGINEER",
            json!({"name": "Ed"}),
        )
        .await;
    let assign = format!("{api}/requests/{id}/assign");
    let r = app.patch(&assign, json!({"engineerId": ed_id})).await;
    common::assert_object_error(&r, 403, "FORBIDDEN"); // a requester cannot assign
    app.act_as("simflow", &max);
    let r = app
        .patch(&assign, json!({"engineerId": ed_id, "estimatedHours": 8}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["request"]["assigned_to"], ed_id.as_str());
    assert_eq!(
        r.body["request"]["assigned_to_name"], "Ed",
        "copied in the same unit"
    );
    assert_eq!(r.body["request"]["estimated_hours"], 8);
    let r = app.patch(&assign, json!({"engineer": ed_id})).await;
    common::assert_object_error(&r, 400, "VALIDATION_ERROR");
    app.act_as("simflow", &ed);
    let r = app.patch(&status, json!({"status": "In Progress"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["request"]["status"], "In Progress");
    let r = app.patch(&status, json!({"status": "Submitted"})).await;
    common::assert_object_error(&r, 409, "CONFLICT"); // reopening starts from Completed
    let r = app.patch(&status, json!({"status": "Completed"})).await;
    assert_eq!(r.body["request"]["status"], "Completed", "{}", r.body);
    // Each action left an activity entry, written with it (refused ones left none).
    let log = app
        .get(&format!(
            "{api}/activity_log?request_id={id}&sort=created_at,id"
        ))
        .await;
    let actions: Vec<&str> = log.body["activity_log"]
        .as_array()
        .expect("activity")
        .iter()
        .filter_map(|a| a["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["created", "commented", "assigned", "started", "completed"],
        "{}",
        log.body
    );
    assert_eq!(log.body["activity_log"][2]["details"]["estimatedHours"], 8);
    let users = app.get(&format!("{api}/users")).await;
    assert_eq!(users.body["users"].as_array().map(Vec::len), Some(4));
    let engineers = app
        .get(&format!("{api}/users?role=ENGINEER&sort=name"))
        .await;
    let names: Vec<&str> = engineers.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["Ed", "Eve"]);
    app.stop().await;
}

/// Seed 001: `GET /api/v1/drifts` with filters and offset/limit, `GET /api/v1/drifts/:id`,
/// `POST /api/v1/drifts`, `GET /api/v1/alerts`, in the `{success, data, meta}` envelope.
async fn clouddrift_seed_endpoints(env: TestEnv) {
    let mut app = env.spawn(&["clouddrift"]).await;
    let api = "/clouddrift/api/v1";
    // The scanner creates drifts with its service token; a viewer reads them.
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (_, viewer) = app
        .user_token(
            "clouddrift",
            "vic@example.com",
            "viewer",
            json!({"name": "Vic"}),
        )
        .await;
    for (title, severity) in [("Public bucket", "critical"), ("Tag missing", "info")] {
        let body = json!({"title": title, "resource_id": format!("arn:{title}"), "resource_type": "aws_s3_bucket", "severity": severity});
        let r = app
            .send(
                reqwest::Method::POST,
                &format!("{api}/drifts"),
                Some(&scanner),
                Some(body),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["success"], true);
        assert_eq!(r.body["data"]["status"], "pending");
    }
    // Review fields are the approve/reject actions' to set (readonly), not a client's.
    let sneaky = json!({"title": "x", "resource_id": "arn:x", "resource_type": "t", "severity": "info", "reviewed_at": "2026-11-20T10:00:00Z"});
    let r = app
        .send(
            reqwest::Method::POST,
            &format!("{api}/drifts"),
            Some(&scanner),
            Some(sneaky),
        )
        .await;
    common::assert_object_error(&r, 400, "VALIDATION_ERROR");
    assert!(r.body.to_string().contains("reviewed_at"), "{}", r.body);
    app.act_as("clouddrift", &viewer);
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
    // A drift carries its related lists, each as the caller may list it: the alert its
    // creation raised (critical), no costs yet, and no audit entries for a viewer.
    let raised = &one.body["data"]["alerts"];
    assert_eq!(raised.as_array().map(Vec::len), Some(1), "{}", one.body);
    assert_eq!(raised[0]["message"], "Public bucket");
    for list in ["cost_metrics", "audit_logs"] {
        assert_eq!(one.body["data"][list], json!([]), "{list}: {}", one.body);
    }
    let alerts = app.get(&format!("{api}/alerts")).await;
    assert_eq!(alerts.body["success"], true);
    assert_eq!(
        alerts.body["meta"],
        json!({"total": 1, "limit": 50, "offset": 0})
    );
    assert_eq!(alerts.body["data"][0]["drift_id"], id);
    app.stop().await;
}

/// Seed 004: `POST /api/workstations` with the seed's body, `GET /api/workstations` in the
/// `{success, data}` envelope, and its string-style validation errors.
async fn quadrax_seed_endpoints(env: TestEnv) {
    let mut app = env.spawn(&["quadrax"]).await;
    let (jane_id, jane) = app
        .user_token(
            "quadrax",
            "jane@example.com",
            "USER",
            json!({"firstName": "Jane", "lastName": "Roe"}),
        )
        .await;
    app.act_as("quadrax", &jane);
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
    assert_eq!(
        created.body["data"]["userId"],
        jane_id.as_str(),
        "owner from the caller"
    );
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

    // camelCase on the wire (naming: camel), snake_case in storage.
    let ws = first["id"].as_str().expect("id");
    assert!(
        first["createdAt"].is_string() && first.get("created_at").is_none(),
        "{first}"
    );
    let model = json!({
        "name": "Customer Classifier",
        "description": "Binary classification model",
        "type": "CLASSIFICATION",
        "framework": "TENSORFLOW",
        "workstationId": ws
    });
    let created = app.post("/quadrax/api/models", model).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let m = &created.body["data"];
    assert_eq!(m["workstationId"], ws);
    assert!(
        m.get("userId").is_some() && m["createdAt"].is_string() && m["updatedAt"].is_string(),
        "{m}"
    );
    assert!(m.get("workstation_id").is_none(), "{m}");
    let other = app
        .post(
            "/quadrax/api/models",
            json!({"name": "B", "type": "REGRESSION", "framework": "PYTORCH"}),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    let filtered = app
        .get_with(
            "/quadrax/api/models",
            &[
                ("filter", &format!("workstationId = \"{ws}\"")),
                ("sort", "-createdAt"),
            ],
        )
        .await;
    assert_eq!(filtered.status, 200, "{}", filtered.body);
    assert_eq!(filtered.body["meta"]["total"], 1, "{}", filtered.body);
    let newest = app
        .get_with("/quadrax/api/models", &[("sort", "-createdAt,name")])
        .await;
    assert_eq!(newest.body["data"][0]["name"], "B", "{}", newest.body);
    let by_eq = app
        .get_with("/quadrax/api/models", &[("workstationId", ws)])
        .await;
    assert_eq!(by_eq.body["meta"]["total"], 1, "{}", by_eq.body);
    let expanded = app
        .get_with(
            "/quadrax/api/models",
            &[("expand", "workstationId"), ("workstationId", ws)],
        )
        .await;
    assert_eq!(
        expanded.body["data"][0]["expand"]["workstationId"]["id"], ws,
        "{}",
        expanded.body
    );

    // Bad input is named as the client spelled it.
    let bad = app
        .post(
            "/quadrax/api/models",
            json!({"name": "C", "type": "X", "framework": "Y", "workstationId": "nope", "workstation_id": ws}),
        )
        .await;
    common::assert_string_error(&bad, 400, "VALIDATION_ERROR");
    let fields: Vec<&str> = bad.body["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["workstation_id", "workstationId"], "{}", bad.body);
    let bad_sort = app
        .get_with("/quadrax/api/models", &[("sort", "created_at")])
        .await;
    common::assert_string_error(&bad_sort, 400, "VALIDATION_ERROR");
    let bad_filter = app
        .get_with("/quadrax/api/models", &[("filter", "nope = 1")])
        .await;
    assert!(bad_filter.body["details"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("`nope`"));

    // The OpenAPI document speaks the same names.
    let doc = app.get("/quadrax/api/openapi.json").await;
    let props = &doc.body["components"]["schemas"]["Models"]["properties"];
    assert!(
        props.get("workstationId").is_some() && props.get("createdAt").is_some(),
        "{props}"
    );
    assert!(props.get("workstation_id").is_none(), "{props}");
    let input = &doc.body["components"]["schemas"]["ModelsInput"]["properties"];
    assert!(input.get("workstationId").is_some(), "{input}");
    app.stop().await;
}

/// Seed 000: the wizard state save body `{ userId, sessionId, wizard_step, state_data }`
/// mixes styles; per-field `wire:` names take it as written.
async fn revops_mixed_wire_names(env: TestEnv) {
    let mut app = env.spawn(&["revops"]).await;
    let (u1, token) = app
        .user_token("revops", "ana@example.com", "user", json!({}))
        .await;
    app.act_as("revops", &token);
    let body =
        json!({"userId": u1, "sessionId": "s1", "wizard_step": 2, "state_data": {"step": "map"}});
    let r = app.post("/revops/api/wizard_session_states", body).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["data"]["userId"], u1.as_str());
    assert_eq!(r.body["data"]["wizard_step"], 2);
    assert!(r.body["data"].get("user_id").is_none(), "{}", r.body);
    // Another user's id is refused (JWT on the API; state belongs to its user).
    let theirs =
        json!({"userId": "someone-else", "sessionId": "s1", "wizard_step": 1, "state_data": {}});
    let r = app.post("/revops/api/wizard_session_states", theirs).await;
    common::assert_string_error(&r, 403, "FORBIDDEN");
    let list = app
        .get_with(
            "/revops/api/wizard_session_states",
            &[("userId", u1.as_str()), ("sort", "-wizard_step")],
        )
        .await;
    assert_eq!(list.body["meta"]["total"], 1, "{}", list.body);
    app.stop().await;
}
