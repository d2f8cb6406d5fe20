//! PostgreSQL: an audited change of one record (an audit snapshot, then the update) runs as
//! one statement (store's `pg_merge`). These check what that statement must keep from the
//! two it replaces when another session changes the record at the same time: the entry's
//! "before" is the version the change replaced, and a change that misses writes no entry.

mod common;

use common::Fresh;
use plinth_core::{AppService, CoreError};
use serde_json::{json, Value as J};

const MANIFEST: &str = r#"
name: units
collections:
  drifts:
    fields:
      title: { type: text, required: true }
      note: { type: text }
      status: { type: enum, values: [pending, approved, rejected], required: true, default: pending }
    audit:
      collection: audit_logs
      fields: { drift_id: '@id', action: '@action', details: '@changes' }
    transitions:
      approve:
        from: [pending]
        to: approved
        input: [note]
  audit_logs:
    timestamps: created
    append_only: true
    fields:
      drift_id: { type: relation, collection: drifts, on_delete: set_null }
      action: { type: text, required: true }
      details: { type: json }
"#;

/// A pending drift noted "first"; its id.
async fn drift(app: &AppService) -> String {
    let drifts = app.collection("drifts").expect("drifts");
    let rec = app
        .create(
            &app.system_ctx(),
            drifts,
            &json!({"title": "t", "note": "first"}),
        )
        .await
        .expect("create");
    rec.get("id").and_then(J::as_str).expect("id").to_owned()
}

/// The `details` of the drift's audit entries of approvals.
async fn approvals(app: &AppService) -> Vec<J> {
    let logs = app.collection("audit_logs").expect("audit_logs");
    let page = app.list(&app.system_ctx(), logs, &[]).await.expect("list");
    page.items
        .iter()
        .filter(|r| r.get("action").and_then(J::as_str) == Some("approve"))
        .map(|r| r.get("details").cloned().unwrap_or(J::Null))
        .collect()
}

/// Approve the drift while another session holds an uncommitted `change` of it; the other
/// session commits once the approve waits for its lock. The approve's result.
async fn approve_behind(
    fresh: &Fresh,
    app: &AppService,
    id: &str,
    change: &str,
) -> Result<(), CoreError> {
    let (other, schema) = fresh.session().await.expect("postgres");
    other
        .batch_execute(&format!(
            "BEGIN; UPDATE \"{schema}\".drifts SET {change} WHERE id = '{id}'"
        ))
        .await
        .expect("other change");
    let drifts = app.collection("drifts").expect("drifts");
    let ctx = app.system_ctx();
    let body = json!({"note": "approved"});
    let approve = app.transition(&ctx, drifts, id, "approve", &body);
    let commit = async {
        // The approve has read the row's old version and waits for the other's lock.
        let waiting = "SELECT count(*) FROM pg_stat_activity \
                       WHERE wait_event_type = 'Lock' AND query LIKE '%plinth_old%'";
        for _ in 0..1000 {
            let n: i64 = other
                .query_one(waiting, &[])
                .await
                .expect("activity")
                .get(0);
            if n > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        other.batch_execute("COMMIT").await.expect("commit");
    };
    let (approved, ()) = tokio::join!(approve, commit);
    approved.map(|_| ())
}

#[tokio::test]
async fn the_entry_holds_the_version_the_change_replaced_postgres() {
    let Some(fresh) = Fresh::new(true) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let id = drift(&app).await;
    approve_behind(&fresh, &app, &id, "note = 'edited'")
        .await
        .expect("approve");
    let entries = approvals(&app).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let before = &entries[0]["before"];
    assert_eq!(before["note"], "edited", "{entries:?}");
    assert_eq!(before["status"], "pending", "{entries:?}");
    assert_eq!(entries[0]["after"]["note"], "approved", "{entries:?}");
    assert_eq!(entries[0]["after"]["status"], "approved", "{entries:?}");
    fresh.drop_schema().await;
}

#[tokio::test]
async fn a_change_that_lost_the_race_writes_no_entry_postgres() {
    let Some(fresh) = Fresh::new(true) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let id = drift(&app).await;
    let lost = approve_behind(&fresh, &app, &id, "status = 'rejected'").await;
    assert!(matches!(lost, Err(CoreError::Conflict(_))), "{lost:?}");
    assert_eq!(approvals(&app).await, Vec::<J>::new());
    let drifts = app.collection("drifts").expect("drifts");
    let rec = app
        .view(&app.system_ctx(), drifts, &id, &[])
        .await
        .expect("view");
    assert_eq!(rec.get("status").and_then(J::as_str), Some("rejected"));
    assert_eq!(rec.get("note").and_then(J::as_str), Some("first"));
    fresh.drop_schema().await;
}
