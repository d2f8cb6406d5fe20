//! Big uploads: written in parts of bounded size and number, and cleaned up when the store fails.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::Ordering;

use common::{chunks, client, files_in, read_all, Probe};
use plinth_files::{FileError, FileStore, Kind, Limits};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

fn data_limits(max_bytes: u64) -> Limits {
    Limits::new(max_bytes, [Kind::Csv, Kind::Json, Kind::Parquet])
}

fn hex_sha256(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_big_upload_goes_in_bounded_parts() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Probe::new(dir.path(), None);
    let files = FileStore::new(probe.clone(), "uploads");
    let big: Vec<u8> = (0..20 * MIB).map(|i| b'a' + (i % 26) as u8).collect();
    let limits = data_limits(u64::MAX);
    let upload = files.put_stream(
        client(chunks(&big, 64 * 1024), None),
        "big.csv",
        None,
        &limits,
    );
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&upload);
    let stored = upload.await.unwrap();
    assert_eq!((stored.size, stored.kind), (big.len() as u64, Kind::Csv));
    assert_eq!(stored.sha256, hex_sha256(&big));

    let parts = probe.seen.parts.lock().unwrap().clone();
    assert_eq!(parts, vec![5 * MIB; 4]);
    let most = probe.seen.max_in_flight.load(Ordering::SeqCst);
    assert!((1..=3).contains(&most), "{most} parts at once");
    let key_path = format!("uploads/{}", stored.key);
    assert_eq!(files_in(dir.path()), vec![key_path]);
    assert_eq!(read_all(&files, &stored.key).await.unwrap(), big);
}

#[tokio::test]
async fn a_store_that_fails_mid_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Probe::new(dir.path(), Some(1));
    let files = FileStore::new(probe.clone(), "");
    let big = vec![b'q'; 16 * MIB];
    let err = files
        .put_stream(
            client(chunks(&big, MIB), None),
            "a.csv",
            None,
            &data_limits(u64::MAX),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::Storage(_)), "{err:?}");
    assert_eq!(err.to_string(), "file storage failed: write failed");
    assert!(probe.seen.parts.lock().unwrap().len() >= 2);
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}
