//! Planning: the SQL that takes the database from the applied snapshot to the manifest,
//! and the changes that would lose data and so are refused.

use std::collections::HashSet;

use plinth_manifest::{Collection, FieldType};

use super::Schema;
use crate::ddl::{self, indexes_of};
use crate::enum_check::{self, values_of};
use crate::Dialect;

#[derive(Debug, Default)]
pub(super) struct Plan {
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub changes: Vec<String>,
    pub destructive: Vec<String>,
    /// Run before pending hand-written migrations: enum guards of the tables they are
    /// expected to change (see [`reguard`]).
    pub before: Vec<String>,
    /// Undoes `before`, after the hand-written down scripts.
    pub before_down: Vec<String>,
}

fn storage_class(kind: FieldType) -> FieldType {
    // Text-like types share storage: changing between them needs no SQL.
    if kind.is_textual() {
        FieldType::Text
    } else {
        kind
    }
}

/// Order new collections so relation targets are created first (PostgreSQL checks
/// REFERENCES at CREATE time).
fn creation_order<'a>(new: &'a Schema, fresh: &[&'a String]) -> Vec<&'a String> {
    fn visit<'a>(
        n: &'a String,
        new: &'a Schema,
        fresh: &[&'a String],
        seen: &mut HashSet<&'a String>,
        out: &mut Vec<&'a String>,
    ) {
        if !seen.insert(n) {
            return;
        }
        for f in new[n].fields.values() {
            if let Some(t) = f
                .collection
                .as_ref()
                .and_then(|t| fresh.iter().find(|x| **x == t))
            {
                visit(t, new, fresh, seen, out);
            }
        }
        out.push(n);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for n in fresh {
        visit(n, new, fresh, &mut seen, &mut out);
    }
    out
}

pub(super) fn plan(old: &Schema, new: &Schema, d: Dialect) -> Plan {
    let mut p = Plan::default();
    let mut downs: Vec<Vec<String>> = Vec::new();
    let fresh: Vec<&String> = new.keys().filter(|n| !old.contains_key(*n)).collect();
    for name in creation_order(new, &fresh) {
        let coll = &new[name];
        p.up.extend(ddl::create_table(name, coll, d));
        p.up.extend(
            indexes_of(coll)
                .iter()
                .map(|i| ddl::create_index(name, i, d)),
        );
        downs.push(vec![ddl::drop_table(name, d)]);
        p.changes.push(format!("create collection `{name}`"));
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        p.destructive.push(format!(
            "collection `{name}` removed (its table would be dropped)"
        ));
    }
    for (name, coll) in new.iter().filter(|(n, _)| old.contains_key(*n)) {
        let before = &old[name];
        let refused = p.destructive.len();
        if before.timestamps != coll.timestamps {
            p.destructive.push(format!("`{name}`: timestamps changed"));
        }
        for (fname, field) in &coll.fields {
            match before.fields.get(fname) {
                None => match ddl::add_column(name, fname, field, d) {
                    Ok(sql) => {
                        p.up.extend(sql);
                        downs.push(ddl::drop_column(name, fname, field, d));
                        p.changes.push(format!("add field `{name}.{fname}`"));
                    }
                    Err(msg) => p.destructive.push(msg),
                },
                Some(was) => {
                    let retyped = storage_class(was.kind) != storage_class(field.kind);
                    if retyped
                        || was.required != field.required
                        || was.collection != field.collection
                        || was.on_delete != field.on_delete
                    {
                        p.destructive.push(format!(
                            "field `{name}.{fname}` changed type, required or relation"
                        ));
                    }
                }
            }
        }
        for fname in before
            .fields
            .keys()
            .filter(|f| !coll.fields.contains_key(*f))
        {
            p.destructive.push(format!(
                "field `{name}.{fname}` removed (its column would be dropped)"
            ));
        }
        if p.destructive.len() > refused {
            reguard(&mut p, &mut downs, name, before, coll, d);
        } else {
            for (fname, field) in &coll.fields {
                let Some(was) = before.fields.get(fname) else {
                    continue;
                };
                let change = enum_check::change(name, fname, values_of(was), values_of(field), d);
                if let Some((up, down)) = change {
                    p.up.extend(up);
                    downs.push(down);
                    p.changes
                        .push(format!("check enum values of `{name}.{fname}`"));
                }
            }
        }
        let (was, now) = (indexes_of(before), indexes_of(coll));
        for i in now.iter().filter(|i| !was.contains(i)) {
            p.up.push(ddl::create_index(name, i, d));
            downs.push(vec![ddl::drop_index(name, i)]);
            p.changes.push(format!("create index `{}`", i.name(name)));
        }
        for i in was.iter().filter(|i| !now.contains(i)) {
            p.up.push(ddl::drop_index(name, i));
            downs.push(vec![ddl::create_index(name, i, d)]);
            p.changes.push(format!("drop index `{}`", i.name(name)));
        }
    }
    p.down = downs.into_iter().rev().flatten().collect();
    p
}

/// A table with a refused change goes ahead only with a hand-written migration, whose SQL
/// may drop or retype a column (SQLite refuses to drop one its guard's triggers name;
/// PostgreSQL re-checks the constraint on a retype) or rebuild the table (which drops
/// SQLite's triggers). So its enum guards are dropped before that SQL runs and re-created
/// after it from the manifest, checking the rows as they are then.
fn reguard(
    p: &mut Plan,
    downs: &mut Vec<Vec<String>>,
    name: &str,
    was: &Collection,
    now: &Collection,
    d: Dialect,
) {
    for (fname, field) in &was.fields {
        if let Some(values) = values_of(field) {
            p.before.extend(enum_check::drop(name, fname, d));
            p.before_down
                .extend(enum_check::add(name, fname, values, d));
        }
    }
    // New fields were guarded as they were added.
    let kept = now
        .fields
        .iter()
        .filter(|(f, _)| was.fields.contains_key(*f));
    for (fname, field) in kept {
        if let Some(values) = values_of(field) {
            p.up.extend(enum_check::add(name, fname, values, d));
            downs.push(enum_check::drop(name, fname, d));
            p.changes
                .push(format!("check enum values of `{name}.{fname}`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(fields: &str) -> Schema {
        plinth_manifest::parse(&format!(
            "name: t\ncollections:\n  users:\n    fields:\n      name: {{ type: text }}\n  items:\n    fields:\n{fields}"
        ))
        .expect("manifest")
        .collections
    }

    #[test]
    fn a_new_schema_creates_relation_targets_first() {
        let new = schema("      owner: { type: relation, collection: users }\n");
        // Declare items before users to check the ordering does not follow the file.
        let mut reordered = Schema::new();
        reordered.insert("items".into(), new["items"].clone());
        reordered.insert("users".into(), new["users"].clone());
        let p = plan(&Schema::new(), &reordered, Dialect::Postgres);
        let users =
            p.up.iter()
                .position(|s| s.contains("CREATE TABLE \"users\""));
        let items =
            p.up.iter()
                .position(|s| s.contains("CREATE TABLE \"items\""));
        assert!(users < items, "{:?}", p.up);
        assert_eq!(
            p.down.last().map(String::as_str),
            Some("DROP TABLE \"users\"")
        );
    }

    #[test]
    fn only_data_losing_changes_are_refused() {
        let old = schema("      title: { type: text, max: 5 }\n      kind: { type: text }\n");
        let same_storage = schema(
            "      title: { type: text, max: 50 }\n      kind: { type: enum, values: [a] }\n",
        );
        let p = plan(&old, &same_storage, Dialect::Sqlite);
        assert!(p.destructive.is_empty(), "{p:?}");
        // Text to enum keeps the column; only its guard is added.
        assert_eq!(
            p.changes,
            vec!["check enum values of `items.kind`"],
            "{p:?}"
        );

        let retyped = schema("      title: { type: int }\n      kind: { type: text }\n");
        assert_eq!(plan(&old, &retyped, Dialect::Sqlite).destructive.len(), 1);
        let required =
            schema("      title: { type: text, required: true }\n      kind: { type: text }\n");
        assert_eq!(plan(&old, &required, Dialect::Sqlite).destructive.len(), 1);
        let dropped = schema("      title: { type: text }\n");
        assert!(plan(&old, &dropped, Dialect::Sqlite).destructive[0].contains("items.kind"));
    }

    #[test]
    fn enum_guards_follow_values_and_hand_written_migrations() {
        let old = schema("      kind: { type: enum, values: [a] }\n      n: { type: int }\n");
        let wider = schema("      kind: { type: enum, values: [a, b] }\n      n: { type: int }\n");
        let p = plan(&old, &wider, Dialect::Postgres);
        assert_eq!(
            p.up,
            vec![
                "ALTER TABLE \"items\" DROP CONSTRAINT IF EXISTS \"ck_items__kind\"",
                "ALTER TABLE \"items\" ADD CONSTRAINT \"ck_items__kind\" CHECK (\"kind\" IN ('a', 'b'))",
            ]
        );
        assert!(p.down[1].ends_with("IN ('a'))"), "{:?}", p.down);
        assert!(p.before.is_empty());

        // Dropping `n` needs a hand-written migration: the table's guards step aside for it.
        let dropped = schema("      kind: { type: enum, values: [a] }\n");
        let p = plan(&old, &dropped, Dialect::Sqlite);
        assert_eq!(p.destructive.len(), 1, "{p:?}");
        assert_eq!(p.before, enum_check::drop("items", "kind", Dialect::Sqlite));
        assert_eq!(
            p.up[..2],
            enum_check::add("items", "kind", &["a".into()], Dialect::Sqlite)[..2]
        );
        assert_eq!(p.down, enum_check::drop("items", "kind", Dialect::Sqlite));

        // A new enum field is guarded as it is added, and unguarded before it is dropped.
        let added = schema("      kind: { type: enum, values: [a] }\n      n: { type: int }\n      s: { type: enum, values: [x] }\n");
        let p = plan(&old, &added, Dialect::Sqlite);
        assert!(
            p.up[0].starts_with("ALTER TABLE \"items\" ADD COLUMN \"s\" TEXT"),
            "{:?}",
            p.up
        );
        assert!(
            p.up[1].starts_with("CREATE TRIGGER \"ck_items__s__insert\""),
            "{:?}",
            p.up
        );
        assert_eq!(
            p.down.last().map(String::as_str),
            Some("ALTER TABLE \"items\" DROP COLUMN \"s\"")
        );
    }
}
