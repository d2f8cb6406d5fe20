//! DDL for a manifest's tables, written with sea-query for both dialects.
//!
//! Unique fields get unique indexes (not column constraints) because SQLite cannot add a
//! UNIQUE column with ALTER TABLE; index names carry their fields, so a PostgreSQL
//! violation can name the field without a lookup. Enum columns are guarded by the
//! database too (see [`crate::enum_check`]).

use plinth_manifest::{Collection, Field, FieldType, OnDelete};
use sea_query::{
    Alias, ColumnDef, Index, PostgresQueryBuilder, SqliteQueryBuilder, Table, Value as Sv,
};

use crate::enum_check;
use crate::Dialect;

fn build(stmt: &impl sea_query::SchemaStatementBuilder, d: Dialect) -> String {
    match d {
        Dialect::Sqlite => stmt.to_string(SqliteQueryBuilder),
        Dialect::Postgres => stmt.to_string(PostgresQueryBuilder),
    }
}

pub(crate) fn sql_type(kind: FieldType, d: Dialect) -> &'static str {
    match (d, kind) {
        (Dialect::Sqlite, FieldType::Int | FieldType::Bool) => "INTEGER",
        (Dialect::Sqlite, FieldType::Float) => "REAL",
        (Dialect::Sqlite, _) => "TEXT",
        (Dialect::Postgres, FieldType::Int) => "BIGINT",
        (Dialect::Postgres, FieldType::Float) => "DOUBLE PRECISION",
        (Dialect::Postgres, FieldType::Bool) => "BOOLEAN",
        (Dialect::Postgres, FieldType::Timestamp) => "TIMESTAMPTZ",
        (Dialect::Postgres, FieldType::Date) => "DATE",
        (Dialect::Postgres, FieldType::Uuid | FieldType::Relation) => "UUID",
        (Dialect::Postgres, FieldType::Json) => "JSONB",
        (Dialect::Postgres, _) => "TEXT",
    }
}

fn db_default(field: &Field) -> Option<Sv> {
    use serde_json::Value as J;
    let d = field.literal_default()?;
    Some(match (field.kind, d) {
        (_, J::Null) => return None,
        (FieldType::Json, v) => Sv::String(Some(v.to_string())),
        (_, J::Bool(b)) => Sv::Bool(Some(*b)),
        (_, J::Number(n)) if n.is_i64() => Sv::BigInt(n.as_i64()),
        (_, J::Number(n)) => Sv::Double(n.as_f64()),
        (_, J::String(s)) => Sv::String(Some(s.clone())),
        _ => return None,
    })
}

fn column_def(table: &str, name: &str, field: &Field, d: Dialect) -> ColumnDef {
    let mut c = ColumnDef::new(Alias::new(name));
    c.custom(Alias::new(sql_type(field.kind, d)));
    if field.required {
        c.not_null();
    }
    if let Some(v) = db_default(field) {
        c.default(v);
    }
    // sea-query keeps one extra clause per column: gather them.
    let mut extra = Vec::new();
    if let Some(target) = &field.collection {
        let action = match field.on_delete {
            Some(OnDelete::Cascade) => "CASCADE",
            Some(OnDelete::SetNull) => "SET NULL",
            Some(OnDelete::Restrict) | None => "RESTRICT",
        };
        extra.push(format!(
            "REFERENCES \"{target}\" (\"id\") ON DELETE {action}"
        ));
    }
    extra.extend(enum_check::inline(table, name, field, d));
    if !extra.is_empty() {
        c.extra(extra.join(" "));
    }
    c
}

fn timestamp_def(name: &str, d: Dialect) -> ColumnDef {
    let mut c = ColumnDef::new(Alias::new(name));
    c.custom(Alias::new(sql_type(FieldType::Timestamp, d)))
        .not_null();
    c
}

/// `CREATE TABLE` for a collection (without its indexes), then what guards its enum
/// columns on SQLite.
pub(crate) fn create_table(name: &str, coll: &Collection, d: Dialect) -> Vec<String> {
    let mut t = Table::create();
    t.table(Alias::new(name));
    let mut id = ColumnDef::new(Alias::new("id"));
    id.custom(Alias::new(sql_type(FieldType::Uuid, d)))
        .not_null()
        .primary_key();
    t.col(id);
    for (fname, field) in &coll.fields {
        t.col(column_def(name, fname, field, d));
    }
    if coll.has_created_at() {
        t.col(timestamp_def("created_at", d));
    }
    if coll.has_updated_at() {
        t.col(timestamp_def("updated_at", d));
    }
    let mut out = vec![build(&t, d)];
    for (fname, field) in &coll.fields {
        out.extend(enum_check::after_create(name, fname, field, d));
    }
    out
}

