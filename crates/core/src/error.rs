//! The core's one error type; the HTTP layer maps it to responses in one place.

use plinth_records::ValidationError;
use plinth_store::StoreError;

/// What an operation on an app can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Input does not fit (every bad field named, in wire names).
    #[error("validation failed")]
    Validation(#[from] ValidationError),
    /// No or bad credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The operation is never allowed on this collection (append-only records).
    #[error("{0}")]
    NotAllowed(String),
    /// No such record.
    #[error("{0}")]
    NotFound(String),
    /// The record is not in the state the operation needs (a lost race, a guard).
    #[error("{0}")]
    Conflict(String),
    /// A unique field already holds this value (wire names of the fields).
    #[error("a record with this {} already exists", fields.join(", "))]
    Duplicate {
        /// The fields of the violated unique constraint (may be empty when unknown).
        fields: Vec<String>,
    },
    /// Relation fields (wire names) that point at no record.
    #[error("related record not found")]
    InvalidReference {
        /// The fields whose target is missing.
        fields: Vec<String>,
    },
    /// The record is still referenced by a `restrict` relation.
    #[error("the record is still referenced by other records")]
    StillReferenced,
    /// Too many requests from this client in the current window.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the window ends (`Retry-After`).
        retry_after_secs: u64,
    },
    /// The database failed or is unreachable.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Expectation(plinth_store::Miss::NotFound) => {
                CoreError::NotFound("Record not found".into())
            }
            StoreError::Expectation(plinth_store::Miss::Conflict) => {
                CoreError::Conflict("The record changed meanwhile".into())
            }
            StoreError::StillReferenced => CoreError::StillReferenced,
            other => CoreError::Store(other),
        }
    }
}
