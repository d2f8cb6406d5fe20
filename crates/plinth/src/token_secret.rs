//! An app's token secret: configured, or generated on first start and kept in the data
//! directory, so tokens survive restarts. Never logged.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use secrecy::SecretString;

use crate::apps::AppSpec;

/// The app's configured secret, or the one kept in its file (made now if there is none).
pub(crate) fn token_secret(spec: &AppSpec) -> Result<SecretString> {
    if let Some(s) = &spec.token_secret {
        return Ok(s.clone());
    }
    secret_in_file(&spec.token_secret_file, &spec.name)
}

/// The secret kept at `path`, generated and written first if the file does not exist. Nodes
/// that share a data directory and start together all end up with the first one written.
fn secret_in_file(path: &Path, app: &str) -> Result<SecretString> {
    if !path.exists() {
        let made = write_once(path, &plinth_auth::TokenKeys::generate_secret())
            .with_context(|| format!("cannot write {}", path.display()))?;
        if made {
            tracing::info!(app, file = %path.display(), "generated a token secret");
        }
    }
    let s =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let s = s.trim();
    if s.is_empty() {
        bail!(
            "{} is empty: remove it to have a new secret generated",
            path.display()
        );
    }
    Ok(SecretString::from(s.to_owned()))
}

/// Create `path` holding `contents` (owner read/write only), unless it exists; whether this
/// call made it. The file appears whole or not at all: it is written under a temporary name
/// and linked into place without replacing, so a reader never sees it half written.
fn write_once(path: &Path, contents: &str) -> std::io::Result<bool> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // Temporary files are made owner-only on Unix.
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        // Another node sharing the data directory made it first: theirs is the secret.
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e.error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_secret_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nested/app.token-secret");
        let first = secret_in_file(&path, "app").expect("made");
        assert!(first.expose_secret().len() >= 32);
        let again = secret_in_file(&path, "app").expect("read");
        assert_eq!(first.expose_secret(), again.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn nodes_starting_together_share_one_secret() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("app.token-secret");
            let secrets: Vec<String> = std::thread::scope(|s| {
                let started: Vec<_> = (0..8)
                    .map(|_| {
                        s.spawn(|| {
                            secret_in_file(&path, "app").map(|k| k.expose_secret().to_owned())
                        })
                    })
                    .collect();
                started
                    .into_iter()
                    .map(|t| t.join().expect("thread").expect("secret"))
                    .collect()
            });
            assert!(!secrets[0].is_empty());
            assert!(secrets.iter().all(|s| s == &secrets[0]), "{secrets:?}");
            // No temporary file is left behind.
            assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
        }
    }

    #[test]
    fn an_empty_secret_file_is_an_error_not_an_empty_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.token-secret");
        std::fs::write(&path, "\n").expect("write");
        let err = secret_in_file(&path, "app").expect_err("empty");
        assert!(err.to_string().contains("is empty"), "{err}");
    }
}
