//! Enum fields are checked by the database itself on both backends: raw SQL cannot store
//! a value outside the field's `values`, the API still answers 400 for one, and the
//! check follows the manifest through migrations (a new value, a narrowing that rows
//! contradict, `down`, and a hand-written migration dropping an enum column).

mod common;

use std::path::Path;

use common::{Backend, TestEnv};
use plinth::apps::resolve;
use plinth::serve::open_app;
use serde_json::json;

both!(enum_values_are_checked_by_the_database);

const RULES: &str = "    rules: { list: '', view: '', create: '', update: '', delete: '' }\n";

fn manifest(kinds: &str, note: bool) -> String {
    let note = if note {
        "      note: { type: enum, values: [x, \"it's\"] }\n"
    } else {
        ""
    };
    format!("name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: {{ type: text, required: true }}\n      kind: {{ type: enum, values: [{kinds}], required: true, default: a }}\n{note}{RULES}")
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Run `sql` straight on the app's database, as another tool would; the database's
/// error message on failure.
async fn raw(env: &TestEnv, sql: &str) -> Result<(), String> {
    match env.backend {
        Backend::Sqlite => {
            let path = env.dir.path().join("data/shop.db");
            let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
            plinth_store::no_checkpoint_on_close(&c).map_err(|e| e.to_string())?;
            c.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            c.execute_batch(sql).map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let (url, schema) = env.pg_schema("shop").expect("postgres env");
            common::admin(&url)
                .await
                .batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}"))
                .await
                .map_err(|e| format!("{e:?}"))
        }
    }
}

fn insert(kind: &str) -> String {
    let id = uuid::Uuid::now_v7();
    let at = "2024-01-01T00:00:00Z";
    format!("INSERT INTO items (id, title, kind, created_at, updated_at) VALUES ('{id}', 'raw', '{kind}', '{at}', '{at}')")
}

async fn enum_values_are_checked_by_the_database(env: TestEnv) {
    let path = env.dir.path().join("shop/app.yaml");
    let config = env.config(&[("shop", Some(path.clone()))]);

    write(&path, &manifest("a, b", true));
    let app = env.start(&config).await.expect("v1 starts");
    let bad = app
        .post("/shop/api/items", json!({"title": "t", "kind": "z"}))
        .await;
    assert_eq!(bad.status, 400, "the API refuses first: {}", bad.body);
    let ok = app
        .post("/shop/api/items", json!({"title": "t", "note": "it's"}))
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let id = ok.body["data"]["id"].as_str().expect("id");
    let bad = app
        .patch(&format!("/shop/api/items/{id}"), json!({"note": "y"}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    app.stop().await;

    let refused = raw(&env, &insert("z")).await.expect_err("database refuses");
    assert!(refused.contains("ck_items__kind"), "{refused}");
    let refused = raw(&env, "UPDATE items SET kind = 'z'")
        .await
        .expect_err("updates too");
    assert!(refused.contains("ck_items__kind"), "{refused}");
    raw(&env, "UPDATE items SET note = 'y'")
        .await
        .expect_err("an optional enum too");
    // An allowed value and a NULL optional enum go in.
    raw(&env, &insert("b")).await.expect("allowed value");

    // A new value: the check is replaced in place, on both databases.
    write(&path, &manifest("a, b, c", true));
    let app = env.start(&config).await.expect("v2 migrates");
    let c = app
        .post("/shop/api/items", json!({"title": "t", "kind": "c"}))
        .await;
    assert_eq!(c.status, 201, "{}", c.body);
    app.stop().await;
    raw(&env, &insert("c")).await.expect("new value allowed");
    raw(&env, &insert("z"))
        .await
        .expect_err("others still refused");

    // Taking `c` away again while rows hold it: the database refuses the migration.
    write(&path, &manifest("a, b", true));
    let err = env.start(&config).await.err().expect("rows contradict");
    assert!(format!("{err:#}").contains("ck_items__kind"), "{err:#}");

    // `down` restores the old check once no row needs the new value.
    raw(&env, "DELETE FROM items WHERE kind = 'c'")
        .await
        .expect("delete");
    let store = open_app(&resolve(&config).expect("resolve").remove(0))
        .await
        .expect("open");
    store.migrate_down(&store.system_ctx()).await.expect("down");
    drop(store);
    raw(&env, &insert("c")).await.expect_err("old check back");

    // Dropping an enum field needs a hand-written migration; its check steps aside.
    write(&path, &manifest("a, b, c", false));
    write(
        &env.dir.path().join("shop/migrations/0001_drop_note.sql"),
        "ALTER TABLE items DROP COLUMN note;\n",
    );
    let app = env
        .start(&config)
        .await
        .expect("v3 with explicit migration");
    app.stop().await;
    raw(&env, &insert("c")).await.expect("checks re-created");
    raw(&env, &insert("z"))
        .await
        .expect_err("and still checking");
}
