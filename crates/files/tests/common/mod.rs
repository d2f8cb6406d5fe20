//! Helpers of the integration tests: streams, the files left in a folder, and a store that
//! watches (and can break) multipart uploads.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path as FsPath;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use plinth_files::object_store::{
    self, local::LocalFileSystem, path::Path, CopyOptions, GetOptions, GetResult, ListResult,
    MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, UploadPart,
};
use plinth_files::{FileError, FileStore};

/// A client stream of `chunks`, then (if given) an error.
pub fn client(
    chunks: Vec<Bytes>,
    error: Option<&str>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send {
    let error = error.map(|e| Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, e)));
    stream::iter(chunks.into_iter().map(Ok).chain(error))
}

/// `data` cut in chunks of `size`.
pub fn chunks(data: &[u8], size: usize) -> Vec<Bytes> {
    data.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// Every file under `dir` (staging files too), by path relative to it.
pub fn files_in(dir: &FsPath) -> Vec<String> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// The whole content of a stored file, checked against its announced size.
pub async fn read_all(files: &FileStore, key: &str) -> Result<Vec<u8>, FileError> {
    let (size, mut content) = files.get_stream(key).await?;
    let mut all = Vec::new();
    while let Some(chunk) = content.next().await {
        all.extend_from_slice(&chunk?);
    }
    assert_eq!(all.len() as u64, size);
    Ok(all)
}

/// What a [`Probe`] saw of multipart uploads.
#[derive(Debug, Default)]
pub struct Seen {
    /// The size of every part, in the order they were sent.
    pub parts: Mutex<Vec<usize>>,
    /// Parts being written now, and the most ever at once.
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

/// A local store that records multipart parts and fails the part numbered `fail_part` (from 0).
#[derive(Debug)]
pub struct Probe {
    inner: Arc<LocalFileSystem>,
    pub seen: Arc<Seen>,
    fail_part: Option<usize>,
}

impl Probe {
    pub fn new(dir: &FsPath, fail_part: Option<usize>) -> Arc<Probe> {
        Arc::new(Probe {
            inner: Arc::new(LocalFileSystem::new_with_prefix(dir).unwrap()),
            seen: Arc::default(),
            fail_part,
        })
    }
}

impl std::fmt::Display for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Probe({})", self.inner)
    }
}

#[derive(Debug)]
struct ProbeUpload {
    inner: Box<dyn MultipartUpload>,
    seen: Arc<Seen>,
    fail_part: Option<usize>,
}

#[async_trait]
impl MultipartUpload for ProbeUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let number = {
            let mut parts = self.seen.parts.lock().unwrap();
            parts.push(data.content_length());
            parts.len() - 1
        };
        if Some(number) == self.fail_part {
            return Box::pin(async {
                Err(object_store::Error::Generic {
                    store: "Probe",
                    source: "the disk is full at /srv/secret".into(),
                })
            });
        }
        let seen = Arc::clone(&self.seen);
        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        seen.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let write = self.inner.put_part(data);
        Box::pin(async move {
            // Slow parts, so that a writer that does not wait for them shows it.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let done = write.await;
            seen.in_flight.fetch_sub(1, Ordering::SeqCst);
            done
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for Probe {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(ProbeUpload {
            inner,
            seen: Arc::clone(&self.seen),
            fail_part: self.fail_part,
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
