//! The CRUD story, on SQLite and PostgreSQL: create, list (sort, limit, filters, total),
//! view, patch, delete, uniqueness, relations, and each envelope style.

mod common;

use common::{assert_object_error, TestEnv};
use serde_json::json;

both!(
    simflow_crud_walkthrough,
    uniqueness_and_relations,
    envelope_styles,
    concurrent_writes_get_their_own_results
);

async fn simflow_crud_walkthrough(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let user = app
        .post(
            "/simflow/api/users",
            json!({"name": "Ada", "email": "ada@example.com", "role": "ENGINEER"}),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let user_id = user.body["user"]["id"].as_str().expect("id").to_owned();
    assert_eq!(user.body["user"]["role"], "ENGINEER");

    let mut ids = Vec::new();
    for (i, prio) in ["Low", "High", "Medium"].iter().enumerate() {
        let r = app
            .post(
                "/simflow/api/requests",
                json!({"title": format!("Req {i}"), "description": "d", "vendor": "aws", "priority": prio,
                       "created_by": user_id, "estimated_hours": i * 10}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let rec = &r.body["request"];
        assert_eq!(rec["status"], "Submitted", "default applied");
        assert_eq!(rec["created_by"], user_id.as_str());
        assert_eq!(
            rec["created_by_name"], "Ada",
            "copied from the user in the unit"
        );
        assert!(rec["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
        assert_eq!(rec["created_at"], rec["updated_at"]);
        ids.push(rec["id"].as_str().expect("id").to_owned());
    }

    let newest = app.get("/simflow/api/requests").await;
    assert_eq!(
        newest.body["requests"][0]["id"],
        ids[2].as_str(),
        "default order: newest first"
    );
    let list = app
        .get("/simflow/api/requests?sort=-estimated_hours&limit=2")
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["requests"].as_array().expect("keyed list");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["title"], "Req 2");
    assert_eq!(items[1]["title"], "Req 1");
    assert_eq!(list.body["meta"]["total"], 3);
    assert_eq!(list.body["meta"]["limit"], 2);

    let page2 = app
        .get("/simflow/api/requests?sort=estimated_hours&limit=2&offset=2")
        .await;
    assert_eq!(page2.body["requests"][0]["title"], "Req 2");

    let filtered = app.get("/simflow/api/requests?priority=High").await;
    assert_eq!(filtered.body["meta"]["total"], 1);
    assert_eq!(filtered.body["requests"][0]["title"], "Req 1");
    let by_int = app.get("/simflow/api/requests?estimated_hours=20").await;
    assert_eq!(by_int.body["requests"][0]["title"], "Req 2");
    let by_role = app.get("/simflow/api/users?role=ENGINEER").await;
    assert_eq!(by_role.body["meta"]["total"], 1);
    let none = app.get("/simflow/api/users?role=MANAGER").await;
    assert_eq!(none.body["users"], json!([]));

    let one = app.get(&format!("/simflow/api/requests/{}", ids[0])).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["request"]["title"], "Req 0");

    let patched = app
        .patch(
            &format!("/simflow/api/requests/{}", ids[0]),
            json!({"status": "In Progress", "assigned_to_name": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let rec = &patched.body["request"];
    assert_eq!(rec["status"], "In Progress");
    assert_eq!(rec["title"], "Req 0", "untouched fields kept");
    assert!(rec["updated_at"].as_str() >= rec["created_at"].as_str());
    let again = app.get(&format!("/simflow/api/requests/{}", ids[0])).await;
    assert_eq!(
        again.body["request"]["status"], "In Progress",
        "patch persisted"
    );

    let comment = app
        .post("/simflow/api/comments", json!({"request_id": ids[0], "author_name": "Ada", "author_role": "ENGINEER", "content": "on it"}))
        .await;
    assert_eq!(comment.status, 201, "{}", comment.body);
    assert!(
        comment.body["comment"].get("updated_at").is_none(),
        "comments keep created_at only"
    );

    let gone = app
        .delete(&format!("/simflow/api/requests/{}", ids[0]))
        .await;
    assert_eq!(gone.status, 204);
    let missing = app.get(&format!("/simflow/api/requests/{}", ids[0])).await;
    assert_object_error(&missing, 404, "NOT_FOUND");
    let comments = app
        .get(&format!("/simflow/api/comments?request_id={}", ids[0]))
        .await;
    assert_eq!(
        comments.body["meta"]["total"], 0,
        "comments cascade with their request"
    );
    let twice = app
        .delete(&format!("/simflow/api/requests/{}", ids[0]))
        .await;
    assert_object_error(&twice, 404, "NOT_FOUND");
    app.stop().await;
}

async fn uniqueness_and_relations(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let body = json!({"name": "Ada", "email": "ada@example.com", "role": "ADMIN"});
    assert_eq!(
        app.post("/simflow/api/users", body.clone()).await.status,
        201
    );
    let dup = app.post("/simflow/api/users", body).await;
    assert_object_error(&dup, 409, "CONFLICT");
    assert_eq!(common::error_fields(&dup)[0], "email");

    let ghost = uuid::Uuid::now_v7().to_string();
    let bad_ref = app
        .post("/simflow/api/requests", json!({"title": "t", "description": "d", "vendor": "v", "priority": "Low", "assigned_to": ghost}))
        .await;
    assert_object_error(&bad_ref, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_fields(&bad_ref)[0], "assigned_to");
    let total = app.get("/simflow/api/requests").await;
    assert_eq!(
        total.body["meta"]["total"], 0,
        "failed write left nothing behind"
    );
    app.stop().await;
}

async fn envelope_styles(env: TestEnv) {
    let app = env
        .spawn(&["clouddrift", "revops", "datagen"])
        .await
        .with_service_tokens()
        .await;
    // CloudDrift: data envelope.
    let list = app.get("/clouddrift/api/v1/drifts?limit=5").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["success"], true);
    assert_eq!(list.body["data"], json!([]));
    assert_eq!(
        list.body["meta"],
        json!({"total": 0, "limit": 5, "offset": 0})
    );
    // RevOps: string-style errors.
    let missing = app
        .get(&format!(
            "/revops/api/data_snapshots/{}",
            uuid::Uuid::now_v7()
        ))
        .await;
    common::assert_string_error(&missing, 404, "NOT_FOUND");
    // DataGen: bare bodies.
    let job = app
        .post(
            "/datagen/jobs",
            json!({"type": "generation", "params": {"rows": 10}, "status": "pending"}),
        )
        .await;
    assert_eq!(job.status, 201, "{}", job.body);
    assert_eq!(job.body["type"], "generation");
    assert_eq!(job.body["params"], json!({"rows": 10}), "json round-trips");
    let jobs = app.get("/datagen/jobs").await;
    assert_eq!(jobs.body["items"][0]["id"], job.body["id"]);
    app.stop().await;
}

/// Writes that arrive together (committed as one group on SQLite) still succeed or fail
/// one by one: a duplicate in the group gets its 409, the rest are stored.
async fn concurrent_writes_get_their_own_results(env: TestEnv) {
    let app = std::sync::Arc::new(env.spawn(&["simflow"]).await.with_service_tokens().await);
    let mut tasks = Vec::new();
    for i in 0..60 {
        let app = app.clone();
        // Every sixth user reuses the email of the one before it.
        let n = if i % 6 == 5 { i - 1 } else { i };
        tasks.push(tokio::spawn(async move {
            app.post(
                "/simflow/api/users",
                json!({"name": format!("U{i}"), "email": format!("u{n}@example.com"), "role": "R"}),
            )
            .await
            .status
            .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.expect("task"));
    }
    assert_eq!(codes.iter().filter(|c| **c == 201).count(), 50, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 10, "{codes:?}");
    let list = app.get("/simflow/api/users?limit=100").await;
    assert_eq!(list.body["meta"]["total"], 50);
    assert_eq!(list.body["users"].as_array().map(Vec::len), Some(50));
}
