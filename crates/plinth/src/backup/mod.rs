//! `plinth backup` and `plinth restore` (docs/operations.md): each app's database as a
//! consistent snapshot taken while the server goes on serving writes, the app's stored
//! files, and a `manifest.json` recording every file's SHA-256; and putting them back.
//!
//! A backup folder holds `<app>.db` (SQLite, one self-contained file) or `<app>.pgdump`
//! (`pg_dump --format=custom` of the app's schema), `files/<app>/...`, and `manifest.json`,
//! written last: a folder without it is an unfinished backup.

mod archive;
mod pg;
mod restore;

pub use archive::{AppBackup, Backend, BackupManifest, FileEntry, FORMAT, MANIFEST};
pub use restore::restore;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plinth_store::{DbUrl, PgAdmin};

use crate::apps::{select, AppSpec};
use crate::config::Config;

/// The local folder of an app's stored files (where the server keeps them); None when
/// they are kept in object storage.
fn files_dir(config: &Config, app: &str) -> Result<Option<PathBuf>> {
    plinth_files::local_dir(&crate::serve::files_url_for(config, app), &config.data_dir)
        .with_context(|| format!("app `{app}`: file storage"))
}

/// `plinth backup [--app NAME] --out DIR`: snapshot each app into `out` (created; must be
/// empty), then write the manifest. A failed backup leaves `out` empty.
pub async fn backup(config: &Config, only: Option<&str>, out: &Path) -> Result<()> {
    let specs = select(config, only)?;
    prepare(out)?;
    let written = write(config, &specs, out).await;
    if written.is_err() {
        // Everything in `out` is this run's: it was new or empty.
        if let Ok(entries) = std::fs::read_dir(out) {
            for e in entries.flatten() {
                let p = e.path();
                let _ = if p.is_dir() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
            }
        }
    }
    written?;
    println!("backup written to {}", out.display());
    Ok(())
}

async fn write(config: &Config, specs: &[AppSpec], out: &Path) -> Result<()> {
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut apps = BTreeMap::new();
    for spec in specs {
        let part = backup_app(config, spec, out)
            .await
            .with_context(|| format!("app `{}`", spec.name))?;
        let stored = match &part.files_dir {
            Some(_) => format!("{} stored files", part.files.len() - 1),
            None => "stored files not copied (object storage: back them up with its tools)".into(),
        };
        println!(
            "{}: {} ({} bytes, migration {}), {stored}",
            spec.name,
            part.file,
            part.files.first().map_or(0, |f| f.bytes),
            part.migration_version
                .map_or_else(|| "none".to_owned(), |v| v.to_string()),
        );
        apps.insert(spec.name.clone(), part);
    }
    BackupManifest {
        format: FORMAT,
        plinth_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at,
        apps,
    }
    .write(out)
}

/// Make `out`, or check an existing one is empty: a backup never mixes with other files.
fn prepare(out: &Path) -> Result<()> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!("{} is not empty: back up into a new folder", out.display());
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", out.display())),
    }
}

/// One app's snapshot and stored files, copied into `out`. The files are copied after the
/// database snapshot, so every file a snapshot's record names is there (unless deleted
/// meanwhile); files newer than the snapshot may be too.
async fn backup_app(config: &Config, spec: &AppSpec, out: &Path) -> Result<AppBackup> {
    let name = &spec.name;
    let (backend, file, schema, migration_version) = match &spec.store.url {
        DbUrl::Sqlite(path) => {
            let file = format!("{name}.db");
            let (src, dest) = (path.clone(), out.join(&file));
            let version =
                tokio::task::spawn_blocking(move || plinth_store::sqlite_snapshot(&src, &dest))
                    .await??;
            (Backend::Sqlite, file, None, version)
        }
        DbUrl::Postgres { url, schema } => {
            let file = format!("{name}.pgdump");
            let admin = PgAdmin::connect(url).await?;
            if !admin.schema_exists(schema).await? {
                bail!("schema `{schema}` does not exist in the configured database");
            }
            let before = admin.migration_version(schema).await?;
            pg::dump(url, schema, &out.join(&file)).await?;
            let after = admin.migration_version(schema).await?;
            if before != after {
                bail!("a migration ran during the dump ({before:?} then {after:?}): back up again");
            }
            (Backend::Postgres, file, Some(schema.clone()), after)
        }
    };
    let mut files = vec![archive::entry_of(out, &file)?];
    let files_dir = match files_dir(config, name)? {
        Some(dir) => {
            let rel = format!("files/{name}");
            if dir.is_dir() {
                files.extend(archive::copy_tree(&dir, out, &rel)?);
            }
            Some(rel)
        }
        None => None,
    };
    Ok(AppBackup {
        backend,
        file,
        schema,
        migration_version,
        files_dir,
        files,
    })
}
