//! Audit trails (`audit:`) and append-only collections, through CloudDrift's drifts and
//! `audit_logs`: every change through the API writes its entry in the same unit, with the
//! values before (read inside the unit) and after; refused changes write none; entries
//! cannot be changed or deleted. And a failing create trigger rolls the whole create back.
//! On both databases.

mod common;

use std::path::PathBuf;

use common::{assert_object_error, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(
    every_drift_change_is_audited,
    a_failing_trigger_rolls_back_the_create
);

const API: &str = "/clouddrift/api/v1";

/// The audit entries of drift `id`, oldest first, as an engineer reads them.
async fn entries(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let r = app
        .send(
            Method::GET,
            &format!("{API}/audit_logs?entity_id={id}&sort=created_at"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"].as_array().expect("entries").clone()
}

async fn every_drift_change_is_audited(env: TestEnv) {
    let app = env.spawn(&["clouddrift"]).await;
    let scanner = app.service_token("clouddrift", "SERVICE").await;
    let (emma_id, emma) = app
        .user_token(
            "clouddrift",
            "emma@example.com",
            "engineer",
            json!({"name": "Emma"}),
        )
        .await;
    let (_, admin) = app
        .user_token(
            "clouddrift",
            "ada@example.com",
            "admin",
            json!({"name": "Ada"}),
        )
        .await;
    let body = json!({"title": "Open port", "resource_id": "sg-1", "resource_type": "aws_security_group", "severity": "warning"});
    let d = app
        .send(
            Method::POST,
            &format!("{API}/drifts"),
            Some(&scanner),
            Some(body),
        )
        .await;
    assert_eq!(d.status, 201, "{}", d.body);
    let id = d.body["data"]["id"].as_str().expect("id").to_owned();

    let created = entries(&app, &emma, &id).await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["action"], "create");
    assert_eq!(created[0]["drift_id"], id.as_str());
    assert_eq!(
        created[0]["user_id"],
        Value::Null,
        "a service token is no user"
    );
    assert_eq!(created[0]["details"]["before"], Value::Null);
    assert_eq!(created[0]["details"]["after"]["title"], "Open port");

    // An edit records the old and new values of the fields it sets, and who made it.
    let edit = app
        .send(
            Method::PATCH,
            &format!("{API}/drifts/{id}"),
            Some(&emma),
            Some(json!({"title": "Port 22 open to the world"})),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    let approve = app
        .send(
            Method::POST,
            &format!("{API}/drifts/{id}/approve"),
            Some(&emma),
            Some(json!({"review_comment": "temporary"})),
        )
        .await;
    assert_eq!(approve.status, 200, "{}", approve.body);
    // A refused transition (already approved) writes nothing.
    let again = app
        .send(
            Method::POST,
            &format!("{API}/drifts/{id}/approve"),
            Some(&emma),
            None,
        )
        .await;
    assert_object_error(&again, 409, "CONFLICT");
    // A second edit of the same shape (its statement's text is built once and kept): its
    // own values, before and after.
    let edit = app
        .send(
            Method::PATCH,
            &format!("{API}/drifts/{id}"),
            Some(&emma),
            Some(json!({"title": "Port 22 closed"})),
        )
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    let all = entries(&app, &emma, &id).await;
    let actions: Vec<&str> = all.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["create", "update", "approve", "update"],
        "{all:?}"
    );
    assert_eq!(
        all[3]["details"],
        json!({"before": {"title": "Port 22 open to the world"}, "after": {"title": "Port 22 closed"}})
    );
    assert_eq!(all[3]["user_id"], emma_id.as_str());
    let (update, approved) = (&all[1], &all[2]);
    assert_eq!(update["user_id"], emma_id.as_str());
    assert_eq!(
        update["details"],
        json!({"before": {"title": "Open port"}, "after": {"title": "Port 22 open to the world"}})
    );
    assert_eq!(
        approved["details"]["before"]["status"], "pending",
        "{approved}"
    );
    assert_eq!(approved["details"]["before"]["review_comment"], Value::Null);
    assert_eq!(approved["details"]["after"]["status"], "approved");
    assert_eq!(approved["details"]["after"]["review_comment"], "temporary");
    assert_eq!(
        approved["details"]["after"]["reviewed_by"],
        emma_id.as_str()
    );

    // Append-only: not even an admin changes or deletes an entry through the API.
    let entry = format!("{API}/audit_logs/{}", update["id"].as_str().expect("id"));
    let change = app
        .send(
            Method::PATCH,
            &entry,
            Some(&admin),
            Some(json!({"action": "nothing"})),
        )
        .await;
    assert_object_error(&change, 405, "METHOD_NOT_ALLOWED");
    let gone = app.send(Method::DELETE, &entry, Some(&admin), None).await;
    assert_object_error(&gone, 405, "METHOD_NOT_ALLOWED");
    let kept = app.send(Method::GET, &entry, Some(&emma), None).await;
    assert_eq!(kept.body["data"]["action"], "update", "{}", kept.body);

    // A delete records every field as it was; the entry outlives the drift.
    let del = app
        .send(
            Method::DELETE,
            &format!("{API}/drifts/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(del.status, 204, "{}", del.body);
    let all = entries(&app, &emma, &id).await;
    let last = all.last().expect("the delete's entry");
    assert_eq!(last["action"], "delete", "{all:?}");
    assert_eq!(
        last["drift_id"],
        Value::Null,
        "the reference is cleared, the entry kept"
    );
    assert_eq!(last["details"]["before"]["title"], "Port 22 closed");
    assert_eq!(last["details"]["before"]["status"], "approved");
    assert_eq!(last["details"]["after"], Value::Null);
    app.stop().await;
}

async fn a_failing_trigger_rolls_back_the_create(env: TestEnv) {
    let manifest = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trigger_app.yaml"
    ));
    let app = env
        .start(&env.config(&[("shop", Some(manifest))]))
        .await
        .expect("starts");
    let first = app.post("/shop/orders", json!({"title": "one"})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    // The second order's trigger inserts a second mark `first`: a unique clash.
    let second = app.post("/shop/orders", json!({"title": "two"})).await;
    assert_eq!(second.status, 409, "{}", second.body);
    let orders = app.get("/shop/orders").await;
    assert_eq!(
        orders.body["meta"]["total"], 1,
        "the order is gone with its trigger"
    );
    let log = app.get("/shop/order_log").await;
    assert_eq!(
        log.body["meta"]["total"], 1,
        "and its audit entry: {}",
        log.body
    );
    assert_eq!(log.body["data"][0]["order_id"], first.body["data"]["id"]);
    app.stop().await;
}
