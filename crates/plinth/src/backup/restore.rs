//! `plinth restore --from DIR [--app NAME] [--force]`: check the backup against its manifest
//! and every target before changing anything, then put each app's database and files back.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use plinth_store::{DbUrl, PgAdmin};
use secrecy::SecretString;

use super::archive::{self, AppBackup, Backend, BackupManifest};
use super::{files_dir, pg};
use crate::apps::{resolve, AppSpec};
use crate::config::Config;

/// Where one app goes back to, checked and (on PostgreSQL) locked.
struct Plan<'a> {
    name: &'a str,
    part: &'a AppBackup,
    db: Db,
    /// The app's local files folder and the backup's folder of them; None to leave files be.
    files: Option<(PathBuf, String)>,
}

enum Db {
    Sqlite(PathBuf),
    Postgres(Box<PgTarget>),
}

struct PgTarget {
    url: SecretString,
    /// The schema the dump recreates.
    from: String,
    /// The app's configured schema.
    target: String,
    /// Where the existing target schema waits until the restore has succeeded.
    aside: Option<String>,
    /// Holds the target's migration lock until the restore is done.
    admin: PgAdmin,
}

/// `plinth restore`: every app of the backup (or the one named) into its configured place.
/// Refuses, before changing anything, a backup whose files do not match their checksums, a
/// target with data (unless `force`), and a target a running server has open.
pub async fn restore(config: &Config, from: &Path, only: Option<&str>, force: bool) -> Result<()> {
    let manifest = BackupManifest::read(from)?;
    let names: Vec<&String> = match only {
        Some(n) => match manifest.apps.get_key_value(n) {
            Some((name, _)) => vec![name],
            None => bail!(
                "the backup holds no app `{n}` (it holds: {})",
                manifest.apps.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        },
        None => manifest.apps.keys().collect(),
    };
    let specs = resolve(config)?;
    let mut plans = Vec::new();
    for name in names {
        let Some(part) = manifest.apps.get(name) else {
            continue;
        };
        let spec = specs.iter().find(|s| s.name == *name).with_context(|| {
            format!("app `{name}` is in the backup but not enabled here: enable it, or pick others with --app")
        })?;
        archive::verify(from, &part.files).with_context(|| format!("app `{name}`"))?;
        let plan = plan(config, spec, part, from, force)
            .await
            .with_context(|| format!("app `{name}`: not restored"))?;
        plans.push(plan);
    }
    for plan in plans {
        let name = plan.name;
        apply(plan, from)
            .await
            .with_context(|| format!("app `{name}`: restore failed"))?;
    }
    Ok(())
}

fn non_empty_dir(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Check that the app can go back where it is configured, without changing anything.
async fn plan<'a>(
    config: &Config,
    spec: &'a AppSpec,
    part: &'a AppBackup,
    from: &Path,
    force: bool,
) -> Result<Plan<'a>> {
    let db = match (&spec.store.url, part.backend) {
        (DbUrl::Sqlite(target), Backend::Sqlite) => {
            if target.exists() {
                if plinth_store::sqlite_in_use(target)? {
                    bail!(
                        "{} is open in another process (a running plinth serve or worker?): stop it first",
                        target.display()
                    );
                }
                let len = std::fs::metadata(target)?.len();
                if len > 0 && !force {
                    bail!(
                        "{} holds a database: restoring replaces it, which needs --force",
                        target.display()
                    );
                }
            }
            Db::Sqlite(target.clone())
        }
        (
            DbUrl::Postgres {
                url,
                schema: target,
            },
            Backend::Postgres,
        ) => {
            let Some(from_schema) = part.schema.clone() else {
                bail!("the backup names no schema for this app");
            };
            pg::check_restore_tool(&from_schema, &from.join(&part.file)).await?;
            let admin = PgAdmin::connect(url).await?;
            let serving = admin.listeners(target).await?;
            if serving > 0 {
                bail!("{serving} plinth process(es) serve schema `{target}` (they listen for its events): stop them first");
            }
            admin.lock_schema(target).await?;
            let exists = admin.schema_exists(target).await?;
            if exists && !force && admin.schema_has_relations(target).await? {
                bail!("schema `{target}` holds tables: restoring replaces it, which needs --force");
            }
            if from_schema != *target && admin.schema_exists(&from_schema).await? {
                bail!(
                    "the dump recreates schema `{from_schema}` before it is renamed to `{target}`, and \
                     `{from_schema}` exists in this database: restore into a database without it, or \
                     configure schema `{from_schema}` for the app"
                );
            }
            let aside = if exists {
                let mut a = format!("{target}_pre_restore");
                a.truncate(63);
                if admin.schema_exists(&a).await? {
                    bail!("schema `{a}` exists (left by an interrupted restore?): drop or rename it first");
                }
                Some(a)
            } else {
                None
            };
            Db::Postgres(Box::new(PgTarget {
                url: url.clone(),
                from: from_schema,
                target: target.clone(),
                aside,
                admin,
            }))
        }
        (_, backend) => bail!(
            "the backup is of a {backend:?} database and the app is configured on another kind; \
             restore into the same kind of database"
        ),
    };
    let files = match (&part.files_dir, files_dir(config, &spec.name)?) {
        (Some(rel), Some(dir)) => {
            if !force && non_empty_dir(&dir)? {
                bail!(
                    "{} holds files: restoring replaces them, which needs --force",
                    dir.display()
                );
            }
            Some((dir, rel.clone()))
        }
        (Some(_), None) => {
            println!(
                "{}: stored files not restored: the app keeps them in object storage",
                spec.name
            );
            None
        }
        (None, _) => None,
    };
    Ok(Plan {
        name: &spec.name,
        part,
        db,
        files,
    })
}

