//! What `plinth backup` and `plinth restore` need of a PostgreSQL database around `pg_dump`
//! and `pg_restore`: an app schema's migration version, whether a node serves it, the lock
//! nodes take before changing it, renaming and dropping it, and the libpq environment that
//! tells the tools where to connect without the password on their command line.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::{ChannelBinding, Host, SslMode, TargetSessionAttrs};
use tokio_postgres::{Client, NoTls};

use crate::StoreError;

/// One session on a PostgreSQL database, for operator work on app schemas. Schema names
/// given to it must be checked identifiers (`DbUrl::parse` checks configured ones).
pub struct PgAdmin {
    client: Client,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for PgAdmin {
    fn drop(&mut self) {
        // Ends the session, and with it any advisory lock it holds.
        self.driver.abort();
    }
}

fn config(url: &SecretString) -> Result<tokio_postgres::Config, StoreError> {
    tokio_postgres::Config::from_str(url.expose_secret())
        .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))
}

fn checked(schema: &str) -> Result<&str, StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(schema)
    } else {
        Err(StoreError::Config(format!(
            "invalid schema name `{schema}`"
        )))
    }
}

impl PgAdmin {
    /// Connect to the database `url` names.
    pub async fn connect(url: &SecretString) -> Result<Self, StoreError> {
        let mut cfg = config(url)?;
        cfg.options("-c client_min_messages=warning");
        cfg.connect_timeout(Duration::from_secs(5));
        let (client, conn) = cfg.connect(NoTls).await?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(PgAdmin { client, driver })
    }

    /// Whether the schema exists.
    pub async fn schema_exists(&self, schema: &str) -> Result<bool, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                &[&schema],
            )
            .await?;
        Ok(row.get::<_, i64>(0) > 0)
    }

    /// Whether the schema holds any table, view or sequence.
    pub async fn schema_has_relations(&self, schema: &str) -> Result<bool, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S')",
                &[&schema],
            )
            .await?;
        Ok(row.get::<_, i64>(0) > 0)
    }

    /// The version of the last migration applied to the schema (None before the first).
    pub async fn migration_version(&self, schema: &str) -> Result<Option<i64>, StoreError> {
        let table = format!("\"{}\".{}", checked(schema)?, crate::migrate::TABLE);
        let found = self
            .client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await?;
        if !found.get::<_, bool>(0) {
            return Ok(None);
        }
        let row = self
            .client
            .query_one(&format!("SELECT max(version) FROM {table}"), &[])
            .await?;
        Ok(row.get(0))
    }

    /// How many other sessions listen for the schema's events: every `plinth serve` or
    /// `plinth worker` on it does, unless events cross through NATS. Seen only for sessions
    /// of the same role (or with `pg_read_all_stats`).
    pub async fn listeners(&self, schema: &str) -> Result<i64, StoreError> {
        let listen = format!("LISTEN \"{}\"", crate::notify::channel_of(checked(schema)?));
        let row = self
            .client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                 AND datname = current_database() AND query = $1",
                &[&listen],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Take the lock a node takes before it creates or migrates the schema, held until this
    /// session ends: a node starting meanwhile waits instead of migrating a half-restored
    /// schema. Fails rather than wait if someone holds it.
    pub async fn lock_schema(&self, schema: &str) -> Result<(), StoreError> {
        let key = crate::postgres::migration_lock_key(checked(schema)?);
        let row = self
            .client
            .query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])
            .await?;
        if row.get::<_, bool>(0) {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "schema `{schema}` is being migrated by a running node"
            )))
        }
    }

    /// Rename a schema.
    pub async fn rename_schema(&self, from: &str, to: &str) -> Result<(), StoreError> {
        let sql = format!(
            "ALTER SCHEMA \"{}\" RENAME TO \"{}\"",
            checked(from)?,
            checked(to)?
        );
        Ok(self.client.batch_execute(&sql).await?)
    }

    /// Drop a schema and everything in it.
    pub async fn drop_schema(&self, schema: &str) -> Result<(), StoreError> {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", checked(schema)?);
        Ok(self.client.batch_execute(&sql).await?)
    }
}

