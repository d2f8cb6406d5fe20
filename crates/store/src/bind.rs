//! Record values to sea-query values, per dialect.
//!
//! SQLite keeps UUIDs, timestamps, dates and JSON as text (fixed formats, so text order is
//! value order); PostgreSQL gets native types. A NULL is typed by its column, because
//! PostgreSQL checks parameter types even for NULL.

use plinth_manifest::FieldType;
use plinth_records::{format_timestamp, Value};
use sea_query::Value as Sv;

use crate::Dialect;

/// Convert one value for a column of `kind`.
pub(crate) fn to_sea(v: &Value, kind: FieldType, d: Dialect) -> Sv {
    match (v, d) {
        (Value::Null, _) => null_of(kind, d),
        (Value::Text(s), _) => Sv::String(Some(s.clone())),
        (Value::Int(i), _) => Sv::BigInt(Some(*i)),
        (Value::Float(f), _) => Sv::Double(Some(*f)),
        (Value::Bool(b), _) => Sv::Bool(Some(*b)),
        (Value::Timestamp(t), Dialect::Sqlite) => Sv::String(Some(format_timestamp(t))),
        (Value::Timestamp(t), Dialect::Postgres) => Sv::ChronoDateTimeUtc(Some(*t)),
        (Value::Date(x), Dialect::Sqlite) => Sv::String(Some(x.format("%Y-%m-%d").to_string())),
        (Value::Date(x), Dialect::Postgres) => Sv::ChronoDate(Some(*x)),
        (Value::Uuid(u), Dialect::Sqlite) => Sv::String(Some(u.to_string())),
        (Value::Uuid(u), Dialect::Postgres) => Sv::Uuid(Some(*u)),
        (Value::Json(j), Dialect::Sqlite) => Sv::String(Some(json_text(j))),
        (Value::Json(j), Dialect::Postgres) => Sv::Json(Some(Box::new(j.clone()))),
    }
}

/// A JSON value's text. Written straight into a byte buffer: `Display` (`to_string`) goes
/// through the formatter for every token, which showed in profiles of writes with json
/// fields (a create's audit entry holds the whole record).
pub(crate) fn json_text(j: &serde_json::Value) -> String {
    serde_json::to_string(j).unwrap_or_else(|_| j.to_string())
}

fn null_of(kind: FieldType, d: Dialect) -> Sv {
    match (kind, d) {
        (FieldType::Int, _) => Sv::BigInt(None),
        (FieldType::Float, _) => Sv::Double(None),
        (FieldType::Bool, _) => Sv::Bool(None),
        (_, Dialect::Sqlite) => Sv::String(None),
        (FieldType::Timestamp, Dialect::Postgres) => Sv::ChronoDateTimeUtc(None),
        (FieldType::Date, Dialect::Postgres) => Sv::ChronoDate(None),
        (FieldType::Uuid | FieldType::Relation, Dialect::Postgres) => Sv::Uuid(None),
        (FieldType::Json, Dialect::Postgres) => Sv::Json(None),
        (_, Dialect::Postgres) => Sv::String(None),
    }
}
