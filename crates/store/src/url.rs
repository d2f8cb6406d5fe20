//! Database URLs: `sqlite://path/to/file.db` or `postgres://user@host/db`.

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

use crate::StoreError;

/// A parsed database location. Postgres URLs may carry a password, so they stay secret.
#[derive(Clone)]
pub enum DbUrl {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server and the schema the app's tables live in.
    Postgres {
        /// The connection URL.
        url: SecretString,
        /// Schema for the app's tables (created if missing).
        schema: String,
    },
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            DbUrl::Postgres { schema, .. } => write!(f, "postgres://[redacted] (schema {schema})"),
        }
    }
}

impl DbUrl {
    /// Parse a URL; `schema` is used for PostgreSQL (an app's name by default).
    pub fn parse(url: &SecretString, schema: &str) -> Result<Self, StoreError> {
        let raw = url.expose_secret();
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Config("sqlite URL names no file".into()));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let valid = !schema.is_empty()
                && schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(StoreError::Config(format!(
                    "invalid schema name `{schema}`"
                )));
            }
            return Ok(DbUrl::Postgres {
                url: url.clone(),
                schema: schema.to_owned(),
            });
        }
        Err(StoreError::Config(
            "database URL must start with sqlite:// or postgres://".into(),
        ))
    }
}
