//! File storage for uploads and exports, on [`object_store`]: a local folder by default, S3 with
//! the `s3` feature.
//!
//! Files are stored under names the store makes (a UUID v4 and an extension, the *key*), never
//! under a client's name. Uploads are streamed: counted against a size limit, hashed (SHA-256)
//! and sniffed (their kind told from their first bytes, not from what the client declares) on the
//! way, and written in parts so memory stays bounded. Whatever fails leaves nothing behind.

mod error;
mod key;
mod kind;
mod sink;
mod sniff;
mod upload;

use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt};
use object_store::{local::LocalFileSystem, path::Path, ObjectStore, ObjectStoreExt};

pub use error::FileError;
pub use kind::{Kind, Limits};
/// The object_store crate this one is built on, for [`FileStore::new`] with a store of your own.
pub use object_store;
pub use upload::{ExportWriter, StoredFile, WrittenFile};

/// The content of a stored file, in chunks.
pub type ByteStream = BoxStream<'static, Result<bytes::Bytes, FileError>>;

/// A place files are stored: an object store and a prefix (folder) in it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl FileStore {
    /// Files under `prefix` (`""` for the root) of any object store.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> FileStore {
        FileStore {
            store,
            prefix: Path::from(prefix),
        }
    }

    /// Files in the local folder `dir`, created (with its parents) if missing.
    pub fn local(dir: &std::path::Path) -> Result<FileStore, FileError> {
        let config = |what: &str, err: &dyn std::fmt::Display| {
            tracing::warn!(dir = %dir.display(), error = %err, "file storage: {what}");
            FileError::Config(what.to_string())
        };
        std::fs::create_dir_all(dir).map_err(|e| config("cannot create the storage folder", &e))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| config("cannot open the storage folder", &e))?;
        Ok(FileStore::new(Arc::new(fs), ""))
    }

    /// The store a configuration names: `file:///abs/path`, a plain path (relative ones are
    /// taken from `local_root`, and an empty one is `local_root` itself), or `s3://bucket/prefix`
    /// with the `s3` feature (credentials and region from the usual `AWS_*` variables).
    pub fn from_url(url: &str, local_root: &std::path::Path) -> Result<FileStore, FileError> {
        match local_dir(url, local_root)? {
            Some(dir) => FileStore::local(&dir),
            None => s3(url.trim()),
        }
    }

    /// The object path of a key this store made; anything else is [`FileError::InvalidKey`].
    fn location(&self, key: &str) -> Result<Path, FileError> {
        if !key::is_valid_key(key) {
            return Err(FileError::InvalidKey);
        }
        Ok(self.path_of(key))
    }

    /// The object path of a key, unchecked: for keys made here.
    fn path_of(&self, key: &str) -> Path {
        self.prefix.clone().join(key)
    }

    /// The size of a stored file and a stream of its content.
    pub async fn get_stream(&self, key: &str) -> Result<(u64, ByteStream), FileError> {
        let location = self.location(key)?;
        let found = self
            .store
            .get(&location)
            .await
            .map_err(|e| FileError::storage("read", e))?;
        let size = found.meta.size;
        let stream = found
            .into_stream()
            .map(|chunk| chunk.map_err(|e| FileError::storage("read", e)))
            .boxed();
        Ok((size, stream))
    }

    /// Deletes a stored file; deleting one that is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), FileError> {
        let location = self.location(key)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(FileError::storage("delete", e)),
        }
    }

    /// Whether a file is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, FileError> {
        let location = self.location(key)?;
        match self.store.head(&location).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(FileError::storage("look up", e)),
        }
    }
}

/// The local folder a storage URL names (as [`FileStore::from_url`] reads it), or `None` for
/// an object store (`s3://`), e.g. for backups that copy the folder.
pub fn local_dir(
    url: &str,
    local_root: &std::path::Path,
) -> Result<Option<std::path::PathBuf>, FileError> {
    let url = url.trim();
    let Some((scheme, _)) = url.split_once("://") else {
        return Ok(Some(local_root.join(url)));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "file" => url::Url::parse(url)
            .ok()
            .and_then(|u| u.to_file_path().ok())
            .map(Some)
            .ok_or_else(|| FileError::Config("a file:// URL needs an absolute local path".into())),
        "s3" => Ok(None),
        other => Err(FileError::Config(format!(
            "unsupported storage scheme {other}://"
        ))),
    }
}

/// An S3 store for `s3://bucket/prefix`, configured from the environment.
#[cfg(feature = "s3")]
fn s3(url: &str) -> Result<FileStore, FileError> {
    let bad = || FileError::Config("an S3 URL is s3://bucket or s3://bucket/prefix".into());
    let parsed = url::Url::parse(url).map_err(|_| bad())?;
    let bucket = parsed
        .host_str()
        .filter(|b| !b.is_empty())
        .ok_or_else(bad)?;
    let prefix = Path::from_url_path(parsed.path()).map_err(|_| bad())?;
    let store = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| {
            tracing::warn!(error = %e, "file storage: cannot configure S3");
            FileError::Config("cannot configure the S3 store".into())
        })?;
    Ok(FileStore {
        store: Arc::new(store),
        prefix,
    })
}

/// Without the `s3` feature there is no S3 store.
#[cfg(not(feature = "s3"))]
fn s3(_url: &str) -> Result<FileStore, FileError> {
    Err(FileError::Config(
        "s3:// storage needs plinth-files built with its `s3` feature".into(),
    ))
}
