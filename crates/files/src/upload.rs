//! Writing files: uploads from a client's stream, and exports written by jobs.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::key::{clean_name, extension_of, is_valid_ext, new_key};
use crate::sink::{Sink, Tally};
use crate::sniff::{decide, sniff, SNIFF_LEN};
use crate::{FileError, FileStore, Kind, Limits};

/// An upload once stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// The storage name: a UUID v4 and the kind's extension.
    pub key: String,
    /// The size in bytes.
    pub size: u64,
    /// The SHA-256 of the content, in lower-case hex.
    pub sha256: String,
    /// The kind the content was sniffed as.
    pub kind: Kind,
    /// The MIME type of that kind.
    pub mime: &'static str,
    /// The client's file name (its last path component, without control characters).
    pub original_name: String,
}

/// An export once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// The storage name: a UUID v4 and the extension asked for.
    pub key: String,
    /// The size in bytes.
    pub size: u64,
    /// The SHA-256 of the content, in lower-case hex.
    pub sha256: String,
}

impl FileStore {
    /// Stores an upload read from `stream`, refusing it with [`FileError::TooLarge`] as soon as it
    /// passes `limits.max_bytes` and with [`FileError::UnsupportedType`] when its first bytes are
    /// not one of `limits.allowed`. `declared_type` and the extension of `original_name` only
    /// choose between CSV and plain text; the key keeps the extension when it is one of the
    /// sniffed kind's, else gets the kind's own. On any error nothing is left in the store.
    pub async fn put_stream<S, E>(
        &self,
        mut stream: S,
        original_name: &str,
        declared_type: Option<&str>,
        limits: &Limits,
    ) -> Result<StoredFile, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut tally = Tally::new(Some(limits.max_bytes));
        let (mut head, mut head_len, mut ended) = (Vec::new(), 0, false);
        while head_len < SNIFF_LEN {
            let Some(chunk) = next_chunk(&mut stream).await? else {
                ended = true;
                break;
            };
            tally.add(&chunk)?;
            head_len += chunk.len();
            head.push(chunk);
        }
        let mut sample = Vec::with_capacity(head_len.min(SNIFF_LEN));
        for chunk in &head {
            let take = chunk.len().min(SNIFF_LEN - sample.len());
            sample.extend_from_slice(&chunk[..take]);
        }
        let original_name = clean_name(original_name);
        let ext = extension_of(&original_name);
        let hint = declared_type
            .and_then(Kind::from_mime)
            .or_else(|| ext.as_deref().and_then(Kind::from_name));
        let kind = decide(sniff(&sample, ended && head_len <= SNIFF_LEN), hint, limits)?;
        drop(sample);

        let ext = ext
            .filter(|e| kind.extensions().contains(&e.as_str()))
            .unwrap_or_else(|| kind.extension().to_string());
        let key = new_key(Some(&ext));
        let mut sink = Sink::new(Arc::clone(&self.store), self.path_of(&key));
        let written = async {
            for chunk in head {
                sink.put(chunk).await?;
            }
            while !ended {
                match next_chunk(&mut stream).await? {
                    Some(chunk) => {
                        tally.add(&chunk)?;
                        sink.put(chunk).await?;
                    }
                    None => ended = true,
                }
            }
            sink.finish().await
        }
        .await;
        if let Err(e) = written {
            sink.abort().await;
            return Err(e);
        }
        let (size, sha256) = tally.finish();
        Ok(StoredFile {
            key,
            size,
            sha256,
            kind,
            mime: kind.mime(),
            original_name,
        })
    }

    /// A writer for a new file with extension `ext` (1 to 8 lower-case letters or digits), for
    /// exports too large to hold in memory. No size limit and no sniffing: the writer is trusted.
    pub async fn writer(&self, ext: &str) -> Result<ExportWriter, FileError> {
        if !is_valid_ext(ext) {
            return Err(FileError::InvalidKey);
        }
        let key = new_key(Some(ext));
        let sink = Sink::new(Arc::clone(&self.store), self.path_of(&key));
        Ok(ExportWriter {
            key,
            sink,
            tally: Tally::new(None),
        })
    }

    /// Writes a whole export held in memory as a new file with extension `ext`.
    pub async fn put_bytes(&self, ext: &str, bytes: Bytes) -> Result<WrittenFile, FileError> {
        let mut writer = self.writer(ext).await?;
        writer.write(bytes).await?;
        writer.finish().await
    }
}

/// The next chunk of a client's stream; its error is the client's, so it is
/// [`FileError::Interrupted`].
async fn next_chunk<S, E>(stream: &mut S) -> Result<Option<Bytes>, FileError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match stream.next().await {
        Some(Ok(chunk)) => Ok(Some(chunk)),
        Some(Err(e)) => Err(FileError::Interrupted(e.into().to_string())),
        None => Ok(None),
    }
}

/// A file being written by a job: [`write`](ExportWriter::write) its content in order, then
/// [`finish`](ExportWriter::finish) it. Until then nobody sees it, and one that is aborted,
/// dropped or failed leaves nothing behind.
#[derive(Debug)]
pub struct ExportWriter {
    key: String,
    sink: Sink,
    tally: Tally,
}

impl ExportWriter {
    /// The key the file will have.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Appends `bytes`; waits while earlier parts are on their way. After an error the writer
    /// has already been aborted.
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), FileError> {
        self.tally.add(&bytes)?;
        let written = self.sink.put(bytes).await;
        if written.is_err() {
            self.sink.abort().await;
        }
        written
    }

    /// Completes the file, which then appears under its key.
    pub async fn finish(self) -> Result<WrittenFile, FileError> {
        let ExportWriter {
            key,
            mut sink,
            tally,
        } = self;
        if let Err(e) = sink.finish().await {
            sink.abort().await;
            return Err(e);
        }
        let (size, sha256) = tally.finish();
        Ok(WrittenFile { key, size, sha256 })
    }

    /// Gives the file up, removing what was written of it.
    pub async fn abort(mut self) {
        self.sink.abort().await;
    }
}
