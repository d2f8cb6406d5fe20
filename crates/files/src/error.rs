//! The one error type of the crate.
//!
//! Messages are meant to be shown to clients: none of them carries a path of the server's file
//! system or the text of a storage backend's error (those are logged, at warn level, instead).

/// What can go wrong storing or reading a file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The upload is larger than the limit (in bytes).
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit that was passed, in bytes.
        limit: u64,
    },
    /// The content is not one of the allowed kinds; `detected` is the MIME type it looks like.
    #[error("files of type {detected} are not accepted here")]
    UnsupportedType {
        /// The MIME type the content was sniffed as.
        detected: String,
    },
    /// No file has this key.
    #[error("file not found")]
    NotFound,
    /// The key is not one this store hands out (so it cannot name anything in it).
    #[error("invalid file key")]
    InvalidKey,
    /// The client's stream failed before its end (a disconnect, a bad chunk).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The storage backend failed; the text says which operation, not why.
    #[error("file storage failed: {0}")]
    Storage(String),
    /// The store's configuration (its URL) cannot be used.
    #[error("file storage configuration: {0}")]
    Config(String),
}

impl FileError {
    /// A backend error during `operation`, logged in full and returned without its details
    /// (object_store's messages name local paths). Not-found maps to [`FileError::NotFound`].
    pub(crate) fn storage(operation: &'static str, err: object_store::Error) -> Self {
        if matches!(err, object_store::Error::NotFound { .. }) {
            return FileError::NotFound;
        }
        tracing::warn!(error = %err, "file storage: {operation} failed");
        FileError::Storage(format!("{operation} failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_hide_the_backend_message() {
        let err = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: "cannot open /srv/secret/dir/abc".into(),
        };
        let msg = FileError::storage("write", err).to_string();
        assert_eq!(msg, "file storage failed: write failed");
        let missing = object_store::Error::NotFound {
            path: "/srv/secret/x".into(),
            source: "gone".into(),
        };
        assert!(matches!(
            FileError::storage("read", missing),
            FileError::NotFound
        ));
    }
}
