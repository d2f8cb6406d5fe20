//! A collection as the store sees it: its columns, in a fixed order, with their types.

use std::sync::Arc;

use plinth_manifest::{Collection, FieldType};

/// One column of a collection's table.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub kind: FieldType,
}

/// The table behind a collection.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub name: String,
    /// `id`, the declared fields, then the system timestamps (shared with every query).
    pub columns: Arc<[Column]>,
    pub has_updated_at: bool,
    /// Relation fields and their target collections.
    pub relations: Vec<(String, String)>,
    /// The point read (`WHERE id = ?`) in the store's dialect, built once at open: the
    /// hottest query skips the builder.
    pub by_id_sql: String,
}

impl Table {
    pub fn new(name: &str, coll: &Collection) -> Self {
        let col = |name: &str, kind| Column {
            name: name.to_owned(),
            kind,
        };
        let mut columns = vec![col("id", FieldType::Uuid)];
        columns.extend(coll.fields.iter().map(|(n, f)| col(n, f.kind)));
        if coll.has_created_at() {
            columns.push(col("created_at", FieldType::Timestamp));
        }
        if coll.has_updated_at() {
            columns.push(col("updated_at", FieldType::Timestamp));
        }
        let relations = coll
            .fields
            .iter()
            .filter_map(|(n, f)| f.collection.as_ref().map(|t| (n.clone(), t.clone())))
            .collect();
        Table {
            name: name.to_owned(),
            columns: columns.into(),
            has_updated_at: coll.has_updated_at(),
            relations,
            by_id_sql: String::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
