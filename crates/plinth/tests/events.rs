//! Named events in the outbox, written in the unit of the change that causes them
//! (CloudDrift's `drift:created`, `alert:created`, `drift:approved`, `drift:rejected`), and
//! update triggers that read the record as updated, create triggers that read the caller;
//! refused or repeated changes write nothing. On both databases.

mod common;

use std::path::PathBuf;

use common::{assert_object_error, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    drift_events_go_with_their_change,
    update_triggers_see_the_updated_record,
    create_triggers_may_read_the_caller
);

const API: &str = "/clouddrift/api/v1";

/// The outbox of `app`, oldest first: (topic, collection, record id).
async fn outbox(app: &TestApp, name: &str) -> Vec<(String, String, String)> {
    let svc = app.service(name);
    let coll = svc.any_collection("_plinth_outbox").expect("outbox");
    let query = [("sort".to_owned(), "created_at".to_owned())];
    let page = svc
        .list(&svc.system_ctx(), coll, &query)
        .await
        .expect("outbox entries");
    page.items
        .iter()
        .map(|r| {
            let v = serde_json::to_value(r).expect("json");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("topic"), s("collection"), s("record_id"))
        })
        .collect()
}

fn event(topic: &str, coll: &str, id: &str) -> (String, String, String) {
    (topic.to_owned(), coll.to_owned(), id.to_owned())
}

async fn drift_events_go_with_their_change(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (_, emma) = app
        .user_token(
            "clouddrift",
            "emma@example.com",
            "engineer",
            json!({"name": "Emma"}),
        )
        .await;
    let post = |severity: &'static str, resource: &'static str| {
        let body = json!({"title": "Drift", "resource_id": resource, "resource_type": "t", "severity": severity});
        let (app, scanner) = (&app, &scanner);
        async move {
            app.send(
                Method::POST,
                &format!("{API}/drifts"),
                Some(scanner),
                Some(body),
            )
            .await
        }
    };
    let critical = post("critical", "r-1").await;
    assert_eq!(critical.status, 201, "{}", critical.body);
    let c = critical.body["data"]["id"].as_str().expect("id").to_owned();
    let warning = post("warning", "r-2").await;
    let w = warning.body["data"]["id"].as_str().expect("id").to_owned();
    // A repeat within the dedupe window changes nothing, so announces nothing.
    assert_eq!(post("critical", "r-1").await.status, 200);
    let view = app
        .send(Method::GET, &format!("{API}/drifts/{c}"), Some(&emma), None)
        .await;
    let alert = view.body["data"]["alerts"][0]["id"]
        .as_str()
        .expect("alert")
        .to_owned();
    let act = |id: String, name: &'static str| {
        let (app, emma) = (&app, &emma);
        async move {
            let path = format!("{API}/drifts/{id}/{name}");
            let body = json!({"review_comment": "checked"});
            app.send(Method::POST, &path, Some(emma), Some(body)).await
        }
    };
    assert_eq!(act(c.clone(), "approve").await.status, 200);
    assert_object_error(&act(c.clone(), "reject").await, 409, "CONFLICT");
    assert_eq!(act(w.clone(), "reject").await.status, 200);
    assert_eq!(
        outbox(&app, "clouddrift").await,
        [
            event("drift:created", "drifts", &c),
            event("alert:created", "alerts", &alert),
            event("drift:created", "drifts", &w),
            event("drift:approved", "drifts", &c),
            event("drift:rejected", "drifts", &w),
        ]
    );
    app.stop().await;
}

async fn update_triggers_see_the_updated_record(env: TestEnv) {
    let manifest = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trigger_app.yaml"
    ));
    let app = env
        .start(&env.config(&[("shop", Some(manifest))]))
        .await
        .expect("starts");
    let order = app.post("/shop/orders", json!({"title": "one"})).await;
    assert_eq!(order.status, 201, "{}", order.body);
    let id = order.body["data"]["id"].as_str().expect("id").to_owned();
    // Still open: the trigger's `when` does not hold, nothing is written.
    let r = app
        .patch(
            &format!("/shop/orders/{id}"),
            json!({"title": "one, gift-wrapped"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let notes = app.get("/shop/notes").await;
    assert_eq!(notes.body["meta"]["total"], 0, "{}", notes.body);
    assert!(outbox(&app, "shop").await.is_empty());
    // Shipped (with a new title in the same change): the note reads the updated record.
    let r = app
        .patch(
            &format!("/shop/orders/{id}"),
            json!({"status": "shipped", "title": "one, shipped"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let notes = app.get("/shop/notes").await;
    assert_eq!(notes.body["meta"]["total"], 1, "{}", notes.body);
    let note: &Value = &notes.body["data"][0];
    assert_eq!(note["text"], "one, shipped");
    assert_eq!(note["order_id"], id.as_str());
    let note_id = note["id"].as_str().expect("note id");
    assert_eq!(
        outbox(&app, "shop").await,
        [event("order:shipped", "notes", note_id)]
    );
    // A refused update (bad value) runs no trigger.
    let bad = app
        .patch(&format!("/shop/orders/{id}"), json!({"status": "lost"}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(outbox(&app, "shop").await.len(), 1);
    app.stop().await;
}

async fn create_triggers_may_read_the_caller(env: TestEnv) {
    let manifest = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trigger_app.yaml"
    ));
    let mut app = env
        .start(&env.config(&[("shop", Some(manifest))]))
        .await
        .expect("starts");
    // Anonymous: `@auth.role` is absent, the `when` does not hold; nor for a MEMBER.
    let r = app.post("/shop/tickets", json!({"title": "printer"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, member) = app
        .user_token("shop", "m@example.com", "MEMBER", json!({}))
        .await;
    app.act_as("shop", &member);
    let r = app.post("/shop/tickets", json!({"title": "screen"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(outbox(&app, "shop").await.is_empty());
    let (_, operator) = app
        .user_token("shop", "o@example.com", "OPERATOR", json!({}))
        .await;
    app.act_as("shop", &operator);
    let r = app.post("/shop/tickets", json!({"title": "disk"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["data"]["id"].as_str().expect("id");
    assert_eq!(
        outbox(&app, "shop").await,
        [event("ticket:from_operator", "tickets", id)]
    );
    app.stop().await;
}
