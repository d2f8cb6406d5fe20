//! Validation of client input against a collection's fields.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use plinth_manifest::{Collection, Field, FieldType, Manifest};
use regex::Regex;
use serde_json::Value as J;
use uuid::Uuid;

use crate::{FieldError, Row, Shape, ValidationError, Value};

/// Whether input creates a record (defaults, required) or patches one (partial).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Full record: required fields must be present, defaults fill the rest.
    Create,
    /// Partial update: only the fields given.
    Update,
}

/// Checks input against one app's manifest, in the app's wire names; holds the compiled
/// field patterns and each collection's shape (stored and wire names).
#[derive(Debug, Default)]
pub struct Validator {
    /// Compiled patterns by collection, then field (looked up without allocating).
    patterns: HashMap<String, HashMap<String, Regex>>,
    shapes: HashMap<String, Arc<Shape>>,
    /// The collections, for relation paths (`request_id.created_by`).
    collections: HashMap<String, Collection>,
}

const SYSTEM_FIELDS: &[&str] = &["id", "created_at", "updated_at"];

/// The wire name of stored field `field` in `shape` (without a shape, as is).
fn wire_name<'a>(shape: Option<&'a Arc<Shape>>, field: &'a str) -> &'a str {
    shape.map_or(field, |s| s.wire(field))
}

/// The stored name of the visible field called `wire` in `shape` (without a shape, as is).
fn stored_name<'a>(shape: Option<&'a Arc<Shape>>, wire: &'a str) -> Option<&'a str> {
    match shape {
        Some(s) => s.by_wire(wire).map(|c| c.name.as_str()),
        None => Some(wire),
    }
}

impl Validator {
    /// Compile every field pattern of the manifest once.
    pub fn new(manifest: &Manifest) -> Self {
        let mut patterns: HashMap<String, HashMap<String, Regex>> = HashMap::new();
        let mut shapes = HashMap::new();
        for (cname, coll) in &manifest.collections {
            shapes.insert(cname.clone(), Arc::new(Shape::of(manifest, coll)));
            for (fname, field) in &coll.fields {
                // Patterns were checked when the manifest was parsed; a bad one is skipped.
                if let Some(re) = field.pattern.as_deref().and_then(|p| Regex::new(p).ok()) {
                    patterns
                        .entry(cname.clone())
                        .or_default()
                        .insert(fname.clone(), re);
                }
            }
        }
        let collections = manifest
            .collections
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect();
        Validator {
            patterns,
            shapes,
            collections,
        }
    }

    /// A collection by name.
    pub fn collection(&self, cname: &str) -> Option<&Collection> {
        self.collections.get(cname)
    }

    /// The shape (stored and wire names) of a collection.
    pub fn shape(&self, cname: &str) -> Option<&Arc<Shape>> {
        self.shapes.get(cname)
    }

    /// The wire name of a stored field.
    pub fn wire<'a>(&'a self, cname: &str, field: &'a str) -> &'a str {
        wire_name(self.shapes.get(cname), field)
    }

    /// The stored name of the visible field a client calls `wire`.
    pub fn field_name<'a>(&'a self, cname: &str, wire: &'a str) -> Option<&'a str> {
        stored_name(self.shapes.get(cname), wire)
    }

    /// Validate a JSON body; on success the typed values to write, in declaration order.
    pub fn record(
        &self,
        cname: &str,
        coll: &Collection,
        input: &J,
        mode: Mode,
    ) -> Result<Row, ValidationError> {
        let Some(obj) = input.as_object() else {
            return Err(ValidationError {
                details: vec![FieldError::new("", "the body must be a JSON object")],
            });
        };
        // The shape is found once, not once per field (as `field_name` and `wire` would).
        let shape = self.shapes.get(cname);
        let mut details = Vec::new();
        for key in obj.keys() {
            match stored_name(shape, key) {
                Some(f) if SYSTEM_FIELDS.contains(&f) => details.push(FieldError::new(
                    key,
                    "is set by the server and cannot be written",
                )),
                Some(f) if coll.fields.contains_key(f) => {}
                _ => details.push(FieldError::new(key, "is not a field of this collection")),
            }
        }
        let mut row = Vec::with_capacity(coll.fields.len());
        for (fname, field) in coll.fields.iter().filter(|(_, f)| !f.hidden) {
            let wire = wire_name(shape, fname);
            let given = obj.get(wire);
            let raw = match (given, mode) {
                (Some(v), _) => v,
                (None, Mode::Update) => continue,
                // A default from the caller was filled in by the app service, if it could be.
                (None, Mode::Create) => match field.literal_default() {
                    Some(d) => d,
                    None if field.required => {
                        details.push(FieldError::new(wire, "is required"));
                        continue;
                    }
                    None => continue,
                },
            };
            match self.coerce(cname, fname, field, raw) {
                Ok(v) => row.push((fname.clone(), v)),
                Err(msg) => details.push(FieldError::new(wire, msg)),
            }
        }
        if details.is_empty() {
            Ok(row)
        } else {
            Err(ValidationError { details })
        }
    }

