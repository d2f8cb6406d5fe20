//! `plinth backup` taken while the server keeps writing, and `plinth restore` into a fresh
//! place (a new data folder; on PostgreSQL a new database and another schema name) and
//! over the original, on both databases: every record written before the backup began
//! comes back with identical values, the records written during it come back as a prefix
//! of their write order (one consistent snapshot), and the restored app serves. Restore
//! refuses a damaged backup, a database with data (without `--force`) and a running server
//! before it changes anything.

mod common;

#[path = "backup/support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::TestEnv;
use serde_json::{json, Value};
use support::{backup, entry, id, kill, seeded, sha_hex, Api, FreshDb, Place, APP, FILE_KEY};

both!(
    a_backup_under_writes_restores_every_earlier_record,
    restore_checks_everything_before_it_changes_anything
);

async fn a_backup_under_writes_restores_every_earlier_record(env: TestEnv) {
    let original = Place::of(&env);
    let (server, api, account, before) = seeded(&original, 150).await;

    // Writes go on while the backup runs; each is acknowledged before the next starts.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (api, stop) = (api.clone(), stop.clone());
        tokio::spawn(async move {
            let mut during = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let body = entry(10_000 + during.len(), &account);
                during.push(api.create(&body).await);
            }
            during
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let bk = env.dir.path().join("backup");
    let (ok, out, err) = backup(&original, &bk).await;
    stop.store(true, Ordering::Relaxed);
    let during = writer.await.expect("writer");
    assert!(ok, "{out}{err}");
    assert!(
        during.len() > 5,
        "writes overlapped the backup: {}",
        during.len()
    );
    assert!(
        !format!("{out}{err}").contains("postgres://"),
        "no URL printed"
    );

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(bk.join("manifest.json")).expect("manifest"))
            .expect("json");
    let part = &manifest["apps"][APP];
    let (backend, file) = match original.pg {
        Some(_) => ("postgres", format!("{APP}.pgdump")),
        None => ("sqlite", format!("{APP}.db")),
    };
    assert_eq!(part["backend"], backend, "{manifest}");
    assert_eq!(part["file"], file.as_str());
    let version = env
        .direct(
            APP,
            "SELECT max(version) FROM _plinth_migrations",
            "SELECT max(version) FROM _plinth_migrations",
        )
        .await;
    assert_eq!(
        Some(part["migration_version"].to_string()),
        version[0][0],
        "{manifest}"
    );
    let stored = format!("files/{APP}/{FILE_KEY}");
    let listed = part["files"].as_array().expect("files");
    for f in listed {
        let path = f["path"].as_str().expect("path");
        let bytes = std::fs::read(bk.join(path)).expect("listed file exists");
        assert_eq!(f["sha256"], sha_hex(&bytes).as_str(), "{path}");
    }
    assert!(
        listed.iter().any(|f| f["path"] == stored.as_str()),
        "{manifest}"
    );
    assert!(
        !bk.join(format!("{APP}.db-wal")).exists(),
        "the snapshot is one file"
    );

    // Into a fresh place: a new data folder, and on PostgreSQL a new database whose schema
    // is named otherwise than the one dumped.
    let fresh_dir = tempfile::tempdir().expect("tmp");
    let fresh_db = match &original.pg {
        Some((url, _)) => Some(FreshDb::create(url).await),
        None => None,
    };
    let fresh = Place {
        dir: fresh_dir.path().to_path_buf(),
        pg: fresh_db
            .as_ref()
            .map(|db| (db.url.clone(), "restored_ledger".to_owned())),
    };
    let bk_arg = bk.display().to_string();
    let (ok, out, err) = fresh.plinth(&["restore", "--from", &bk_arg], None);
    assert!(ok, "{out}{err}");
    assert!(out.contains("1 stored files"), "{out}");
    assert_eq!(
        std::fs::read(fresh.files().join(FILE_KEY)).expect("file restored"),
        b"stored bytes \x00\xff"
    );

    let restored = env
        .start(&fresh.config(&env))
        .await
        .expect("restored app serves");
    let restored_api = Api::of(&restored);
    for rec in &before {
        let got = restored_api
            .get(&format!("/{APP}/api/entries/{}", id(rec)))
            .await;
        assert_eq!(got.status, 200, "{}: {}", id(rec), got.body);
        assert_eq!(got.body["data"], *rec, "identical values");
    }
    let rows = restored_api.all_entries().await;
    let have: std::collections::HashMap<String, &Value> = rows.iter().map(|r| (id(r), r)).collect();
    let kept = during
        .iter()
        .take_while(|r| have.contains_key(&id(r)))
        .count();
    assert_eq!(
        rows.len(),
        before.len() + kept,
        "only written records, and a prefix of the writes during the backup"
    );
    for rec in &during[..kept] {
        assert_eq!(have.get(&id(rec)).copied(), Some(rec));
    }
    let account = before[0]["account"].as_str().expect("account").to_owned();
    let new = restored_api
        .post(&format!("/{APP}/api/entries"), &entry(1, &account))
        .await;
    assert_eq!(
        new.status, 201,
        "the restored app takes writes: {}",
        new.body
    );
    let orphan = restored_api
        .post(
            &format!("/{APP}/api/entries"),
            &entry(2, &uuid::Uuid::now_v7().to_string()),
        )
        .await;
    assert_ne!(
        orphan.status, 201,
        "the foreign key came back: {}",
        orphan.body
    );
    restored.stop().await;
    drop(fresh_db);

    // Over the original: refused while its server runs, then without --force.
    let (ok, _, err) = original.plinth(&["restore", "--from", &bk_arg, "--force"], None);
    let running = ["is open in another process", "(they listen for its events)"];
    assert!(!ok && running.iter().any(|m| err.contains(m)), "{err}");
    kill(server).await;
    let (ok, _, err) = original.plinth(&["restore", "--from", &bk_arg], None);
    assert!(!ok && err.contains("--force"), "{err}");
    let (ok, out, err) = original.plinth(&["restore", "--from", &bk_arg, "--force"], None);
    assert!(ok, "{out}{err}");
    let back = env
        .start(&original.config(&env))
        .await
        .expect("original serves");
    let mut ids: Vec<String> = Api::of(&back).all_entries().await.iter().map(id).collect();
    let mut expected: Vec<String> = rows.iter().map(id).collect();
    ids.sort();
    expected.sort();
    assert_eq!(
        ids, expected,
        "the original is back to the snapshot, later writes gone"
    );
    back.stop().await;
}

