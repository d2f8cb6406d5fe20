//! Records as read from storage: values in column order behind a shared [`Shape`], written
//! straight into a response with the app's wire names (no intermediate map, no copy).

use std::collections::HashMap;
use std::sync::Arc;

use plinth_manifest::{Collection, FieldType, Manifest};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as J;

/// One column of a collection as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The stored (snake_case) name.
    pub name: String,
    /// The name clients see.
    pub wire: String,
    /// The column's type.
    pub kind: FieldType,
    /// Never shown to clients.
    pub hidden: bool,
}

/// The columns of a collection, in select order: `id`, the fields, the system timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Columns in select order.
    pub columns: Vec<Column>,
    // Looked up for every field of every row written or read: foldhash, not SipHash (the
    // keys are the manifest's column names, never a client's).
    by_name: HashMap<String, usize, foldhash::fast::RandomState>,
    by_wire: HashMap<String, usize, foldhash::fast::RandomState>,
}

impl Shape {
    /// A shape from columns.
    pub fn new(columns: Vec<Column>) -> Self {
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let by_wire = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.wire.clone(), i))
            .collect();
        Shape {
            columns,
            by_name,
            by_wire,
        }
    }

    /// The shape of a collection of `manifest`, with its wire names.
    pub fn of(manifest: &Manifest, coll: &Collection) -> Self {
        let col = |name: &str, kind, hidden| Column {
            name: name.to_owned(),
            wire: manifest.wire_name(coll, name),
            kind,
            hidden,
        };
        let mut columns = vec![col("id", FieldType::Uuid, false)];
        columns.extend(coll.fields.iter().map(|(n, f)| col(n, f.kind, f.hidden)));
        if coll.has_created_at() {
            columns.push(col("created_at", FieldType::Timestamp, false));
        }
        if coll.has_updated_at() {
            columns.push(col("updated_at", FieldType::Timestamp, false));
        }
        Shape::new(columns)
    }

    /// A shape whose wire names are its stored names (internal tables).
    pub fn plain(columns: &[(&str, FieldType)]) -> Self {
        Shape::new(
            columns
                .iter()
                .map(|(n, k)| Column {
                    name: (*n).to_owned(),
                    wire: (*n).to_owned(),
                    kind: *k,
                    hidden: false,
                })
                .collect(),
        )
    }

    /// The position of a stored column name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The visible column a client names by its wire name.
    pub fn by_wire(&self, wire: &str) -> Option<&Column> {
        self.by_wire
            .get(wire)
            .map(|i| &self.columns[*i])
            .filter(|c| !c.hidden)
    }

    /// The wire name of a stored column (the stored name for unknown ones).
    pub fn wire<'a>(&'a self, name: &'a str) -> &'a str {
        self.index(name).map_or(name, |i| &self.columns[i].wire)
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    shape: Arc<Shape>,
    values: Vec<J>,
    /// Related records embedded by `expand=`, by the position of their relation column.
    expand: Vec<(usize, Record)>,
}

impl Record {
    /// A record of `shape` from values in column order.
    pub fn new(shape: Arc<Shape>, values: Vec<J>) -> Self {
        debug_assert_eq!(shape.columns.len(), values.len());
        Record {
            shape,
            values,
            expand: Vec::new(),
        }
    }

    /// The value of a stored column.
    pub fn get(&self, name: &str) -> Option<&J> {
        self.shape.index(name).and_then(|i| self.values.get(i))
    }

    /// A field's typed value (by its column's type), for deciding a rule in memory; `None`
    /// for a column the record does not have.
    pub fn value(&self, name: &str) -> Option<crate::Value> {
        use crate::Value;
        let i = self.shape.index(name)?;
        let v = self.values.get(i)?;
        if v.is_null() {
            return Some(Value::Null);
        }
        let text = || v.as_str().map(str::to_owned);
        Some(match self.shape.columns[i].kind {
            FieldType::Int => v.as_i64().map_or(Value::Null, Value::Int),
            FieldType::Float => v.as_f64().map_or(Value::Null, Value::Float),
            FieldType::Bool => v.as_bool().map_or(Value::Null, Value::Bool),
            FieldType::Timestamp => text()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map_or(Value::Null, |t| {
                    Value::Timestamp(t.with_timezone(&chrono::Utc))
                }),
            FieldType::Date => text()
                .and_then(|t| chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
                .map_or(Value::Null, Value::Date),
            FieldType::Uuid | FieldType::Relation => text()
                .and_then(|t| uuid::Uuid::parse_str(&t).ok())
                .map_or(Value::Null, Value::Uuid),
            FieldType::Json => Value::Json(v.clone()),
            FieldType::Text | FieldType::Email | FieldType::Url | FieldType::Enum => {
                text().map_or(Value::Null, Value::Text)
            }
        })
    }

    /// The record's id as text.
    pub fn id(&self) -> Option<&str> {
        self.values.first().and_then(J::as_str)
    }

    /// The record's shape.
    pub fn shape(&self) -> &Arc<Shape> {
        &self.shape
    }

    /// Embed `related` under the relation column `field`; ignored for unknown columns.
    pub fn set_expand(&mut self, field: &str, related: Record) {
        if let Some(i) = self.shape.index(field) {
            self.expand.push((i, related));
        }
    }

    /// The visible fields as a JSON object keyed by wire names (for tests and events).
    pub fn to_json(&self) -> J {
        serde_json::to_value(self).unwrap_or(J::Null)
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (col, v) in self.shape.columns.iter().zip(&self.values) {
            if !col.hidden {
                map.serialize_entry(&col.wire, v)?;
            }
        }
        if !self.expand.is_empty() {
            map.serialize_entry("expand", &Expanded(self))?;
        }
        map.end()
    }
}

struct Expanded<'a>(&'a Record);

impl Serialize for Expanded<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.expand.len()))?;
        for (i, rec) in &self.0.expand {
            map.serialize_entry(&self.0.shape.columns[*i].wire, rec)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_wire_names_hides_hidden_and_embeds_expansions() {
        let m = plinth_manifest::parse(
            "name: t\nnaming: camel\ncollections:\n  users:\n    fields:\n      first_name: { type: text }\n      password_hash: { type: text, hidden: true }\n      step: { type: int, wire: wizard_step }\n      boss_id: { type: relation, collection: users }\n",
        )
        .expect("manifest");
        let shape = Arc::new(Shape::of(&m, &m.collections["users"]));
        let vals = |id: &str| {
            vec![
                json!(id),
                json!("Ada"),
                json!("secret"),
                json!(2),
                json!("b"),
                json!("t0"),
                json!("t1"),
            ]
        };
        let mut rec = Record::new(shape.clone(), vals("a"));
        assert_eq!(rec.get("password_hash"), Some(&json!("secret")));
        rec.set_expand("boss_id", Record::new(shape, vals("b")));
        let out = rec.to_json();
        assert_eq!(out["firstName"], "Ada");
        assert_eq!(out["wizard_step"], 2);
        assert_eq!(out["createdAt"], "t0");
        assert!(out.get("passwordHash").is_none() && out.get("password_hash").is_none());
        assert_eq!(out["expand"]["bossId"]["id"], "b");
        assert_eq!(rec.id(), Some("a"));
    }
}
