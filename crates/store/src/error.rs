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
            Some(db) if *db.code() == SqlState::FOREIGN_KEY_VIOLATION => {
                StoreError::InvalidReference { fields: Vec::new() }
            }
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None if e.is_closed() => StoreError::Unavailable(e.to_string()),
            None => StoreError::Unavailable(e.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    /// Failing to get a connection (refused, timed out, not accepting) means the database
    /// is unavailable, whatever the server said.
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}
