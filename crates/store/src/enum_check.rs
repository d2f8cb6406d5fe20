//! The database's own check that an enum column holds one of its field's `values`, so
//! writes that bypass the API (raw SQL, other tools) cannot store anything else. NULL
//! passes: refusing it is `required`'s job (NOT NULL).
//!
//! PostgreSQL gets a named CHECK constraint, inline when the column is created, which
//! `ALTER TABLE` drops and re-adds when the values change. SQLite cannot drop or change a
//! CHECK constraint without rebuilding the table, and a rebuild inside the migration's
//! transaction cascades deletes through foreign keys (`PRAGMA foreign_keys` cannot be
//! switched off inside a transaction), so there the check is a pair of triggers (before
//! insert, before update of the column) that can be dropped and re-created like a
//! constraint.
//!
//! Values come from the checked manifest, but are still quoted as SQL literals with every
//! quote escaped; identifiers are checked manifest names.

use std::collections::BTreeSet;

use plinth_manifest::{Field, FieldType};

use crate::Dialect;

/// `ck_<table>__<col>`: the constraint's name, and the prefix of SQLite's triggers.
pub(crate) fn name(table: &str, col: &str) -> String {
    format!("ck_{table}__{col}")
}

/// The allowed values of an enum field; None for any other type.
pub(crate) fn values_of(field: &Field) -> Option<&[String]> {
    match field.kind {
        FieldType::Enum => field.values.as_deref(),
        _ => None,
    }
}

