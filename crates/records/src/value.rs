//! A typed field value, the unit passed from validation to the store.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use uuid::Uuid;

/// A validated value of one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL / JSON null.
    Null,
    /// text, email, url, enum.
    Text(String),
    /// int.
    Int(i64),
    /// float.
    Float(f64),
    /// bool.
    Bool(bool),
    /// timestamp (UTC).
    Timestamp(DateTime<Utc>),
    /// date.
    Date(NaiveDate),
    /// uuid, relation and record ids.
    Uuid(Uuid),
    /// json.
    Json(serde_json::Value),
}

/// The wire and SQLite text form of a timestamp: RFC 3339, milliseconds, `Z`.
///
/// Fixed width, so text order is time order in SQLite.
pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Value {
    /// The value as JSON, the way clients see it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Text(s) => J::String(s.clone()),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Bool(b) => J::Bool(*b),
            Value::Timestamp(t) => J::String(format_timestamp(t)),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::Uuid(u) => J::String(u.to_string()),
            Value::Json(v) => v.clone(),
        }
    }
}
