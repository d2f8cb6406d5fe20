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
