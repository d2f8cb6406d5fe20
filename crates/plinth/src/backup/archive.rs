//! A backup folder: its `manifest.json`, and files copied in and out with their SHA-256.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file that describes a backup; written last, so a folder without it is unfinished.
pub const MANIFEST: &str = "manifest.json";

/// The layout version of backups this binary writes and reads.
pub const FORMAT: u32 = 1;

/// `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct BackupManifest {
    /// The layout version ([`FORMAT`]).
    pub format: u32,
    /// The version of the `plinth` that wrote it.
    pub plinth_version: String,
    /// When the backup started (RFC 3339, UTC).
    pub created_at: String,
    /// Each app's part, by app name.
    pub apps: BTreeMap<String, AppBackup>,
}

/// Which database an app's snapshot comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A SQLite file, copied as a SQLite file (`<app>.db`).
    Sqlite,
    /// A PostgreSQL schema, dumped by `pg_dump --format=custom` (`<app>.pgdump`).
    Postgres,
}

/// One app's part of a backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct AppBackup {
    /// The database it came from.
    pub backend: Backend,
    /// The snapshot, relative to the backup folder.
    pub file: String,
    /// The PostgreSQL schema it was dumped from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The last applied migration (`_plinth_migrations.version`); None before the first.
    pub migration_version: Option<i64>,
    /// The app's stored files, relative to the backup folder; None when they were not
    /// copied (kept in object storage).
    pub files_dir: Option<String>,
    /// Every file of this app in the backup (the snapshot and the stored files).
    pub files: Vec<FileEntry>,
}

/// One file of a backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// The path relative to the backup folder, `/`-separated.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
}

impl BackupManifest {
    /// Read and check the manifest of the backup in `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "{} has no {MANIFEST}: not a finished plinth backup",
                dir.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let m: BackupManifest = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a backup manifest", path.display()))?;
        if m.format != FORMAT {
            bail!(
                "{} is format {}; this plinth reads format {FORMAT}",
                path.display(),
                m.format
            );
        }
        for (name, app) in &m.apps {
            for f in &app.files {
                relative(&f.path).with_context(|| format!("app `{name}` in {MANIFEST}"))?;
            }
            if !app.files.iter().any(|f| f.path == app.file) {
                bail!(
                    "app `{name}`: {MANIFEST} gives no checksum for {}",
                    app.file
                );
            }
        }
        Ok(m)
    }

    /// Write it into `dir` (through a temporary name, so it appears whole).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join(format!("{MANIFEST}.tmp"));
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(&serde_json::to_vec_pretty(self)?)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(MANIFEST))?;
        Ok(())
    }
}

/// A manifest path as a relative path inside the backup; refuses absolute paths and `..`,
/// so a manifest cannot name files outside its folder.
pub fn relative(path: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    let plain = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        bail!("`{path}` is not a plain relative path");
    }
    Ok(p.to_path_buf())
}

/// Stream `from` into `to` (a new file when given), hashing on the way: (bytes, SHA-256).
fn pump(from: &Path, to: Option<&Path>) -> Result<(u64, String)> {
    let mut src = File::open(from).with_context(|| format!("cannot read {}", from.display()))?;
    let mut dest = match to {
        Some(p) => Some(
            File::options()
                .write(true)
                .create_new(true)
                .open(p)
                .with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(d) = dest.as_mut() {
            d.write_all(&buf[..n])?;
        }
        total += n as u64;
    }
    if let Some(d) = dest {
        d.sync_all()?;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// The entry of a file already in the backup folder `root`.
pub fn entry_of(root: &Path, rel: &str) -> Result<FileEntry> {
    let (bytes, sha256) = pump(&root.join(relative(rel)?), None)?;
    Ok(FileEntry {
        path: rel.to_owned(),
        bytes,
        sha256,
    })
}

/// Copy a file, hashing it; the copy must be new. Returns (bytes, SHA-256).
pub fn copy_hashed(from: &Path, to: &Path) -> Result<(u64, String)> {
    pump(from, Some(to))
}

/// Whether a file name is an upload still being written by object_store's local store
/// (`<key>#<digits>`, renamed into place when complete).
fn in_progress(name: &str) -> bool {
    name.split_once('#')
        .is_some_and(|(_, s)| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Copy every finished regular file under `src` to `root/rel_dir`, keeping their relative
/// paths; their entries, sorted by path.
pub fn copy_tree(src: &Path, root: &Path, rel_dir: &str) -> Result<Vec<FileEntry>> {
    let mut out = Vec::new();
    let mut stack = vec![(src.to_path_buf(), rel_dir.to_owned())];
    while let Some((dir, rel)) = stack.pop() {
        let target = root.join(relative(&rel)?);
        std::fs::create_dir_all(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        for item in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let item = item?;
            let name = item.file_name();
            let Some(name) = name.to_str() else {
                tracing::warn!(file = %item.path().display(), "skipped: the name is not UTF-8");
                continue;
            };
            let kind = item.file_type()?;
            let child = format!("{rel}/{name}");
            if kind.is_dir() {
                stack.push((item.path(), child));
            } else if kind.is_file() && !in_progress(name) {
                let (bytes, sha256) = copy_hashed(&item.path(), &target.join(name))?;
                out.push(FileEntry {
                    path: child,
                    bytes,
                    sha256,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Check that each file in `root` has the size and SHA-256 its entry records.
pub fn verify(root: &Path, files: &[FileEntry]) -> Result<()> {
    for f in files {
        let found = entry_of(root, &f.path)
            .with_context(|| format!("backup file {} is missing or unreadable", f.path))?;
        if found.sha256 != f.sha256 || found.bytes != f.bytes {
            bail!(
                "backup file {} does not match {MANIFEST} (sha256 {}, {} bytes; expected {}, {} bytes): the backup is damaged or was changed",
                f.path,
                found.sha256,
                found.bytes,
                f.sha256,
                f.bytes
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_backup() {
        assert!(relative("files/app/a.csv").is_ok());
        for bad in ["", "/etc/passwd", "../x", "files/../../x", "./x"] {
            assert!(relative(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn staging_files_are_not_copied_and_changes_are_caught() {
        let src = tempfile::tempdir().expect("tmp");
        let root = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(src.path().join("sub")).expect("mkdir");
        std::fs::write(src.path().join("a.txt"), b"hello").expect("write");
        std::fs::write(src.path().join("sub/b.txt"), b"there").expect("write");
        std::fs::write(src.path().join("c.csv#17"), b"partial").expect("write");
        let files = copy_tree(src.path(), root.path(), "files/app").expect("copied");
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["files/app/a.txt", "files/app/sub/b.txt"]);
        assert_eq!(
            files[0].sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        verify(root.path(), &files).expect("intact");
        std::fs::write(root.path().join("files/app/a.txt"), b"hellO").expect("tamper");
        let err = verify(root.path(), &files).expect_err("changed");
        assert!(format!("{err:#}").contains("files/app/a.txt"), "{err:#}");
    }
}
