//! The one write path, on both databases: a unit commits whole or not at all, and a step
//! expected to touch one row fails the unit when it touches none.

mod common;

use common::Fresh;
use plinth_core::{AppService, CoreError};
use plinth_records::{Row, Value};
use plinth_store::{Miss, Step, StoreError, WriteUnit};
use uuid::Uuid;

const MANIFEST: &str = "name: units\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true, unique: true }\n";

fn row(title: &str) -> Row {
    vec![("title".to_owned(), Value::Text(title.to_owned()))]
}

/// The insert of an item titled `title`.
fn insert(app: &AppService, title: &str) -> Step {
    let items = app.collection("items").expect("items");
    let now = app.system_ctx().now;
    let step = app
        .store()
        .insert_step(&items.table, Uuid::now_v7(), &row(title), now);
    step.expect("step")
}

async fn titles(app: &AppService) -> Vec<String> {
    let items = app.collection("items").expect("items");
    let page = app
        .list(&app.system_ctx(), items, &[("sort".into(), "title".into())])
        .await
        .expect("list");
    page.items
        .iter()
        .filter_map(|r| r.get("title").and_then(|v| v.as_str()).map(str::to_owned))
        .collect()
}

async fn a_failing_third_step_leaves_nothing(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let (ctx, store) = (app.system_ctx(), app.store());
    let step = |t: &str| insert(&app, t);
    store
        .apply(&ctx, {
            let mut u = WriteUnit::new();
            u.push(step("kept"));
            u
        })
        .await
        .expect("first unit");

    // Third step violates the unique title: the first two must not survive.
    let mut unit = WriteUnit::new();
    unit.push(step("a"));
    unit.push(step("b"));
    unit.push(step("kept"));
    let err = store.apply(&ctx, unit).await.expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(titles(&app).await, vec!["kept"]);

    // Third step expects one row and finds none (an update of a missing record).
    let mut unit = WriteUnit::new();
    unit.push(step("c"));
    unit.push(step("d"));
    let items = app.collection("items").expect("items");
    unit.push(store.update_step(&items.table, Uuid::now_v7(), &row("e"), ctx.now));
    let err = store.apply(&ctx, unit).await.expect_err("missing");
    assert!(
        matches!(err, StoreError::Expectation(Miss::NotFound)),
        "{err:?}"
    );
    assert!(matches!(CoreError::from(err), CoreError::NotFound(_)));
    assert_eq!(titles(&app).await, vec!["kept"]);

    // The same three steps, all valid, commit together.
    let mut unit = WriteUnit::new();
    unit.push(step("x"));
    unit.push(step("y"));
    unit.push(step("z"));
    let outs = store.apply(&ctx, unit).await.expect("valid unit");
    assert_eq!(outs.len(), 3);
    assert_eq!(titles(&app).await, vec!["kept", "x", "y", "z"]);
    fresh.drop_schema().await;
}

#[tokio::test]
async fn a_failing_third_step_leaves_nothing_sqlite() {
    a_failing_third_step_leaves_nothing(false).await;
}

#[tokio::test]
async fn a_failing_third_step_leaves_nothing_postgres() {
    a_failing_third_step_leaves_nothing(true).await;
}

/// Inserts made on the side of another (a trigger's log, an audit entry; on PostgreSQL
/// they share its statement) commit with it or fail with it.
async fn side_inserts_commit_or_fail_with_their_unit(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let (ctx, store) = (app.system_ctx(), app.store());
    let step = |t: &str| insert(&app, t);
    let mut unit = WriteUnit::new();
    unit.push(step("kept"));
    store.apply(&ctx, unit).await.expect("first unit");

    // The second side insert repeats a unique title: the main insert and the first side
    // insert go too.
    let mut unit = WriteUnit::new();
    unit.push(step("main"));
    unit.push(step("side").quiet());
    unit.push(step("kept").quiet());
    let err = store.apply(&ctx, unit).await.expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(titles(&app).await, vec!["kept"]);

    // Valid: one output per step, the main insert's row read back.
    let mut unit = WriteUnit::new();
    unit.push(step("main"));
    unit.push(step("side 1").quiet());
    unit.push(step("side 2").quiet());
    let outs = store.apply(&ctx, unit).await.expect("valid unit");
    let rows: Vec<u64> = outs.iter().map(plinth_store::StepOut::rows).collect();
    assert_eq!(rows, [1, 1, 1]);
    let main = outs.into_iter().next().and_then(|o| o.into_record());
    let title = main.as_ref().and_then(|r| r.get("title"));
    assert_eq!(title, Some(&serde_json::json!("main")));
    assert_eq!(titles(&app).await, vec!["kept", "main", "side 1", "side 2"]);
    fresh.drop_schema().await;
}