    /// Parse a query-string value (an equality filter) as the field's type.
    pub fn query_value(
        &self,
        cname: &str,
        fname: &str,
        field: &Field,
        raw: &str,
    ) -> Result<Value, String> {
        let json = match field.kind {
            FieldType::Int => raw
                .parse::<i64>()
                .map(J::from)
                .map_err(|_| "must be an integer".to_owned())?,
            FieldType::Float => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(J::Number)
                .ok_or("must be a number")?,
            FieldType::Bool => match raw {
                "true" | "1" => J::Bool(true),
                "false" | "0" => J::Bool(false),
                _ => return Err("must be true or false".to_owned()),
            },
            FieldType::Json => return Err("json fields cannot be filtered by equality".to_owned()),
            _ if raw == "null" => J::Null,
            _ => J::String(raw.to_owned()),
        };
        self.lookup_value(cname, fname, field, &json)
    }

    /// A JSON value to look for in a field (filters): typed like a write, but bounds and
    /// patterns do not apply, and null is allowed.
    pub fn lookup_value(
        &self,
        cname: &str,
        fname: &str,
        field: &Field,
        json: &J,
    ) -> Result<Value, String> {
        if has_nul(json) {
            return Err("may not contain NUL (\\u0000) characters".to_owned());
        }
        match (field.kind, json) {
            (_, J::Null) => Ok(Value::Null),
            (FieldType::Json, _) => Err("json fields cannot be compared".to_owned()),
            (FieldType::Text | FieldType::Email | FieldType::Url, J::String(s)) => {
                Ok(Value::Text(s.clone()))
            }
            _ => self.coerce(cname, fname, field, json),
        }
    }