/// `DROP TABLE`.
pub(crate) fn drop_table(name: &str, d: Dialect) -> String {
    build(Table::drop().table(Alias::new(name)), d)
}

/// `ALTER TABLE ... ADD COLUMN` (then SQLite's enum guard); refused for a required field
/// with no default, which existing rows could not satisfy.
pub(crate) fn add_column(
    table: &str,
    fname: &str,
    field: &Field,
    d: Dialect,
) -> Result<Vec<String>, String> {
    if field.required && db_default(field).is_none() {
        return Err(format!(
            "new required field `{table}.{fname}` has no default for existing records: give it a default or make it optional"
        ));
    }
    let mut out = vec![build(
        Table::alter()
            .table(Alias::new(table))
            .add_column(column_def(table, fname, field, d)),
        d,
    )];
    out.extend(enum_check::after_create(table, fname, field, d));
    Ok(out)
}

/// `ALTER TABLE ... DROP COLUMN`, after dropping an enum's guard (SQLite refuses to drop
/// a column its triggers name).
pub(crate) fn drop_column(table: &str, fname: &str, field: &Field, d: Dialect) -> Vec<String> {
    let mut out = match enum_check::values_of(field) {
        Some(_) => enum_check::drop(table, fname, d),
        None => Vec::new(),
    };
    // Both dialects accept this form; identifiers are checked manifest names.
    out.push(format!("ALTER TABLE \"{table}\" DROP COLUMN \"{fname}\""));
    out
}

/// An index a collection needs: the declared ones plus one per unique field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexSpec {
    pub fields: Vec<String>,
    pub unique: bool,
    /// A partial index's condition: these columns equal these values.
    pub only: Vec<(String, String)>,
}

impl IndexSpec {
    /// `ux_<table>__<f1>__<f2>` or `idx_<table>__<f1>`; a partial index ends in `__p` and a
    /// hash of its condition (spelled out it would pass PostgreSQL's 63-byte names).
    pub fn name(&self, table: &str) -> String {
        let prefix = if self.unique { "ux" } else { "idx" };
        let name = format!("{prefix}_{table}__{}", self.fields.join("__"));
        if self.only.is_empty() {
            return name;
        }
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let mut h: u32 = 0x811c_9dc5;
        for b in self.condition().bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        format!("{name}__p{h:08x}")
    }