/// A string literal: quotes doubled; on PostgreSQL, a value with a backslash becomes an
/// `E''` literal with the backslash doubled, which reads the same whether
/// `standard_conforming_strings` is on or off.
fn literal(v: &str, d: Dialect) -> String {
    let quoted = v.replace('\'', "''");
    if d == Dialect::Postgres && v.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

/// `"col" IN ('a', 'b')`.
fn in_list(prefix: &str, col: &str, values: &[String], d: Dialect) -> String {
    let list: Vec<String> = values.iter().map(|v| literal(v, d)).collect();
    format!("{prefix}\"{col}\" IN ({})", list.join(", "))
}

/// PostgreSQL's inline column constraint for an enum field created with its table or by
/// `ADD COLUMN`; None on SQLite (see [`after_create`]) and for other types.
pub(crate) fn inline(table: &str, col: &str, field: &Field, d: Dialect) -> Option<String> {
    let values = values_of(field).filter(|_| d == Dialect::Postgres)?;
    Some(format!(
        "CONSTRAINT \"{}\" CHECK ({})",
        name(table, col),
        in_list("", col, values, d)
    ))
}

/// What guards an enum column just created (SQLite's triggers; PostgreSQL's constraint
/// is already inline). No row can break it yet: a new table is empty and a new column's
/// default fits its values (the manifest checks that).
pub(crate) fn after_create(table: &str, col: &str, field: &Field, d: Dialect) -> Vec<String> {
    match (d, values_of(field)) {
        (Dialect::Sqlite, Some(values)) => triggers(table, col, values),
        _ => Vec::new(),
    }
}

fn triggers(table: &str, col: &str, values: &[String]) -> Vec<String> {
    let ck = name(table, col);
    let outside = format!("NOT ({})", in_list("NEW.", col, values, Dialect::Sqlite));
    let raise = format!("BEGIN SELECT RAISE(ABORT, 'enum check failed: {ck}'); END");
    vec![
        format!("CREATE TRIGGER \"{ck}__insert\" BEFORE INSERT ON \"{table}\" WHEN {outside} {raise}"),
        format!("CREATE TRIGGER \"{ck}__update\" BEFORE UPDATE OF \"{col}\" ON \"{table}\" WHEN {outside} {raise}"),
    ]
}

/// Guard an existing column; fails (rolling the migration back) when a row already holds
/// a value outside `values`.
pub(crate) fn add(table: &str, col: &str, values: &[String], d: Dialect) -> Vec<String> {
    match d {
        // PostgreSQL checks the existing rows itself.
        Dialect::Postgres => vec![format!(
            "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{}\" CHECK ({})",
            name(table, col),
            in_list("", col, values, d)
        )],
        Dialect::Sqlite => {
            let mut out = triggers(table, col, values);
            // Triggers do not look at existing rows: touching each row outside the values
            // fires the update trigger, which fails the migration like PostgreSQL would.
            out.push(format!(
                "UPDATE \"{table}\" SET \"{col}\" = \"{col}\" WHERE NOT ({})",
                in_list("", col, values, d)
            ));
            out
        }
    }
}

/// Remove a column's guard if it has one (columns made before these checks existed have
/// none, hence IF EXISTS).
pub(crate) fn drop(table: &str, col: &str, d: Dialect) -> Vec<String> {
    let ck = name(table, col);
    match d {
        Dialect::Postgres => vec![format!(
            "ALTER TABLE \"{table}\" DROP CONSTRAINT IF EXISTS \"{ck}\""
        )],
        Dialect::Sqlite => vec![
            format!("DROP TRIGGER IF EXISTS \"{ck}__insert\""),
            format!("DROP TRIGGER IF EXISTS \"{ck}__update\""),
        ],
    }
}

/// The statements taking a column's guard from `was` to `now` values (None: not an enum)
/// and back, or None when the allowed set is unchanged (order does not matter).
pub(crate) fn change(
    table: &str,
    col: &str,
    was: Option<&[String]>,
    now: Option<&[String]>,
    d: Dialect,
) -> Option<(Vec<String>, Vec<String>)> {
    fn set(v: Option<&[String]>) -> Option<BTreeSet<&str>> {
        v.map(|v| v.iter().map(String::as_str).collect())
    }
    if set(was) == set(now) {
        return None;
    }
    let step = |from: Option<&[String]>, to: Option<&[String]>| {
        let mut out = Vec::new();
        if from.is_some() {
            out.extend(drop(table, col, d));
        }
        if let Some(values) = to {
            out.extend(add(table, col, values, d));
        }
        out
    };
    Some((step(was, now), step(now, was)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn values_are_quoted_as_literals() {
        assert_eq!(literal("it's", Dialect::Sqlite), "'it''s'");
        assert_eq!(literal("a\\'b", Dialect::Sqlite), "'a\\''b'");
        assert_eq!(literal("a\\'b", Dialect::Postgres), "E'a\\\\''b'");
        assert_eq!(
            in_list("", "kind", &values(&["a", "o'k"]), Dialect::Postgres),
            "\"kind\" IN ('a', 'o''k')"
        );
    }

    #[test]
    fn a_change_of_values_replaces_the_guard_both_ways() {
        let (a, ab) = (values(&["a"]), values(&["b", "a"]));
        assert!(change(
            "t",
            "k",
            Some(&ab),
            Some(&values(&["a", "b"])),
            Dialect::Postgres
        )
        .is_none());
        let (up, down) = change("t", "k", Some(&a), Some(&ab), Dialect::Postgres).expect("changed");
        assert_eq!(
            up,
            vec![
                "ALTER TABLE \"t\" DROP CONSTRAINT IF EXISTS \"ck_t__k\"".to_owned(),
                "ALTER TABLE \"t\" ADD CONSTRAINT \"ck_t__k\" CHECK (\"k\" IN ('b', 'a'))"
                    .to_owned(),
            ]
        );
        assert!(down[1].ends_with("IN ('a'))"), "{down:?}");
        // From text to enum on SQLite: no guard to drop, triggers plus the existing-row check.
        let (up, down) = change("t", "k", None, Some(&a), Dialect::Sqlite).expect("changed");
        assert_eq!(up.len(), 3, "{up:?}");
        assert!(
            up[2].starts_with("UPDATE \"t\" SET \"k\" = \"k\" WHERE NOT"),
            "{up:?}"
        );
        assert_eq!(down, drop("t", "k", Dialect::Sqlite));
    }
}