    fn coerce(&self, cname: &str, fname: &str, field: &Field, raw: &J) -> Result<Value, String> {
        if raw.is_null() {
            return if field.required {
                Err("may not be null".to_owned())
            } else {
                Ok(Value::Null)
            };
        }
        let kind = field.kind;
        // PostgreSQL refuses NUL in text and jsonb; refuse it here, for both databases alike.
        if has_nul(raw) {
            return Err("may not contain NUL (\\u0000) characters".to_owned());
        }
        let text = || {
            raw.as_str()
                .ok_or_else(|| format!("must be a string ({})", kind.as_str()))
        };
        match kind {
            FieldType::Text | FieldType::Email | FieldType::Url => {
                let s = text()?;
                check_length(field, s)?;
                match kind {
                    FieldType::Email if !is_email(s) => {
                        return Err("must be a valid email address".to_owned())
                    }
                    FieldType::Url if !is_url(s) => return Err("must be an http(s) URL".to_owned()),
                    _ => {}
                }
                if let Some(re) = self.patterns.get(cname).and_then(|p| p.get(fname)) {
                    if !re.is_match(s) {
                        return Err(format!("does not match the pattern {}", re.as_str()));
                    }
                }
                Ok(Value::Text(s.to_owned()))
            }
            FieldType::Enum => {
                let s = text()?;
                let values = field.values.as_deref().unwrap_or_default();
                if values.iter().any(|v| v == s) {
                    Ok(Value::Text(s.to_owned()))
                } else {
                    Err(format!("must be one of: {}", values.join(", ")))
                }
            }
            FieldType::Int => {
                let i = raw.as_i64().ok_or("must be an integer")?;
                check_range(field, i as f64)?;
                Ok(Value::Int(i))
            }
            FieldType::Float => {
                let f = raw.as_f64().ok_or("must be a number")?;
                check_range(field, f)?;
                Ok(Value::Float(f))
            }
            FieldType::Bool => raw
                .as_bool()
                .map(Value::Bool)
                .ok_or_else(|| "must be true or false".to_owned()),
            FieldType::Timestamp => DateTime::parse_from_rfc3339(text()?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .filter(|t| (1..=9999).contains(&t.year()))
                .map(Value::Timestamp)
                .ok_or_else(|| {
                    "must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z".to_owned()
                }),
            FieldType::Date => NaiveDate::parse_from_str(text()?, "%Y-%m-%d")
                .ok()
                .filter(|d| (1..=9999).contains(&d.year()))
                .map(Value::Date)
                .ok_or_else(|| "must be a date, YYYY-MM-DD".to_owned()),
            FieldType::Uuid | FieldType::Relation => Uuid::parse_str(text()?)
                .map(Value::Uuid)
                .map_err(|_| "must be a UUID".to_owned()),
            FieldType::Json => Ok(Value::Json(raw.clone())),
        }
    }
}

fn has_nul(v: &J) -> bool {
    match v {
        J::String(s) => s.contains('\0'),
        J::Array(items) => items.iter().any(has_nul),
        J::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn check_length(field: &Field, s: &str) -> Result<(), String> {
    let n = s.chars().count() as f64;
    if let Some(min) = field.min {
        if n < min {
            return Err(format!("must be at least {min} characters"));
        }
    }
    if let Some(max) = field.max {
        if n > max {
            return Err(format!("must be at most {max} characters"));
        }
    }
    Ok(())
}

fn check_range(field: &Field, v: f64) -> Result<(), String> {
    if let Some(min) = field.min {
        if v < min {
            return Err(format!("must be at least {min}"));
        }
    }
    if let Some(max) = field.max {
        if v > max {
            return Err(format!("must be at most {max}"));
        }
    }
    Ok(())
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn is_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !s.contains(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Manifest {
        plinth_manifest::parse(
            "name: t\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true, min: 2, max: 5, pattern: '^[a-z]+$' }\n      n: { type: int, min: 0 }\n      mail: { type: email }\n      kind: { type: enum, values: [a, b], default: a }\n      at: { type: timestamp }\n",
        )
        .expect("manifest")
    }

    #[test]
    fn create_reports_every_bad_field() {
        let m = manifest();
        let v = Validator::new(&m);
        let err = v
            .record(
                "items",
                &m.collections["items"],
                &json!({"n": -1, "mail": "x", "kind": "c", "at": "yesterday", "extra": 1}),
                Mode::Create,
            )
            .expect_err("invalid");
        let fields: Vec<_> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["extra", "title", "n", "mail", "kind", "at"]);
    }

    #[test]
    fn create_applies_defaults_and_update_is_partial() {
        let m = manifest();
        let v = Validator::new(&m);
        let coll = &m.collections["items"];
        let row = v
            .record("items", coll, &json!({"title": "abc"}), Mode::Create)
            .expect("valid");
        assert_eq!(
            row,
            vec![
                ("title".into(), Value::Text("abc".into())),
                ("kind".into(), Value::Text("a".into()))
            ]
        );
        let row = v
            .record("items", coll, &json!({"n": 3}), Mode::Update)
            .expect("valid");
        assert_eq!(row, vec![("n".into(), Value::Int(3))]);
        let err = v
            .record("items", coll, &json!({"title": "ABC"}), Mode::Update)
            .expect_err("pattern");
        assert!(err.details[0].message.contains("pattern"));
    }

    #[test]
    fn wrong_types_are_named() {
        let m = manifest();
        let v = Validator::new(&m);
        let err = v
            .record(
                "items",
                &m.collections["items"],
                &json!({"title": 5, "n": "3"}),
                Mode::Create,
            )
            .expect_err("types");
        assert_eq!(
            err.details[0],
            FieldError::new("title", "must be a string (text)")
        );
        assert_eq!(err.details[1], FieldError::new("n", "must be an integer"));
    }

    #[test]
    fn nul_characters_and_out_of_range_dates_are_refused() {
        let m = manifest();
        let v = Validator::new(&m);
        let coll = &m.collections["items"];
        let err = v
            .record(
                "items",
                coll,
                &json!({"title": "ab\u{0}c", "at": "+10000-01-01T00:00:00Z"}),
                Mode::Create,
            )
            .expect_err("invalid");
        assert_eq!(err.details.len(), 2, "{err:?}");
        assert!(err.details[0].message.contains("NUL"));
        let field = &coll.fields["title"];
        assert!(v.query_value("items", "title", field, "a\u{0}").is_err());
    }

    #[test]
    fn emails_and_urls() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(!is_email("a b@c.de"));
        assert!(is_url("https://x.io/a"));
        assert!(!is_url("ftp://x.io"));
        assert!(!is_url("https://"));
    }
}