    /// The `WHERE` of a partial index (empty for a full one): string literals, quotes
    /// doubled, so the condition reads the same on both databases.
    fn condition(&self) -> String {
        self.only
            .iter()
            .map(|(f, v)| format!("\"{f}\" = '{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }
}

/// Every index of a collection.
pub(crate) fn indexes_of(coll: &Collection) -> Vec<IndexSpec> {
    let mut out: Vec<IndexSpec> = coll
        .fields
        .iter()
        .filter(|(_, f)| f.unique)
        .map(|(n, _)| IndexSpec {
            fields: vec![n.clone()],
            unique: true,
            only: Vec::new(),
        })
        .collect();
    for i in &coll.indexes {
        let mut fields = i.fields.clone();
        // Lists are in id order (newest first) unless sorted: ending a plain index with the
        // id lets `WHERE owner = ? ORDER BY id DESC LIMIT 20` walk the index and stop after
        // 20 rows, instead of sorting every row the owner has.
        if !i.unique && fields.last().is_some_and(|f| f != "id") {
            fields.push("id".to_owned());
        }
        let spec = IndexSpec {
            fields,
            unique: i.unique,
            only: i.only.clone().into_iter().collect(),
        };
        if !out.contains(&spec) {
            out.push(spec);
        }
    }
    out
}

/// `CREATE [UNIQUE] INDEX`.
pub(crate) fn create_index(table: &str, spec: &IndexSpec, d: Dialect) -> String {
    let mut i = Index::create();
    i.name(spec.name(table)).table(Alias::new(table));
    for f in &spec.fields {
        i.col(Alias::new(f.as_str()));
    }
    if spec.unique {
        i.unique();
    }
    let sql = build(&i, d);
    if spec.only.is_empty() {
        sql
    } else {
        format!("{sql} WHERE {}", spec.condition())
    }
}

/// `DROP INDEX`.
pub(crate) fn drop_index(table: &str, spec: &IndexSpec) -> String {
    format!("DROP INDEX \"{}\"", spec.name(table))
}

/// The fields named by a unique index (see [`IndexSpec::name`]).
pub(crate) fn fields_of_unique_index(name: &str) -> Vec<String> {
    name.strip_prefix("ux_")
        .map(|rest| rest.split("__").skip(1).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coll() -> Collection {
        plinth_manifest::parse("name: t\ncollections:\n  users:\n    fields:\n      email: { type: email, unique: true, required: true }\n  posts:\n    fields:\n      author: { type: relation, collection: users, on_delete: cascade }\n      score: { type: float, default: 1.5 }\n      state: { type: enum, values: [draft, \"it's\"], required: true, default: draft }\n")
            .expect("manifest")
            .collections["posts"]
            .clone()
    }

    #[test]
    fn create_table_in_both_dialects() {
        let c = coll();
        let sqlite = create_table("posts", &c, Dialect::Sqlite);
        // SQLite guards the enum with triggers, which follow the table.
        assert_eq!(sqlite.len(), 3, "{sqlite:?}");
        assert!(sqlite[1].contains(r#"WHEN NOT (NEW."state" IN ('draft', 'it''s'))"#));
        let sqlite = &sqlite[0];
        assert!(
            sqlite.contains(r#""author" TEXT REFERENCES "users" ("id") ON DELETE CASCADE"#),
            "{sqlite}"
        );
        assert!(sqlite.contains(r#""score" REAL DEFAULT 1.5"#), "{sqlite}");
        let pg = create_table("posts", &c, Dialect::Postgres);
        assert_eq!(pg.len(), 1, "{pg:?}");
        let pg = &pg[0];
        assert!(pg.contains(r#""id" UUID NOT NULL PRIMARY KEY"#), "{pg}");
        assert!(
            pg.contains(r#""state" TEXT NOT NULL DEFAULT 'draft' CONSTRAINT "ck_posts__state" CHECK ("state" IN ('draft', 'it''s'))"#),
            "{pg}"
        );
        assert!(
            pg.contains(r#""score" DOUBLE PRECISION DEFAULT 1.5"#),
            "{pg}"
        );
        assert!(pg.contains(r#""created_at" TIMESTAMPTZ NOT NULL"#), "{pg}");
    }

    #[test]
    fn unique_index_names_carry_fields() {
        let spec = IndexSpec {
            fields: vec!["email".into()],
            unique: true,
            only: Vec::new(),
        };
        assert_eq!(spec.name("users"), "ux_users__email");
        assert_eq!(fields_of_unique_index("ux_users__email"), vec!["email"]);
        assert!(create_index("users", &spec, Dialect::Sqlite).starts_with("CREATE UNIQUE INDEX"));
    }

    #[test]
    fn partial_indexes_carry_their_condition_and_a_short_distinct_name() {
        let spec = |v: &str| IndexSpec {
            fields: vec![
                "queue".into(),
                "priority".into(),
                "run_at".into(),
                "id".into(),
            ],
            unique: false,
            only: vec![("status".into(), v.into())],
        };
        let (pending, running) = (spec("pending"), spec("in-progress"));
        let name = pending.name("_plinth_jobs");
        assert!(
            name.starts_with("idx__plinth_jobs__queue__priority__run_at__id__p"),
            "{name}"
        );
        assert!(name.len() <= 63, "PostgreSQL would cut {name}");
        assert_ne!(name, running.name("_plinth_jobs"));
        for d in [Dialect::Sqlite, Dialect::Postgres] {
            let sql = create_index("_plinth_jobs", &pending, d);
            assert!(sql.ends_with(r#" WHERE "status" = 'pending'"#), "{sql}");
        }
        let quoted = IndexSpec {
            only: vec![("status".into(), "it's".into())],
            ..spec("x")
        };
        assert!(create_index("t", &quoted, Dialect::Sqlite).ends_with("'it''s'"));
    }
}
