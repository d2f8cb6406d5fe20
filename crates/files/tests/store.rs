//! Keys, export writers and opening stores from configuration.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{files_in, read_all, Probe};
use plinth_files::{FileError, FileStore};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn keys_from_outside_cannot_escape_the_store() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("secret.txt"), "s3cr3t").unwrap();
    let files = FileStore::local(&root.path().join("files")).unwrap();
    for key in [
        "../secret.txt",
        "..",
        "/etc/passwd",
        "%2e%2e/secret.txt",
        "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11/../../secret.txt",
        "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.CSV",
        "",
    ] {
        assert!(
            matches!(files.get_stream(key).await, Err(FileError::InvalidKey)),
            "{key}"
        );
        assert!(
            matches!(files.exists(key).await, Err(FileError::InvalidKey)),
            "{key}"
        );
        assert!(
            matches!(files.delete(key).await, Err(FileError::InvalidKey)),
            "{key}"
        );
    }
    let absent = "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.csv";
    assert!(matches!(
        files.get_stream(absent).await,
        Err(FileError::NotFound)
    ));
    assert!(!files.exists(absent).await.unwrap());
    assert!(root.path().join("secret.txt").exists());
}

#[tokio::test]
async fn an_export_writer_finishes_into_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let mut writer = files.writer("csv").await.unwrap();
    let key = writer.key().to_string();
    writer
        .write(Bytes::from_static(b"id,name\n"))
        .await
        .unwrap();
    writer.write(Bytes::new()).await.unwrap();
    writer
        .write(Bytes::from_static(b"1,Ada\n2,Grace\n"))
        .await
        .unwrap();
    assert!(!files.exists(&key).await.unwrap());
    let written = writer.finish().await.unwrap();
    assert_eq!(written.key, key);
    assert_eq!(written.size, 22);
    let sha = "9141c69637e955662df54df4b8aa9b41149de2fd7b19b532ec142ef114049619";
    assert_eq!(written.sha256, sha);
    assert_eq!(
        read_all(&files, &key).await.unwrap(),
        b"id,name\n1,Ada\n2,Grace\n"
    );

    let again = files
        .put_bytes("json", Bytes::from_static(b"[]"))
        .await
        .unwrap();
    assert!(again.key.ends_with(".json") && again.size == 2);
    assert_eq!(files_in(dir.path()).len(), 2);
    assert!(matches!(
        files.writer("../x").await,
        Err(FileError::InvalidKey)
    ));
    assert!(matches!(files.writer("").await, Err(FileError::InvalidKey)));
}

#[tokio::test]
async fn a_big_export_goes_in_parts() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Probe::new(dir.path(), None);
    let files = FileStore::new(probe.clone(), "exports/daily");
    let mut writer = files.writer("parquet").await.unwrap();
    let block = Bytes::from(vec![b'p'; 3 * MIB]);
    for _ in 0..4 {
        writer.write(block.clone()).await.unwrap();
    }
    let written = writer.finish().await.unwrap();
    assert_eq!(written.size, 12 * MIB as u64);
    let parts = probe.seen.parts.lock().unwrap().clone();
    assert_eq!(parts, vec![5 * MIB, 5 * MIB, 2 * MIB]);
    let expected = format!("exports/daily/{}", written.key);
    assert_eq!(files_in(dir.path()), vec![expected]);
}

#[tokio::test]
async fn an_aborted_or_dropped_export_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    for size in [10, 6 * MIB] {
        let mut writer = files.writer("csv").await.unwrap();
        writer.write(Bytes::from(vec![b'a'; size])).await.unwrap();
        if size > 5 * MIB {
            // A multipart upload has begun: its staging file is there, and seen.
            let staged = files_in(dir.path());
            assert!(
                staged.len() == 1 && staged[0].starts_with(writer.key()),
                "{staged:?}"
            );
            assert!(!files.exists(writer.key()).await.unwrap());
        }
        writer.abort().await;
        assert!(
            files_in(dir.path()).is_empty(),
            "{size}: {:?}",
            files_in(dir.path())
        );

        let mut writer = files.writer("csv").await.unwrap();
        writer.write(Bytes::from(vec![b'a'; size])).await.unwrap();
        drop(writer);
        // A dropped writer aborts in a task of its own.
        for _ in 0..100 {
            if files_in(dir.path()).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            files_in(dir.path()).is_empty(),
            "{size}: {:?}",
            files_in(dir.path())
        );
    }
}

#[tokio::test]
async fn a_failed_export_write_aborts_itself() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::new(Probe::new(dir.path(), Some(0)), "");
    let mut writer = files.writer("csv").await.unwrap();
    let block = Bytes::from(vec![b'a'; 4 * MIB]);
    let mut failed = None;
    for _ in 0..8 {
        if let Err(e) = writer.write(block.clone()).await {
            failed = Some(e);
            break;
        }
    }
    let err = match failed {
        Some(e) => e,
        None => writer.finish().await.unwrap_err(),
    };
    assert!(matches!(err, FileError::Storage(_)), "{err:?}");
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

#[tokio::test]
async fn stores_open_from_urls_and_plain_paths() {
    let root = tempfile::tempdir().unwrap();
    let url = format!("file://{}/by-url", root.path().display());
    let by_url = FileStore::from_url(&url, root.path()).unwrap();
    let written = by_url
        .put_bytes("txt", Bytes::from_static(b"hi"))
        .await
        .unwrap();
    assert!(root.path().join("by-url").join(&written.key).exists());

    let relative = FileStore::from_url("data/files", root.path()).unwrap();
    let written = relative
        .put_bytes("txt", Bytes::from_static(b"hi"))
        .await
        .unwrap();
    assert!(root.path().join("data/files").join(&written.key).exists());

    let absolute = root.path().join("abs");
    FileStore::from_url(absolute.to_str().unwrap(), root.path()).unwrap();
    assert!(absolute.is_dir());

    for bad in ["ftp://host/x", "file://relative/path"] {
        let err = FileStore::from_url(bad, root.path()).unwrap_err();
        assert!(matches!(err, FileError::Config(_)), "{bad}: {err:?}");
    }
    #[cfg(not(feature = "s3"))]
    {
        let err = FileStore::from_url("s3://bucket/prefix", root.path()).unwrap_err();
        assert!(err.to_string().contains("`s3` feature"), "{err}");
    }
}

#[tokio::test]
async fn errors_do_not_show_server_paths() {
    let root = tempfile::tempdir().unwrap();
    let blocker = root.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let err = FileStore::local(&blocker.join("sub")).unwrap_err();
    assert!(matches!(err, FileError::Config(_)));
    let shown = err.to_string();
    assert!(!shown.contains(&*root.path().to_string_lossy()), "{shown}");
    assert_eq!(
        shown,
        "file storage configuration: cannot create the storage folder"
    );
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn s3_urls_name_a_bucket_and_a_prefix() {
    let root = tempfile::tempdir().unwrap();
    FileStore::from_url("s3://my-bucket/uploads/2024", root.path()).unwrap();
    FileStore::from_url("s3://my-bucket", root.path()).unwrap();
    let err = FileStore::from_url("s3:///no-bucket", root.path()).unwrap_err();
    assert!(matches!(err, FileError::Config(_)), "{err:?}");
}
