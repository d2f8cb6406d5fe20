//! A collection as the store sees it: its table, columns in a fixed order, relations, and
//! the hottest statement prebuilt. Resolved once at open; callers hold it by `Arc`.

use std::sync::Arc;

use plinth_manifest::{Collection, FieldType, Manifest};
use plinth_records::Shape;

use crate::dedupe::Guard;
use crate::statements::Statements;

/// What an audit snapshot's text depends on: the entry's fields, the field that takes the
/// changes, the record's table and the fields read from it.
pub(crate) type SnapshotShape = (Vec<String>, String, String, Vec<String>);

/// The table behind a collection.
#[derive(Debug)]
pub struct Table {
    pub(crate) name: String,
    /// `id`, the declared fields, then the system timestamps (shared with every record).
    pub(crate) shape: Arc<Shape>,
    pub(crate) has_updated_at: bool,
    /// Relation fields and their target collections.
    pub(crate) relations: Vec<(String, String)>,
    /// The point read (`WHERE id = ?`) in the store's dialect, built once at open: the
    /// hottest query skips the builder.
    pub(crate) by_id_sql: String,
    /// INSERT statements by the positions of the columns a create gives.
    pub(crate) insert_sql: Statements<Vec<usize>>,
    /// De-duplication checks by their key fields, each with whether its value is null.
    pub(crate) dedupe_sql: Statements<Vec<(String, bool)>>,
    /// PostgreSQL: the function guarding de-duplicated inserts (`dedupe`), if any.
    pub(crate) dedupe_guard: Option<Guard>,
    /// Guarded INSERT statements by the positions of the columns a create gives.
    pub(crate) guarded_insert_sql: Statements<Vec<usize>>,
    /// Audit snapshots into this table (`from_record`), by their shape.
    pub(crate) snapshot_sql: Statements<SnapshotShape>,
    /// UPDATE statements by the columns they set and their filter's shape (`filter_shape`).
    pub(crate) update_sql: Statements<String>,
}

impl Table {
    pub(crate) fn new(manifest: &Manifest, name: &str, coll: &Collection) -> Self {
        let relations = coll
            .fields
            .iter()
            .filter_map(|(n, f)| f.collection.as_ref().map(|t| (n.clone(), t.clone())))
            .collect();
        Table {
            name: name.to_owned(),
            shape: Arc::new(Shape::of(manifest, coll)),
            has_updated_at: coll.has_updated_at(),
            relations,
            by_id_sql: String::new(),
            insert_sql: Statements::default(),
            dedupe_sql: Statements::default(),
            dedupe_guard: None,
            guarded_insert_sql: Statements::default(),
            snapshot_sql: Statements::default(),
            update_sql: Statements::default(),
        }
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns every record of this table carries.
    pub fn shape(&self) -> &Arc<Shape> {
        &self.shape
    }

    /// Relation fields and the collections they point at.
    pub fn relations(&self) -> &[(String, String)] {
        &self.relations
    }

    pub(crate) fn kind(&self, column: &str) -> Option<FieldType> {
        self.shape.index(column).map(|i| self.shape.columns[i].kind)
    }
}
