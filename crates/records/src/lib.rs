//! Records: typed values, validation of client input against a manifest, and list queries.
//!
//! Input is parsed here, at the boundary, into [`Value`]s the store can bind; nothing in
//! this crate knows HTTP or SQL.

mod filter;
mod list;
mod record;
mod rule;
mod validate;
mod value;

pub use filter::{Filter, Rhs};
pub use list::{ListQuery, SortKey, TotalMode, DEFAULT_LIMIT, MAX_LIMIT};
pub use plinth_rules::CmpOp;
pub use record::{Column, Record, Shape};
pub use validate::{Mode, Validator};
pub use value::{format_timestamp, Value};

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// Field (or query parameter) name; empty for the body as a whole.
    pub field: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Input that does not fit the manifest; every bad field is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("validation failed")]
pub struct ValidationError {
    /// One entry per bad field.
    pub details: Vec<FieldError>,
}

/// A record's column values, validated, in declaration order.
pub type Row = Vec<(String, Value)>;
