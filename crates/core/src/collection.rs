//! A collection resolved once at start: its declaration and its table, held by handle so
//! no operation looks a collection up by name twice.

use std::sync::Arc;

use plinth_manifest::Collection;
use plinth_store::Table;

/// One collection of an app, as every operation on it needs it.
#[derive(Debug)]
pub struct CollectionHandle {
    /// The collection's name (its path segment and table name).
    pub name: String,
    /// Its declaration in the manifest.
    pub def: Collection,
    /// Its table in the app's store.
    pub table: Arc<Table>,
    /// The singular name used for one record in keyed envelopes.
    pub singular: String,
    /// Declared by the app (served by the generic API); false for system collections.
    pub public: bool,
    /// Its access rules, parsed.
    pub(crate) rules: crate::access::CompiledRules,
    /// The rules of its transitions and actions by name, parsed (names never clash).
    pub(crate) own_rules: std::collections::HashMap<String, crate::access::Rule>,
    /// The `when` of each `on_create` trigger, parsed, in order (`None`: every create).
    pub(crate) triggers: Vec<Option<crate::triggers::When>>,
    /// The `when` of each `on_update` trigger, parsed, in order (`None`: every update).
    pub(crate) update_triggers: Vec<Option<crate::triggers::When>>,
}

impl CollectionHandle {
    /// The wire name of a stored field.
    pub fn wire<'a>(&'a self, field: &'a str) -> &'a str {
        self.table.shape().wire(field)
    }
}
