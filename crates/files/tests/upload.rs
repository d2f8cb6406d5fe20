//! Uploads through `put_stream`: kinds, limits, hashes, and nothing left behind on failure.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
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
async fn a_csv_round_trips_with_its_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let csv = b"id,name\n1,Ada\n2,Grace\n";
    let stream = client(chunks(csv, 5), None);
    let stored = files
        .put_stream(
            stream,
            "C:\\fakepath\\People.CSV",
            Some("text/csv"),
            &data_limits(1000),
        )
        .await
        .unwrap();
    assert_eq!(
        stored.sha256,
        "9141c69637e955662df54df4b8aa9b41149de2fd7b19b532ec142ef114049619"
    );
    assert_eq!(
        (stored.size, stored.kind, stored.mime),
        (22, Kind::Csv, "text/csv")
    );
    assert_eq!(stored.original_name, "People.CSV");
    assert!(
        stored.key.ends_with(".csv") && stored.key.len() == 40,
        "{}",
        stored.key
    );
    assert_eq!(files_in(dir.path()), vec![stored.key.clone()]);
    assert_eq!(read_all(&files, &stored.key).await.unwrap(), csv);
    assert!(files.exists(&stored.key).await.unwrap());

    files.delete(&stored.key).await.unwrap();
    files.delete(&stored.key).await.unwrap();
    assert!(!files.exists(&stored.key).await.unwrap());
    assert!(matches!(
        read_all(&files, &stored.key).await,
        Err(FileError::NotFound)
    ));
    assert!(files_in(dir.path()).is_empty());
}

#[tokio::test]
async fn the_size_limit_is_inclusive_and_one_byte_more_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let limits = data_limits(100);
    let exact = vec![b'x'; 100];
    let stored = files
        .put_stream(client(chunks(&exact, 7), None), "a.csv", None, &limits)
        .await
        .unwrap();
    assert_eq!(stored.size, 100);

    let over = vec![b'x'; 101];
    let err = files
        .put_stream(client(chunks(&over, 7), None), "b.csv", None, &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::TooLarge { limit: 100 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the file is larger than the limit of 100 bytes"
    );
    assert_eq!(files_in(dir.path()), vec![stored.key]);
}

#[tokio::test]
async fn passing_the_limit_during_a_multipart_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Probe::new(dir.path(), None);
    let files = FileStore::new(probe.clone(), "");
    let big = vec![b'y'; 12 * MIB];
    let limits = data_limits(11 * MIB as u64);
    let err = files
        .put_stream(
            client(chunks(&big, 64 * 1024), None),
            "big.csv",
            None,
            &limits,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::TooLarge { .. }), "{err:?}");
    assert!(!probe.seen.parts.lock().unwrap().is_empty());
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

#[tokio::test]
async fn png_bytes_declared_as_csv_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[7; 200]);
    let err = files
        .put_stream(
            client(chunks(&png, 3), None),
            "x.csv",
            Some("text/csv"),
            &data_limits(1000),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FileError::UnsupportedType { detected } if detected == "image/png"),
        "{err:?}"
    );
    assert!(files_in(dir.path()).is_empty());

    let images = Limits::new(1000, [Kind::Png]);
    let stored = files
        .put_stream(client(chunks(&png, 3), None), "x.csv", None, &images)
        .await
        .unwrap();
    assert_eq!((stored.kind, stored.mime), (Kind::Png, "image/png"));
    assert!(stored.key.ends_with(".png"), "{}", stored.key);
}

#[tokio::test]
async fn json_and_csv_are_told_apart_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let limits = data_limits(1 << 20);
    let json = "\u{feff}\n  [{\"name\": \"Zoë\"}]".as_bytes();
    let stored = files
        .put_stream(
            client(chunks(json, 1), None),
            "data.txt",
            Some("text/plain"),
            &limits,
        )
        .await
        .unwrap();
    assert_eq!((stored.kind, stored.mime), (Kind::Json, "application/json"));
    assert!(stored.key.ends_with(".json"), "{}", stored.key);

    let lines = b"{\"a\":1}\n{\"a\":2}\n";
    let stored = files
        .put_stream(client(chunks(lines, 4), None), "x.ndjson", None, &limits)
        .await
        .unwrap();
    assert!(stored.key.ends_with(".ndjson"), "{}", stored.key);

    // A long CSV whose 8 KiB sample ends inside a character is still text.
    let row = "é,ü,ß,日本\n".repeat(1000);
    let stored = files
        .put_stream(
            client(chunks(row.as_bytes(), 1000), None),
            "rows",
            None,
            &limits,
        )
        .await
        .unwrap();
    assert_eq!((stored.kind, stored.size), (Kind::Csv, row.len() as u64));
    assert!(stored.key.ends_with(".csv"), "{}", stored.key);
    assert_eq!(read_all(&files, &stored.key).await.unwrap(), row.as_bytes());

    let html = b"<html><body>hi</body></html>";
    let err = files
        .put_stream(client(chunks(html, 4), None), "page.csv", None, &limits)
        .await
        .unwrap_err();
    assert!(matches!(err, FileError::UnsupportedType { detected } if detected == "text/html"));
    assert_eq!(files_in(dir.path()).len(), 3);
}

#[tokio::test]
async fn parquet_is_known_by_its_magic() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let mut parquet = b"PAR1".to_vec();
    parquet.extend((0..=255u8).cycle().take(10_000));
    parquet.extend_from_slice(b"\x08\0\0\0PAR1");
    let stored = files
        .put_stream(
            client(chunks(&parquet, 999), None),
            "t.parquet",
            None,
            &data_limits(1 << 20),
        )
        .await
        .unwrap();
    assert_eq!(stored.kind, Kind::Parquet);
    assert_eq!(stored.mime, "application/vnd.apache.parquet");
    assert_eq!(stored.sha256, hex_sha256(&parquet));
    assert!(stored.key.ends_with(".parquet"));
}

#[tokio::test]
async fn a_client_stream_that_fails_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let limits = data_limits(1 << 30);
    // Before the kind is known,
    let early = client(chunks(b"a,b\n", 2), Some("connection reset"));
    let err = files
        .put_stream(early, "a.csv", None, &limits)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FileError::Interrupted(m) if m == "connection reset"),
        "{err:?}"
    );
    // while the bytes are held, and once parts are written.
    for size in [100 * 1024, 7 * MIB] {
        let late = client(
            chunks(&vec![b'z'; size], 64 * 1024),
            Some("connection reset"),
        );
        let err = files
            .put_stream(late, "a.csv", None, &limits)
            .await
            .unwrap_err();
        assert!(matches!(err, FileError::Interrupted(_)), "{err:?}");
    }
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );
}

#[tokio::test]
async fn an_empty_upload_is_an_empty_csv() {
    let dir = tempfile::tempdir().unwrap();
    let files = FileStore::local(dir.path()).unwrap();
    let stored = files
        .put_stream(client(vec![], None), "", None, &Limits::default())
        .await
        .unwrap();
    assert_eq!((stored.size, stored.kind), (0, Kind::Csv));
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(stored.sha256, empty);
    assert_eq!(read_all(&files, &stored.key).await.unwrap(), Bytes::new());
}
