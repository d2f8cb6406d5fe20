//! Audit entries that record a record's values as they were: an `INSERT ... SELECT` from
//! the record itself, run in the change's unit just before the change, so the "before"
//! half is read by the database inside the same transaction, never by a separate read.

use chrono::{DateTime, Utc};
use plinth_manifest::FieldType;
use plinth_records::{Row, Value};
use sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use crate::table::Table;
use crate::unit::{Expect, Step};
use crate::{Dialect, Store, StoreError};

/// A JSON object of `fields` of the current row, in the dialect's JSON builder. Names
/// are checked manifest identifiers, so they can be written as literals.
fn before_object(source: &Table, fields: &[String], d: Dialect) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| {
            let value = match (d, source.kind(f)) {
                // SQLite keeps JSON as text and booleans as 0/1: give them their JSON type.
                (Dialect::Sqlite, Some(FieldType::Json)) => format!("json(\"{f}\")"),
                (Dialect::Sqlite, Some(FieldType::Bool)) => format!(
                    "CASE WHEN \"{f}\" IS NULL THEN NULL WHEN \"{f}\" THEN json('true') ELSE json('false') END"
                ),
                _ => format!("\"{f}\""),
            };
            format!("'{f}', {value}")
        })
        .collect();
    match d {
        Dialect::Sqlite => format!("json_object({})", parts.join(", ")),
        Dialect::Postgres => format!("jsonb_build_object({})", parts.join(", ")),
    }
}

impl Store {
    /// Insert into `target` a record with the values of `row`, plus in `changes` the object
    /// `{"before": {<fields of source record source_id as they are now>}, "after": after}`.
    /// Inserts nothing when the source record is missing (the change that follows then
    /// misses too and fails the unit). On PostgreSQL the source row is locked
    /// (`FOR UPDATE`) so that "before" is what the change replaces.
    #[allow(clippy::too_many_arguments)]
    pub fn snapshot_step(
        &self,
        target: &Table,
        id: Uuid,
        row: &Row,
        changes: &str,
        source: &Table,
        source_id: Uuid,
        fields: &[String],
        after: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let d = self.dialect();
        let mut names = vec![Alias::new("id")];
        let mut select = Query::select();
        select.expr(Expr::val(self.bind(target, "id", &Value::Uuid(id))));
        for (field, v) in row {
            names.push(Alias::new(field.as_str()));
            select.expr(Expr::val(self.bind(target, field, v)));
        }
        for ts in ["created_at", "updated_at"] {
            if target.kind(ts).is_some() {
                names.push(Alias::new(ts));
                select.expr(Expr::val(self.bind(target, ts, &Value::Timestamp(now))));
            }
        }
        names.push(Alias::new(changes));
        let template = match d {
            Dialect::Sqlite => format!(
                "json_object('before', {}, 'after', json(?))",
                before_object(source, fields, d)
            ),
            Dialect::Postgres => format!(
                "jsonb_build_object('before', {}, 'after', CAST(CAST($1 AS text) AS jsonb))",
                before_object(source, fields, d)
            ),
        };
        let after = sea_query::Value::String(Some(after.to_string()));
        select
            .expr(Expr::cust_with_expr(template, Expr::val(after)))
            .from(Alias::new(source.name()))
            .and_where(Expr::col(Alias::new("id")).eq(self.bind(
                source,
                "id",
                &Value::Uuid(source_id),
            )));
        if d == Dialect::Postgres {
            select.lock(sea_query::LockType::Update);
        }
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(target.name()))
            .columns(names)
            .select_from(select)
            .map_err(|e| StoreError::Database(e.to_string()))?;
        Ok(Step::new(self.inner.db.build(&insert), Expect::Any, None))
    }
}
