//! `pg_dump` and `pg_restore`, run with the database URL in their environment (libpq's
//! `PG*` variables), never on their command line.

use std::path::Path;
use std::process::{Command, Output};

use anyhow::{anyhow, bail, Context, Result};
use secrecy::{ExposeSecret, SecretString};

/// A PostgreSQL client tool pointed at `url` through its environment.
fn tool(name: &str, url: &SecretString) -> Result<Command> {
    let mut cmd = Command::new(name);
    for (key, value) in plinth_store::libpq_env(url)? {
        match value {
            Some(v) => cmd.env(key, v.expose_secret()),
            None => cmd.env_remove(key),
        };
    }
    Ok(cmd)
}

/// Run `cmd` off the async threads; `missing` explains what to do when the tool is not
/// installed.
async fn run(mut cmd: Command, name: &'static str, missing: String) -> Result<()> {
    let out: std::io::Result<Output> = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .map_err(|e| anyhow!("{name} did not run: {e}"))?;
    let out = match out {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{missing}"),
        Err(e) => return Err(e).with_context(|| format!("cannot run {name}")),
    };
    if !out.status.success() {
        // libpq's messages name the host and user, never the password.
        bail!(
            "{name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Dump `schema` into the new file `dest` (custom format): one consistent snapshot, taken
/// by `pg_dump` in one repeatable-read transaction while the apps go on writing.
pub async fn dump(url: &SecretString, schema: &str, dest: &Path) -> Result<()> {
    let mut cmd = tool("pg_dump", url)?;
    cmd.arg(format!("--schema={schema}"))
        .arg("--format=custom")
        .arg(format!("--file={}", dest.display()));
    let missing = format!(
        "pg_dump is not on PATH: install the PostgreSQL client tools (the server's major \
         version or newer) and run plinth backup again, or dump the schema yourself with\n  \
         pg_dump --dbname=\"$DATABASE_URL\" --schema={schema} --format=custom --file={}",
        dest.display()
    );
    run(cmd, "pg_dump", missing).await
}

fn restore_missing(schema: &str, file: &Path) -> String {
    format!(
        "pg_restore is not on PATH: install the PostgreSQL client tools (the server's major \
         version or newer) and run plinth restore again, or restore the dump yourself (schema \
         `{schema}` must not exist) with\n  pg_restore --dbname=\"$DATABASE_URL\" \
         --single-transaction --exit-on-error --no-owner --no-privileges {}",
        file.display()
    )
}

/// Fail, saying what to do, unless `pg_restore` can be run (checked before anything is
/// changed).
pub async fn check_restore_tool(schema: &str, file: &Path) -> Result<()> {
    let mut cmd = Command::new("pg_restore");
    cmd.arg("--version");
    run(cmd, "pg_restore", restore_missing(schema, file)).await
}

/// Restore the dump `file` into the database, in one transaction: it recreates the schema
/// it was dumped from, which must not exist.
pub async fn restore(url: &SecretString, file: &Path, schema: &str) -> Result<()> {
    let mut cmd = tool("pg_restore", url)?;
    // An empty --dbname makes pg_restore connect (to PGDATABASE) instead of printing SQL.
    cmd.args([
        "--dbname=",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
    ])
    .arg(file);
    run(cmd, "pg_restore", restore_missing(schema, file)).await
}