/// The libpq environment variables that make `pg_dump` or `pg_restore` connect where `url`
/// points, password included, so none of it is on their command line (where `ps` shows
/// it). `None` means "unset it" (the URL leaves it to libpq's default).
pub fn libpq_env(
    url: &SecretString,
) -> Result<Vec<(&'static str, Option<SecretString>)>, StoreError> {
    let cfg = config(url)?;
    let joined = |items: Vec<String>| (!items.is_empty()).then(|| items.join(","));
    let hosts = cfg
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let addrs = cfg.get_hostaddrs().iter().map(|a| a.to_string()).collect();
    let ports = cfg.get_ports().iter().map(|p| p.to_string()).collect();
    let password = match cfg.get_password() {
        Some(p) => Some(
            String::from_utf8(p.to_vec())
                .map_err(|_| StoreError::Config("the PostgreSQL password is not UTF-8".into()))?,
        ),
        None => None,
    };
    let ssl = match cfg.get_ssl_mode() {
        SslMode::Disable => "disable",
        SslMode::Require => "require",
        _ => "prefer",
    };
    let session = match cfg.get_target_session_attrs() {
        TargetSessionAttrs::ReadWrite => "read-write",
        TargetSessionAttrs::ReadOnly => "read-only",
        _ => "any",
    };
    let binding = match cfg.get_channel_binding() {
        ChannelBinding::Disable => "disable",
        ChannelBinding::Require => "require",
        _ => "prefer",
    };
    let vars = [
        ("PGHOST", joined(hosts)),
        ("PGHOSTADDR", joined(addrs)),
        ("PGPORT", joined(ports)),
        ("PGUSER", cfg.get_user().map(str::to_owned)),
        ("PGPASSWORD", password),
        ("PGDATABASE", cfg.get_dbname().map(str::to_owned)),
        ("PGOPTIONS", cfg.get_options().map(str::to_owned)),
        ("PGAPPNAME", cfg.get_application_name().map(str::to_owned)),
        ("PGSSLMODE", Some(ssl.to_owned())),
        ("PGTARGETSESSIONATTRS", Some(session.to_owned())),
        ("PGCHANNELBINDING", Some(binding.to_owned())),
        (
            "PGCONNECT_TIMEOUT",
            cfg.get_connect_timeout()
                .map(|t| t.as_secs().max(2).to_string()),
        ),
        // A service file entry would override what the URL says.
        ("PGSERVICE", None),
    ];
    Ok(vars
        .into_iter()
        .map(|(k, v)| (k, v.map(SecretString::from)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(vars: &[(&str, Option<SecretString>)], key: &str) -> Option<String> {
        vars.iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_ref().map(|s| s.expose_secret().to_owned()))
    }

    #[test]
    fn a_url_becomes_libpq_variables() {
        let url = SecretString::from(
            "postgres://app:s3cr%40t@db.example:6543/prod?sslmode=require&application_name=x",
        );
        let vars = libpq_env(&url).expect("parsed");
        assert_eq!(get(&vars, "PGHOST").as_deref(), Some("db.example"));
        assert_eq!(get(&vars, "PGPORT").as_deref(), Some("6543"));
        assert_eq!(get(&vars, "PGUSER").as_deref(), Some("app"));
        assert_eq!(get(&vars, "PGPASSWORD").as_deref(), Some("s3cr@t"));
        assert_eq!(get(&vars, "PGDATABASE").as_deref(), Some("prod"));
        assert_eq!(get(&vars, "PGSSLMODE").as_deref(), Some("require"));
        assert_eq!(get(&vars, "PGAPPNAME").as_deref(), Some("x"));
        assert!(vars.iter().any(|(k, v)| *k == "PGSERVICE" && v.is_none()));
        assert!(libpq_env(&SecretString::from("postgres://h/db?nonsense=1")).is_err());
    }

    #[test]
    fn schema_names_are_checked() {
        assert!(checked("app_1").is_ok());
        assert!(checked("a\"; DROP").is_err());
        assert!(checked("").is_err());
    }
}