/// The original still has its `entries` records and its stored file: a refused or failed
/// restore changed nothing.
async fn untouched(env: &TestEnv, original: &Place, entries: usize) {
    let sql = "SELECT count(*) FROM entries";
    let left = env.direct(APP, sql, sql).await;
    assert_eq!(left[0][0].as_deref(), Some(entries.to_string().as_str()));
    assert!(original.files().join(FILE_KEY).exists(), "files untouched");
}

async fn restore_checks_everything_before_it_changes_anything(env: TestEnv) {
    let original = Place::of(&env);
    let (server, _, _, before) = seeded(&original, 3).await;
    let bk = env.dir.path().join("backup");
    let (ok, out, err) = backup(&original, &bk).await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = backup(&original, &bk).await;
    assert!(!ok && err.contains("not empty"), "{err}");
    kill(server).await;
    let bk_arg = bk.display().to_string();

    let (ok, _, err) = original.plinth(
        &["restore", "--from", &bk_arg, "--app", "nope", "--force"],
        None,
    );
    assert!(!ok && err.contains("no app `nope`"), "{err}");

    // One byte of the snapshot changed: refused by its checksum, the original untouched.
    let snapshot = std::fs::read_dir(&bk)
        .expect("backup")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "db" || x == "pgdump"))
        .expect("snapshot");
    let mut bytes = std::fs::read(&snapshot).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&snapshot, &bytes).expect("tamper");
    let (ok, _, err) = original.plinth(&["restore", "--from", &bk_arg, "--force"], None);
    assert!(!ok && err.contains("does not match manifest.json"), "{err}");
    untouched(&env, &original, before.len()).await;

    // A snapshot that matches its checksum but is no database (damaged before it was
    // hashed, or from elsewhere): the restore fails and leaves the original as it was.
    let junk = b"not a database";
    std::fs::write(&snapshot, junk).expect("write");
    let manifest_path = bk.join("manifest.json");
    let mut m: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).expect("read")).expect("json");
    for f in m["apps"][APP]["files"].as_array_mut().expect("files") {
        if bk.join(f["path"].as_str().expect("path")) == snapshot {
            f["sha256"] = json!(sha_hex(junk));
            f["bytes"] = json!(junk.len());
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&m).expect("json")).expect("write");
    let (ok, _, err) = original.plinth(&["restore", "--from", &bk_arg, "--force"], None);
    assert!(!ok && err.contains("restore failed"), "{err}");
    untouched(&env, &original, before.len()).await;
    if let Some((url, schema)) = &original.pg {
        let aside = common::admin(url)
            .await
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&format!("{schema}_pre_restore")],
            )
            .await
            .expect("query")
            .get::<_, i64>(0);
        assert_eq!(aside, 0, "the old schema is back under its name");
    }

    // A folder that is not a finished backup.
    std::fs::remove_file(bk.join("manifest.json")).expect("rm");
    let (ok, _, err) = original.plinth(&["restore", "--from", &bk_arg, "--force"], None);
    assert!(!ok && err.contains("not a finished plinth backup"), "{err}");

    if let Some((_, schema)) = &original.pg {
        // Without pg_dump: the command to run instead, no URL, and no half backup left.
        let out_dir = env.dir.path().join("backup-2");
        let dir_arg = out_dir.display().to_string();
        let (ok, out, err) = original.plinth(&["backup", "--out", &dir_arg], Some("/nonexistent"));
        assert!(!ok, "{out}");
        let command =
            format!("pg_dump --dbname=\"$DATABASE_URL\" --schema={schema} --format=custom");
        assert!(err.contains(&command), "{err}");
        assert!(!err.contains("postgres://"), "{err}");
        assert_eq!(std::fs::read_dir(&out_dir).expect("dir").count(), 0);
    }
}
