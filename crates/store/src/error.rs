//! The store's one error type; the HTTP layer maps it to responses in one place.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The collection is not in the manifest.
    #[error("unknown collection `{0}`")]
    UnknownCollection(String),
    /// A unique field or index already holds this value.
    #[error("a record with this {} already exists", fields.join(", "))]
    Conflict {
        /// The fields of the violated unique constraint (may be empty when unknown).
        fields: Vec<String>,
    },
    /// A relation names a record that does not exist.
    #[error("related record not found")]
    InvalidReference {
        /// Relation fields whose target is missing.
        fields: Vec<String>,
    },
    /// A step of a write unit touched no row (or more than one) where it had to touch
    /// exactly one; the unit was rolled back.
    #[error("a write unit's expectation failed ({0:?})")]
    Expectation(crate::Miss),
    /// A de-duplicated create found a recent equal record, this one; the unit was rolled
    /// back.
    #[error("an equal record exists")]
    Found(uuid::Uuid),
    /// The record is still referenced by a `restrict` relation.
    #[error("the record is still referenced by other records")]
    StillReferenced,
    /// The manifest changed in a way that would lose data.
    #[error("destructive schema change refused:\n  - {}\nWrite an explicit migration in the app's migrations/ folder (see docs/migrations.md).", .0.join("\n  - "))]
    Destructive(Vec<String>),
    /// A migration could not be planned or run.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database URL or options are wrong.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure (logged, never shown to clients).
    #[error("database error: {0}")]
    Database(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        if let rusqlite::Error::SqliteFailure(code, msg) = &e {
            let msg = msg.as_deref().unwrap_or_default();
            match code.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    // "UNIQUE constraint failed: users.email, users.name"
                    let fields = msg
                        .split_once(": ")
                        .map(|(_, cols)| {
                            cols.split(", ")
                                .filter_map(|c| c.split_once('.').map(|(_, f)| f.to_owned()))
                                .collect()
                        })
                        .unwrap_or_default();
                    return StoreError::Conflict { fields };
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                    return StoreError::InvalidReference { fields: Vec::new() }
                }
                ffi::SQLITE_CANTOPEN | ffi::SQLITE_NOTADB | ffi::SQLITE_IOERR => {
                    return StoreError::Unavailable(e.to_string())
                }
                _ => {}
            }
        }
        StoreError::Database(e.to_string())
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.as_db_error() {
            Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => StoreError::Conflict {
                fields: db
                    .constraint()
                    .map(crate::ddl::fields_of_unique_index)
                    .unwrap_or_default(),
            },
            Some(db) if db.code().code() == crate::dedupe::FOUND_SQLSTATE => db
                .detail()
                .and_then(|id| uuid::Uuid::parse_str(id).ok())
                .map_or_else(
                    || StoreError::Database("a dedupe guard gave no id".into()),
                    StoreError::Found,
                ),
            Some(db) if *db.code() == SqlState::FOREIGN_KEY_VIOLATION => {
                StoreError::InvalidReference { fields: Vec::new() }
            }
            // Class 08 (connection exception), 53 (insufficient resources: too many
            // connections) and 57 (operator intervention: the server is shutting down or
            // terminated this backend) mean the database is not there for us right now.
            Some(db)
                if ["08", "53", "57"]
                    .iter()
                    .any(|c| db.code().code().starts_with(c)) =>
            {
                StoreError::Unavailable(format!("{}: {}", db.code().code(), db.message()))
            }
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None if is_connection_failure(&e) => StoreError::Unavailable(e.to_string()),
            // A value that does not decode, a parameter that does not encode, a bad column:
            // our fault, not the database's absence.
            None => StoreError::Database(with_cause(&e)),
        }
    }
}

/// Whether a tokio-postgres error without a server error means the database cannot be
/// reached: the connection is closed, or a socket / connect error (an `std::io::Error`
/// cause). Encoding and protocol-parsing errors also carry an `io::Error`, but of kind
/// `InvalidInput` / `InvalidData` (e.g. a NUL in a query string), so those are not.
fn is_connection_failure(e: &tokio_postgres::Error) -> bool {
    use std::io::ErrorKind;
    if e.is_closed() {
        return true;
    }
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .is_some_and(|io| !matches!(io.kind(), ErrorKind::InvalidInput | ErrorKind::InvalidData))
}

/// The error with its cause ("error deserializing column 0" alone does not say why).
fn with_cause(e: &tokio_postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    /// Failing to get a connection (refused, timed out, not accepting) means the database
    /// is unavailable, whatever the server said.
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    /// The test database, or None (with a note) when PostgreSQL tests are not configured.
    fn pg_url() -> Option<String> {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(u) if !u.is_empty() => Some(u),
            _ => {
                assert!(
                    std::env::var("TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                    "TEST_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
                );
                eprintln!("note: PostgreSQL test skipped (set TEST_DATABASE_URL to run it)");
                None
            }
        }
    }

    #[test]
    fn a_client_side_error_is_a_database_error_not_unavailable() {
        // No server error, not closed, no io cause.
        let e = "port=notaport"
            .parse::<tokio_postgres::Config>()
            .expect_err("bad port");
        assert!(matches!(StoreError::from(e), StoreError::Database(_)));
    }

    #[tokio::test]
    async fn a_refused_connection_is_unavailable() {
        // Port 1 on loopback: nothing listens there, so the connect is refused.
        let e = tokio_postgres::connect("host=127.0.0.1 port=1 user=x", tokio_postgres::NoTls)
            .await
            .map(|_| ())
            .expect_err("refused");
        assert!(matches!(StoreError::from(e), StoreError::Unavailable(_)));
    }

    #[tokio::test]
    async fn a_decode_error_is_a_database_error_and_a_closed_connection_unavailable() {
        let Some(url) = pg_url() else { return };
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let task = tokio::spawn(conn);
        let row = client.query_one("SELECT 1::int4", &[]).await.expect("row");
        let e = row.try_get::<_, String>(0).expect_err("int4 is not text");
        let mapped = StoreError::from(e);
        assert!(matches!(mapped, StoreError::Database(_)), "{mapped:?}");

        task.abort();
        let _ = task.await;
        let e = client.simple_query("SELECT 1").await.expect_err("closed");
        assert!(matches!(StoreError::from(e), StoreError::Unavailable(_)));
    }

    #[tokio::test]
    async fn a_terminated_backend_is_unavailable() {
        let Some(url) = pg_url() else { return };
        let connect = || async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(conn);
            client
        };
        let (victim, admin) = (connect().await, connect().await);
        let pid: i32 = victim
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .expect("pid")
            .get(0);
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .await
            .expect("terminate");
        // Depending on timing the server's FATAL 57P01 arrives, or the socket is closed.
        let e = victim
            .simple_query("SELECT 1")
            .await
            .expect_err("terminated");
        let mapped = StoreError::from(e);
        assert!(matches!(mapped, StoreError::Unavailable(_)), "{mapped:?}");
    }
}
