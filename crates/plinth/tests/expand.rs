//! `expand=` embeds related records under `expand.<field>`, on list and view, on both
//! databases; only relation fields may be expanded.

mod common;

use common::{assert_object_error, TestEnv};
use serde_json::json;

both!(expand_relations);

async fn expand_relations(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let mk = |name: &str| json!({"name": name, "email": format!("{}@example.com", name.to_lowercase()), "role": "ENGINEER"});
    let ada = app.post("/simflow/api/users", mk("Ada")).await.body["user"]["id"].clone();
    let bob = app.post("/simflow/api/users", mk("Bob")).await.body["user"]["id"].clone();
    let base = json!({"description": "d", "vendor": "v", "priority": "Low"});
    let with = |title: &str, extra: serde_json::Value| {
        let mut b = base.clone();
        b["title"] = json!(title);
        for (k, v) in extra.as_object().expect("object") {
            b[k] = v.clone();
        }
        b
    };
    let r1 = app
        .post(
            "/simflow/api/requests",
            with("one", json!({"created_by": ada, "assigned_to": bob})),
        )
        .await;
    assert_eq!(r1.status, 201);
    assert_eq!(
        app.post(
            "/simflow/api/requests",
            with("two", json!({"created_by": ada}))
        )
        .await
        .status,
        201
    );

    let list = app
        .get("/simflow/api/requests?expand=created_by,assigned_to&sort=title")
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["requests"].as_array().expect("list");
    assert_eq!(items[0]["expand"]["created_by"]["name"], "Ada");
    assert_eq!(items[0]["expand"]["assigned_to"]["name"], "Bob");
    assert_eq!(items[1]["expand"]["created_by"]["email"], "ada@example.com");
    assert!(
        items[1]["expand"].get("assigned_to").is_none(),
        "null relation: nothing to embed"
    );
    assert_eq!(items[0]["created_by"], ada, "the id itself stays");

    let plain = app.get("/simflow/api/requests").await;
    assert!(plain.body["requests"][0].get("expand").is_none());

    let id = r1.body["request"]["id"].as_str().expect("id");
    let one = app
        .get(&format!("/simflow/api/requests/{id}?expand=assigned_to"))
        .await;
    assert_eq!(one.body["request"]["expand"]["assigned_to"]["name"], "Bob");

    let bad = app.get("/simflow/api/requests?expand=title").await;
    assert_object_error(&bad, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_fields(&bad)[0], "expand");
    let unknown = app
        .get(&format!("/simflow/api/requests/{id}?limit=3"))
        .await;
    assert_object_error(&unknown, 400, "VALIDATION_ERROR");
    app.stop().await;
}