#[tokio::test]
async fn side_inserts_commit_or_fail_with_their_unit_sqlite() {
    side_inserts_commit_or_fail_with_their_unit(false).await;
}

#[tokio::test]
async fn side_inserts_commit_or_fail_with_their_unit_postgres() {
    side_inserts_commit_or_fail_with_their_unit(true).await;
}

/// PostgreSQL: a unit whose caller goes away while a statement waits (its future dropped,
/// as when an HTTP client disconnects) is rolled back; its connection is not left inside
/// the transaction, holding what it wrote and locked.
#[tokio::test]
async fn a_unit_dropped_mid_way_is_rolled_back_postgres() {
    let Some(fresh) = Fresh::new(true) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let (other, schema) = fresh.session().await.expect("postgres");
    // Another session inserts "second" and does not commit yet, so the unit's insert of the
    // same unique title waits for it, inside the unit's transaction.
    other
        .batch_execute(&format!(
            "BEGIN; INSERT INTO \"{schema}\".items (id, title, created_at, updated_at) \
             VALUES (gen_random_uuid(), 'second', now(), now())"
        ))
        .await
        .expect("insert");
    let mut unit = WriteUnit::new();
    unit.push(insert(&app, "first"));
    unit.push(insert(&app, "second"));
    let waited = std::time::Duration::from_millis(200);
    let ctx = app.system_ctx();
    let gone = tokio::time::timeout(waited, app.store().apply(&ctx, unit)).await;
    assert!(gone.is_err(), "the unit waited: {gone:?}");
    other.batch_execute("ROLLBACK").await.expect("unlock");
    // The unit's insert now runs; the rollback queued behind it must end its transaction,
    // or a pooled connection keeps its rows and their locks.
    let lock =
        format!("BEGIN; LOCK TABLE \"{schema}\".items IN ACCESS EXCLUSIVE MODE NOWAIT; ROLLBACK");
    let mut free = false;
    for _ in 0..500 {
        if other.batch_execute(&lock).await.is_ok() {
            free = true;
            break;
        }
        other.batch_execute("ROLLBACK").await.expect("reset");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(free, "the dropped unit's transaction still holds its locks");
    assert_eq!(titles(&app).await, Vec::<String>::new());
    fresh.drop_schema().await;
}

async fn system_collections_are_migrated_and_written_alike(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let ctx = app.system_ctx();
    assert!(
        app.collection("_plinth_jobs").is_none(),
        "not served by the API"
    );
    let jobs = app.any_collection("_plinth_jobs").expect("jobs table");
    let job = app
        .create(
            &ctx,
            jobs,
            &serde_json::json!({"kind": "generate", "run_at": "2026-11-23T10:00:00Z", "params": {"rows": 10}}),
        )
        .await
        .expect("job stored");
    assert_eq!(job.get("status"), Some(&serde_json::json!("pending")));
    assert_eq!(job.get("attempts"), Some(&serde_json::json!(0)));
    // The app declares no users: the system one exists, with its hidden password hash.
    let users = app.any_collection("users").expect("users");
    let user = app
        .create(&ctx, users, &serde_json::json!({"email": "a@b.co"}))
        .await
        .expect("user");
    assert!(user.get("password_hash").is_some() && user.to_json().get("password_hash").is_none());
    let status = app.migration_status(&ctx).await.expect("status");
    assert!(
        status.pending_changes.is_empty(),
        "{:?}",
        status.pending_changes
    );
    fresh.drop_schema().await;
}

#[tokio::test]
async fn system_collections_are_migrated_and_written_alike_sqlite() {
    system_collections_are_migrated_and_written_alike(false).await;
}

#[tokio::test]
async fn system_collections_are_migrated_and_written_alike_postgres() {
    system_collections_are_migrated_and_written_alike(true).await;
}

async fn demo_data_is_all_or_nothing(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await;
    let ctx = app.system_ctx();
    // The third record repeats a unique title: the database refuses it inside the unit,
    // so the two before it must not be left behind either.
    let bad = "items:\n  - { title: one }\n  - { title: two }\n  - { title: one }\n";
    let err = app
        .load_demo_if_empty(&ctx, bad)
        .await
        .expect_err("duplicate");
    assert!(
        matches!(
            err,
            plinth_core::DemoError::Core(CoreError::Store(StoreError::Conflict { .. }))
        ),
        "{err:?}"
    );
    assert!(titles(&app).await.is_empty());
    let good = "items:\n  - { title: one }\n  - { title: two }\n";
    assert_eq!(app.load_demo_if_empty(&ctx, good).await.expect("loads"), 2);
    assert_eq!(
        app.load_demo_if_empty(&ctx, good).await.expect("skips"),
        0,
        "only into empty apps"
    );
    assert_eq!(titles(&app).await, vec!["one", "two"]);
    fresh.drop_schema().await;
}

#[tokio::test]
async fn demo_data_is_all_or_nothing_sqlite() {
    demo_data_is_all_or_nothing(false).await;
}

#[tokio::test]
async fn demo_data_is_all_or_nothing_postgres() {
    demo_data_is_all_or_nothing(true).await;
}

async fn rate_limit_counters_are_one_upsert(postgres: bool) {
    use plinth_core::{Group, Limit, Limits};
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let app = fresh.app(MANIFEST).await.with_rate_limits(Limits {
        auth: Some(Limit {
            max: 2,
            window_secs: 60,
        }),
        api: None,
    });
    let mut ctx = app.system_ctx();
    ctx.caller = plinth_core::Caller::Anonymous;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("time")
            .to_utc()
    };
    ctx.now = at("2026-01-01T10:00:05Z");
    let hit = |ctx: plinth_core::Ctx, who: &'static str| {
        let app = &app;
        async move { app.count_request(&ctx, Group::Auth, who).await }
    };
    hit(ctx.clone(), "10.0.0.1").await.expect("first");
    hit(ctx.clone(), "10.0.0.1").await.expect("second");
    let err = hit(ctx.clone(), "10.0.0.1").await.expect_err("third");
    assert!(
        matches!(
            err,
            CoreError::RateLimited {
                retry_after_secs: 55
            }
        ),
        "{err:?}"
    );
    hit(ctx.clone(), "10.0.0.2").await.expect("another client");
    // The next window reuses the row and starts again at one.
    ctx.now = at("2026-01-01T10:01:00Z");
    hit(ctx.clone(), "10.0.0.1").await.expect("new window");
    hit(ctx.clone(), "10.0.0.1")
        .await
        .expect("new window, second");
    assert!(hit(ctx.clone(), "10.0.0.1").await.is_err());
    // No limit on the group: nothing is counted.
    app.count_request(&ctx, Group::Api, "10.0.0.1")
        .await
        .expect("unlimited");
    let counters = app.any_collection("_plinth_rate_limits").expect("table");
    let page = app
        .list(&app.system_ctx(), counters, &[])
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2, "one row per key: {:?}", page.items);
    assert!(
        app.collection("_plinth_rate_limits").is_none(),
        "not served"
    );
    fresh.drop_schema().await;
}

#[tokio::test]
async fn rate_limit_counters_are_one_upsert_sqlite() {
    rate_limit_counters_are_one_upsert(false).await;
}

#[tokio::test]
async fn rate_limit_counters_are_one_upsert_postgres() {
    rate_limit_counters_are_one_upsert(true).await;
}
