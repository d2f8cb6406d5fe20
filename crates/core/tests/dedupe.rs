//! De-duplicated creates whose keys may be null, on both databases: null matches null only,
//! and a check built for one pattern of null keys is never reused for another (the store
//! keeps each check's SQL by its keys and which of them are null).

mod common;

use common::Fresh;
use plinth_core::{AppService, Created};
use serde_json::{json, Value as J};

const MANIFEST: &str = "name: units
collections:
  reports:
    fields:
      resource: { type: text, required: true }
      region: { type: text }
    dedupe:
      keys: [resource, region]
      window: 24h
";

/// Create `body`; the id and whether it was new.
async fn create(app: &AppService, body: J) -> (String, bool) {
    let reports = app.collection("reports").expect("reports");
    let created = app
        .insert(&app.system_ctx(), reports, &body)
        .await
        .expect("create");
    let (rec, new) = match created {
        Created::New(r) => (r, true),
        Created::Existing(r) => (r, false),
    };
    (rec.id().expect("id").to_owned(), new)
}

async fn null_keys_match_null_only(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let (no_region, new) = create(&app, json!({"resource": "r1"})).await;
    assert!(new);
    let (eu, new) = create(&app, json!({"resource": "r1", "region": "eu"})).await;
    assert!(new, "a region is not the same key as no region");
    assert_ne!(eu, no_region);
    // Each pattern again, in the other order: each finds its own record.
    assert_eq!(
        create(&app, json!({"resource": "r1", "region": "eu"})).await,
        (eu.clone(), false)
    );
    assert_eq!(
        create(&app, json!({"resource": "r1"})).await,
        (no_region.clone(), false)
    );
    let (us, new) = create(&app, json!({"resource": "r1", "region": "us"})).await;
    assert!(new && us != eu);
    let (other, new) = create(&app, json!({"resource": "r2"})).await;
    assert!(new && other != no_region);
    fresh.drop_schema().await;
}

#[tokio::test]
async fn null_keys_match_null_only_sqlite() {
    null_keys_match_null_only(false).await;
}

#[tokio::test]
async fn null_keys_match_null_only_postgres() {
    null_keys_match_null_only(true).await;
}

/// PostgreSQL: a create waiting for the lock on its keys sees the equal record committed
/// while it waited, though its statement began before that commit, whichever way it took:
/// the guard function for non-null keys (its own snapshot after the lock) or, with a null
/// key, a lock statement then a check. `waits_in` is what the waiting statement must call.
async fn a_waiting_create_sees_what_committed_meanwhile(region: Option<&str>, waits_in: &str) {
    let Some(fresh) = Fresh::new(true) else {
        return;
    };
    let app = std::sync::Arc::new(fresh.app(MANIFEST).await);
    let (client, schema) = fresh.session().await.expect("a session");
    // A resource of its own: tests running beside this one lock other keys.
    let resource = uuid::Uuid::new_v4().to_string();
    let lock = format!("reports:{}", json!([resource, region]));
    client
        .execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&lock])
        .await
        .expect("lock");
    let body = json!({"resource": resource, "region": region});
    let waiting = {
        let app = app.clone();
        tokio::spawn(async move { create(&app, body).await })
    };
    // The create's statement is waiting on the advisory lock.
    let query = loop {
        let row = client
            .query_opt(
                "SELECT a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'advisory' AND NOT l.granted \
                 AND (l.classid::bigint << 32 | l.objid::bigint) = hashtextextended($1, 0)",
                &[&lock],
            )
            .await
            .expect("activity");
        if let Some(row) = row {
            break row.get::<_, String>(0);
        }
        tokio::task::yield_now().await;
    };
    assert!(query.contains(waits_in), "{query}");
    if waits_in.starts_with("plinth_dedupe_") {
        // A DBA listing the schema's functions can tell what the guard is for.
        let comment: Option<String> = client
            .query_one(
                "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p \
                 JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = $1 AND p.proname LIKE 'plinth_dedupe_%'",
                &[&schema],
            )
            .await
            .expect("the guard's comment")
            .get(0);
        let comment = comment.unwrap_or_default();
        assert!(
            comment.contains("table reports (keys resource, region)"),
            "{comment}"
        );
    }
    let id: uuid::Uuid = client
        .query_one(
            &format!(
                "INSERT INTO \"{schema}\".\"reports\" (id, resource, region, created_at, updated_at) \
                 VALUES (gen_random_uuid(), $1, $2, now(), now()) RETURNING id"
            ),
            &[&resource, &region],
        )
        .await
        .expect("insert")
        .get(0);
    client
        .execute(
            "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
            &[&lock],
        )
        .await
        .expect("unlock");
    let (found, new) = waiting.await.expect("the create");
    assert_eq!((found, new), (id.to_string(), false));
    fresh.drop_schema().await;
}

#[tokio::test]
async fn a_waiting_guarded_create_sees_what_committed_meanwhile_postgres() {
    a_waiting_create_sees_what_committed_meanwhile(Some("eu"), "plinth_dedupe_").await;
}

#[tokio::test]
async fn a_waiting_create_with_a_null_key_sees_what_committed_meanwhile_postgres() {
    a_waiting_create_sees_what_committed_meanwhile(None, "pg_advisory_xact_lock").await;
}
