//! Inserts derived from a stored record, run inside a unit: an `INSERT ... SELECT` from the
//! record itself, so what it reads (an audit entry's "before", an update trigger's `when`
//! and `@record` values) is read by the database inside the same transaction, never by a
//! separate read.

use chrono::{DateTime, Utc};
use plinth_manifest::FieldType;
use plinth_records::{Filter, Row, Value};
use sea_query::{Alias, Expr, ExprTrait, Query};
use uuid::Uuid;

use crate::table::Table;
use crate::unit::{Expect, Fold, Sql, Step};
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
    /// `INSERT INTO target (id, <row>, <timestamps>, <extra>) SELECT ... FROM source WHERE
    /// id = source_id [AND cond] [FOR UPDATE]`: inserts nothing when no row matches.
    #[allow(clippy::too_many_arguments)]
    fn insert_select(
        &self,
        target: &Table,
        id: Uuid,
        row: &Row,
        extra: Vec<(String, Expr)>,
        source: &Table,
        source_id: Uuid,
        cond: Option<&Filter>,
        lock: bool,
        now: DateTime<Utc>,
    ) -> Result<Sql, StoreError> {
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
        for (field, expr) in extra {
            names.push(Alias::new(field));
            select.expr(expr);
        }
        select.from(Alias::new(source.name())).and_where(
            Expr::col(Alias::new("id")).eq(self.bind(source, "id", &Value::Uuid(source_id))),
        );
        if let Some(cond) = cond {
            select.cond_where(self.condition(source, cond));
        }
        // PostgreSQL: take the row's lock as it is read (SQLite's writer is alone anyway).
        if lock && self.dialect() == Dialect::Postgres {
            select.lock(sea_query::LockType::Update);
        }
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(target.name()))
            .columns(names)
            .select_from(select)
            .map_err(|e| StoreError::Database(e.to_string()))?
            // What was inserted, if anything (an update trigger's event is announced only
            // when its row was written).
            .returning(Self::returning_all(target));
        Ok(self.inner.db.build(&insert))
    }

    /// Insert into `target` a record with the values of `row`, plus in `changes` the object
    /// `{"before": {<fields of source record source_id as they are now>}, "after": after}`.
    /// Inserts nothing when the source record is missing (the change that follows then
    /// misses too and fails the unit). Run before the change, so "before" is what the
    /// change replaces; on PostgreSQL the row is locked as it is read (`FOR UPDATE`), so no
    /// other change lands in between.
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
        // The text depends on the shape alone (`statements`); the values in the order the
        // statement binds them: the entry's id, its fields and timestamps, `after`, the
        // record's id.
        let key = (
            row.iter().map(|(f, _)| f.clone()).collect(),
            changes.to_owned(),
            source.name.clone(),
            fields.to_vec(),
        );
        let after = sea_query::Value::String(Some(crate::bind::json_text(after)));
        let mut values = vec![self.bind(target, "id", &Value::Uuid(id))];
        values.extend(row.iter().map(|(f, v)| self.bind(target, f, v)));
        for ts in ["created_at", "updated_at"] {
            if target.kind(ts).is_some() {
                values.push(self.bind(target, ts, &Value::Timestamp(now)));
            }
        }
        values.extend([
            after.clone(),
            self.bind(source, "id", &Value::Uuid(source_id)),
        ]);
        let build = |_: &[sea_query::Value]| {
            let d = self.dialect();
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
            let json = Expr::cust_with_expr(template, Expr::val(after));
            let extra = vec![(changes.to_owned(), json)];
            self.insert_select(target, id, row, extra, source, source_id, None, true, now)
        };
        let sql = target.snapshot_sql.get_or_build(key, values, build)?;
        let fold = Fold::Snapshot {
            table: source.name.clone(),
            id: source_id,
        };
        Ok(Step::new(sql, Expect::Any, Some(target.shape.clone())).fold(fold))
    }

    /// Insert into `target` a record with the values of `row` and, for each
    /// `(target field, source field)` of `columns`, that field of source record
    /// `source_id`, if the source record (as it is at this point of the unit) satisfies
    /// `cond`: an update trigger, placed after the update.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_from_step(
        &self,
        target: &Table,
        id: Uuid,
        row: &Row,
        columns: &[(String, String)],
        source: &Table,
        source_id: Uuid,
        cond: Option<&Filter>,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let extra = columns
            .iter()
            .map(|(to, from)| (to.clone(), Expr::col(Alias::new(from.as_str()))))
            .collect();
        let sql =
            self.insert_select(target, id, row, extra, source, source_id, cond, false, now)?;
        Ok(Step::new(sql, Expect::Any, Some(target.shape.clone())))
    }
}
