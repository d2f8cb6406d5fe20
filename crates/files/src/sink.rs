//! Where a file's bytes go: counted and hashed, then held or written in parts.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{path::Path, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use crate::FileError;

/// The size of the parts a large file is written in (S3's smallest part is 5 MiB).
pub(crate) const PART_SIZE: usize = 5 * 1024 * 1024;
/// How many parts of one file may be on their way to the store at once (besides the one being
/// filled): with the part size this bounds the memory a write holds to about 15 MiB.
const PARTS_IN_FLIGHT: usize = 2;

/// Counts and hashes a file's bytes as they pass, against an optional limit.
#[derive(Debug)]
pub(crate) struct Tally {
    size: u64,
    limit: Option<u64>,
    hasher: Sha256,
}

impl Tally {
    pub(crate) fn new(limit: Option<u64>) -> Tally {
        Tally {
            size: 0,
            limit,
            hasher: Sha256::new(),
        }
    }

    pub(crate) fn add(&mut self, chunk: &[u8]) -> Result<(), FileError> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        match self.limit {
            Some(limit) if self.size > limit => Err(FileError::TooLarge { limit }),
            _ => {
                self.hasher.update(chunk);
                Ok(())
            }
        }
    }

    /// The size and the hex SHA-256.
    pub(crate) fn finish(self) -> (u64, String) {
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

/// Where a file's bytes go: held until a part's worth has come (a small file is then written in
/// one put), then a multipart upload. Dropped before the end, it aborts the upload.
#[derive(Debug)]
pub(crate) struct Sink {
    store: Arc<dyn ObjectStore>,
    location: Path,
    state: State,
}

#[derive(Debug)]
enum State {
    Buffer(Vec<Bytes>, usize),
    Multipart(WriteMultipart),
    Done,
}

impl Sink {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, location: Path) -> Sink {
        Sink {
            store,
            location,
            state: State::Buffer(Vec::new(), 0),
        }
    }

    pub(crate) async fn put(&mut self, mut bytes: Bytes) -> Result<(), FileError> {
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(PART_SIZE));
            match &mut self.state {
                State::Buffer(held, len) => {
                    *len += piece.len();
                    held.push(piece);
                    if *len >= PART_SIZE {
                        let upload = self
                            .store
                            .put_multipart(&self.location)
                            .await
                            .map_err(|e| FileError::storage("write", e))?;
                        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                        for held in std::mem::take(held) {
                            writer.put(held);
                        }
                        self.state = State::Multipart(writer);
                    }
                }
                State::Multipart(writer) => {
                    writer
                        .wait_for_capacity(PARTS_IN_FLIGHT)
                        .await
                        .map_err(|e| FileError::storage("write", e))?;
                    writer.put(piece);
                }
                State::Done => return Err(FileError::Storage("write after the end".into())),
            }
        }
        Ok(())
    }

    pub(crate) async fn finish(&mut self) -> Result<(), FileError> {
        let done = match std::mem::replace(&mut self.state, State::Done) {
            State::Buffer(held, _) => {
                let payload = PutPayload::from_iter(held);
                self.store.put(&self.location, payload).await.map(drop)
            }
            State::Multipart(writer) => writer.finish().await.map(drop),
            State::Done => return Err(FileError::Storage("write after the end".into())),
        };
        done.map_err(|e| FileError::storage("write", e))
    }

    /// Removes whatever was written (nothing was, while the bytes are only held).
    pub(crate) async fn abort(&mut self) {
        if let State::Multipart(writer) = std::mem::replace(&mut self.state, State::Done) {
            if let Err(e) = writer.abort().await {
                tracing::warn!(error = %e, "file storage: aborting an upload failed");
            }
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let State::Multipart(writer) = std::mem::replace(&mut self.state, State::Done) {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Err(e) = writer.abort().await {
                        tracing::warn!(error = %e, "file storage: aborting an upload failed");
                    }
                });
            }
        }
    }
}