/// `path` with `suffix` appended to its file name (`app.db` → `app.db-wal`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Put the snapshot in place: copied beside the target and checked, then the target's stale
/// WAL, shared memory and journal removed (SQLite would otherwise apply them to the new
/// file), then renamed over it.
fn put_sqlite(snapshot: &Path, target: &Path) -> Result<()> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = with_suffix(target, ".restoring");
    remove_if_present(&tmp)?;
    archive::copy_hashed(snapshot, &tmp)?;
    if let Err(e) = plinth_store::sqlite_check(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).context("the snapshot is not a sound SQLite database");
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        remove_if_present(&with_suffix(target, suffix))?;
    }
    std::fs::rename(&tmp, target)
        .with_context(|| format!("cannot move the snapshot to {}", target.display()))
}

async fn apply(plan: Plan<'_>, from: &Path) -> Result<()> {
    let snapshot = from.join(archive::relative(&plan.part.file)?);
    let (place, version) = match plan.db {
        Db::Sqlite(target) => {
            put_sqlite(&snapshot, &target)?;
            let version = plinth_store::sqlite_migration_version(&target)?;
            (target.display().to_string(), version)
        }
        Db::Postgres(pg) => {
            let PgTarget {
                url,
                from: from_schema,
                target,
                aside,
                admin,
            } = *pg;
            if let Some(a) = &aside {
                admin.rename_schema(&target, a).await?;
            }
            let restored = async {
                pg::restore(&url, &snapshot, &from_schema).await?;
                if from_schema != target {
                    admin.rename_schema(&from_schema, &target).await?;
                }
                anyhow::Ok(())
            }
            .await;
            if let Err(e) = restored {
                // pg_restore ran in one transaction, so only a failed rename leaves a schema.
                if from_schema != target {
                    let _ = admin.drop_schema(&from_schema).await;
                }
                if let Some(a) = &aside {
                    admin
                        .rename_schema(a, &target)
                        .await
                        .with_context(|| format!("{e:#}; and the old schema is left as `{a}`"))?;
                }
                return Err(e);
            }
            if let Some(a) = &aside {
                admin.drop_schema(a).await?;
            }
            let version = admin.migration_version(&target).await?;
            (format!("schema `{target}`"), version)
        }
    };
    let mut stored = 0;
    if let Some((dir, rel)) = &plan.files {
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let prefix = format!("{rel}/");
        for f in &plan.part.files {
            let Some(inner) = f.path.strip_prefix(&prefix) else {
                continue;
            };
            let dest = dir.join(archive::relative(inner)?);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            archive::copy_hashed(&from.join(archive::relative(&f.path)?), &dest)?;
            stored += 1;
        }
    }
    println!(
        "{}: restored {} into {place} (migration {}), {stored} stored files",
        plan.name,
        plan.part.file,
        version.map_or_else(|| "none".to_owned(), |v| v.to_string()),
    );
    Ok(())
}
