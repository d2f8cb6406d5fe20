//! Migrations on both databases: data survives restarts, additive manifest changes migrate
//! in place, destructive ones are refused until a hand-written migration is given, and
//! `down` rolls back.

mod common;

use std::path::Path;

use common::TestEnv;
use plinth::apps::resolve;
use plinth::serve::open_app;
use serde_json::json;

both!(manifest_changes_migrate_without_loss);

const V1: &str = "name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true }\n    rules: { list: '', view: '', create: '', update: '', delete: '' }\n";
const V2: &str = "name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true }\n      price: { type: float }\n      sku: { type: text, unique: true }\n    indexes:\n      - fields: [title]\n    rules: { list: '', view: '', create: '', update: '', delete: '' }\n";
const V3: &str = "name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true }\n      sku: { type: text, unique: true }\n    indexes:\n      - fields: [title]\n    rules: { list: '', view: '', create: '', update: '', delete: '' }\n";
const V2_REQUIRED: &str = "name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true }\n      price: { type: float }\n      sku: { type: text, unique: true }\n      owner: { type: text, required: true }\n    indexes:\n      - fields: [title]\n    rules: { list: '', view: '', create: '', update: '', delete: '' }\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

async fn manifest_changes_migrate_without_loss(env: TestEnv) {
    let manifest = env.dir.path().join("shop/app.yaml");
    let config = env.config(&[("shop", Some(manifest.clone()))]);

    write(&manifest, V1);
    let app = env.start(&config).await.expect("v1 starts");
    let created = app.post("/shop/api/items", json!({"title": "lamp"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["data"]["id"].as_str().expect("id").to_owned();
    app.stop().await;

    // Restart on the same manifest: data kept, nothing to migrate.
    let app = env.start(&config).await.expect("v1 restarts");
    assert_eq!(
        app.get(&format!("/shop/api/items/{id}")).await.body["data"]["title"],
        "lamp"
    );
    app.stop().await;

    // Additive change: new fields and indexes, existing rows kept.
    write(&manifest, V2);
    let app = env.start(&config).await.expect("v2 migrates");
    let old = app.get(&format!("/shop/api/items/{id}")).await;
    assert_eq!(old.body["data"]["title"], "lamp");
    assert_eq!(old.body["data"]["price"], json!(null));
    let new = app
        .post(
            "/shop/api/items",
            json!({"title": "desk", "price": 99.5, "sku": "D-1"}),
        )
        .await;
    assert_eq!(new.status, 201, "{}", new.body);
    assert_eq!(new.body["data"]["price"], 99.5);
    let dup = app
        .post("/shop/api/items", json!({"title": "desk 2", "sku": "D-1"}))
        .await;
    assert_eq!(dup.status, 409, "unique index created: {}", dup.body);
    app.stop().await;

    let spec = resolve(&config).expect("resolve").remove(0);
    let opened = open_app(&spec).await.expect("open");
    let status = opened
        .migration_status(&opened.system_ctx())
        .await
        .expect("status");
    assert_eq!(status.applied.len(), 2, "{status:?}");
    assert!(status.pending_changes.is_empty() && status.destructive.is_empty());

    // A new required field without a default cannot fill existing rows: refused.
    write(&manifest, V2_REQUIRED);
    let err = env.start(&config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("items.owner"), "{err:#}");

    // Dropping a field is destructive: refused with a clear message, data untouched.
    write(&manifest, V3);
    let err = env
        .start(&config)
        .await
        .err()
        .expect("destructive change refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("destructive") && msg.contains("items.price"),
        "{msg}"
    );

    // A hand-written migration makes it go through.
    let dir = env.dir.path().join("shop/migrations");
    write(
        &dir.join("0001_drop_price.sql"),
        "ALTER TABLE items DROP COLUMN price;\n",
    );
    write(
        &dir.join("0001_drop_price.down.sql"),
        "ALTER TABLE items ADD COLUMN price DOUBLE PRECISION;\n",
    );
    let app = env
        .start(&config)
        .await
        .expect("v3 with explicit migration");
    let rec = app.get(&format!("/shop/api/items/{id}")).await;
    assert_eq!(rec.body["data"]["title"], "lamp");
    assert!(rec.body["data"].get("price").is_none());
    app.stop().await;

    // Down rolls back the last migration, and it is pending again.
    let store = open_app(&resolve(&config).expect("resolve").remove(0))
        .await
        .expect("open");
    let rolled = store.migrate_down(&store.system_ctx()).await.expect("down");
    assert!(rolled.contains("0001_drop_price"), "{rolled}");
    let status = store
        .migration_status(&store.system_ctx())
        .await
        .expect("status");
    assert_eq!(status.pending_files, vec!["0001_drop_price".to_owned()]);
    assert_eq!(
        store
            .migrate_up(&store.system_ctx())
            .await
            .expect("up again"),
        vec!["0001_drop_price".to_owned()]
    );
    store
        .migrate_down(&store.system_ctx())
        .await
        .expect("down explicit");
    let rolled = store
        .migrate_down(&store.system_ctx())
        .await
        .expect("down auto");
    assert!(rolled.contains("auto"), "{rolled}");
    assert_eq!(
        store
            .migration_status(&store.system_ctx())
            .await
            .expect("status")
            .applied
            .len(),
        1
    );
}
