//! Record reads, and the statements of record writes (steps for a [`WriteUnit`]).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use plinth_context::Ctx;
use plinth_manifest::FieldType;
use plinth_records::{Filter, ListQuery, Record, Row, TotalMode, Value};
use sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, QueryStatementBuilder, SelectStatement,
    Values,
};
use uuid::Uuid;

use crate::bind::to_sea;
use crate::table::Table;
use crate::unit::{Counting, Expect, Fold, Miss, Step, StepOut, Total, WriteUnit};
use crate::{Store, StoreError};

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records on this page.
    pub items: Vec<Record>,
    /// How many records match, over all pages (`None` when the client asked for no total).
    pub total: Option<Total>,
    /// Page size used.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

impl Store {
    pub(crate) fn bind(&self, table: &Table, field: &str, v: &Value) -> sea_query::Value {
        let kind = table.kind(field).unwrap_or(FieldType::Text);
        to_sea(v, kind, self.dialect())
    }

    /// `SELECT <all columns> FROM <table> WHERE id = ?`, built once per collection at open.
    pub(crate) fn by_id_sql(db: &crate::executor::Db, table: &Table) -> String {
        let mut q = Self::select_all_of(table);
        q.and_where(Expr::col(col("id")).eq(sea_query::Value::String(None)));
        db.build(&q).0
    }

    pub(crate) fn select_all_of(table: &Table) -> SelectStatement {
        let mut q = Query::select();
        q.columns(table.shape.columns.iter().map(|c| col(&c.name)))
            .from(col(&table.name));
        q
    }

    pub(crate) fn returning_all(table: &Table) -> sea_query::ReturningClause {
        Query::returning().columns(table.shape.columns.iter().map(|c| col(&c.name)))
    }

    /// One record by id.
    pub async fn get(
        &self,
        ctx: &Ctx,
        table: &Table,
        id: Uuid,
    ) -> Result<Option<Record>, StoreError> {
        let values = Values(vec![self.bind(table, "id", &Value::Uuid(id))]);
        let rows = self
            .inner
            .db
            .point_read((table.by_id_sql.clone(), values), table.shape.clone())
            .await
            .inspect_err(|e| log_failure(ctx, e))?;
        Ok(rows.into_iter().next())
    }

    /// A page of records with the total count.
    pub async fn list(&self, ctx: &Ctx, table: &Table, lq: &ListQuery) -> Result<Page, StoreError> {
        let mut rows = Self::select_all_of(table);
        let mut count = Query::select();
        count
            .expr(Func::count(Expr::col(Asterisk)))
            .from(col(&table.name));
        for (field, v) in &lq.equals {
            let cond = match v {
                Value::Null => Expr::col(col(field)).is_null(),
                v => Expr::col(col(field)).eq(self.bind(table, field, v)),
            };
            rows.and_where(cond.clone());
            count.and_where(cond);
        }
        if let Some(f) = &lq.filter {
            let cond = self.condition(table, f);
            rows.cond_where(cond.clone());
            count.cond_where(cond);
        }
        for key in &lq.sort {
            let order = if key.desc { Order::Desc } else { Order::Asc };
            rows.order_by(col(&key.field), order);
        }
        let db = &self.inner.db;
        let unfiltered = lq.equals.is_empty() && lq.filter.is_none();
        let counting = match lq.total {
            TotalMode::Skip => Counting::Skip,
            TotalMode::Estimated if unfiltered => Counting::Estimate {
                table: format!("\"{}\"", table.name),
                exact: db.build(&count),
            },
            _ => Counting::Exact(db.build(&count)),
        };
        let (items, total) = db
            .page(
                db.build_page(rows, u64::from(lq.limit), lq.offset),
                counting,
                table.shape.clone(),
            )
            .await
            .inspect_err(|e| log_failure(ctx, e))?;
        Ok(Page {
            items,
            total,
            limit: lq.limit,
            offset: lq.offset,
        })
    }

    /// `id` and `columns` of every record of `table` (for fan-out to all of a small
    /// collection, e.g. one alert per user), in id order.
    pub async fn scan(
        &self,
        ctx: &Ctx,
        table: &Table,
        columns: &[String],
    ) -> Result<Vec<Record>, StoreError> {
        let mut names = vec!["id".to_owned()];
        names.extend(columns.iter().filter(|c| *c != "id").cloned());
        let shape: Vec<(&str, FieldType)> = names
            .iter()
            .map(|n| (n.as_str(), table.kind(n).unwrap_or(FieldType::Text)))
            .collect();
        let mut q = Query::select();
        q.columns(names.iter().map(|n| col(n)))
            .from(col(&table.name))
            .order_by(col("id"), Order::Asc);
        let db = &self.inner.db;
        db.query(
            db.build(&q),
            std::sync::Arc::new(plinth_records::Shape::plain(&shape)),
        )
        .await
        .inspect_err(|e| log_failure(ctx, e))
    }

    /// Apply a write unit atomically; one output per step, in order.
    pub async fn apply(&self, ctx: &Ctx, mut unit: WriteUnit) -> Result<Vec<StepOut>, StoreError> {
        tracing::debug!(request_id = %ctx.request_id, steps = unit.len(), "apply write unit");
        // Most units echo nothing, and an empty Vec allocates nothing.
        let echoes: Vec<(usize, Record)> = unit
            .steps
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.echo.take().map(|r| (i, r)))
            .collect();
        let mut outs = self
            .inner
            .db
            .apply(unit)
            .await
            .inspect_err(|e| log_failure(ctx, e))?;
        for (i, row) in echoes {
            if let Some(out) = outs.get_mut(i) {
                *out = StepOut::Rows(vec![row]);
            }
        }
        Ok(outs)
    }

    /// An insert like [`Store::insert_step`] whose output is the record as given here
    /// (`id`, `row`, timestamps `now`; database defaults of fields it leaves out read as
    /// null) rather than read back: on PostgreSQL it can then ride in the statement of
    /// another insert (`pg_merge`). For rows Plinth reads right after the commit, such as
    /// outbox events.
    pub fn insert_echo_step(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let stamp = serde_json::Value::String(plinth_records::format_timestamp(&now));
        let values = table
            .shape
            .columns
            .iter()
            .map(|c| match c.name.as_str() {
                "id" => serde_json::Value::String(id.to_string()),
                "created_at" | "updated_at" => stamp.clone(),
                name => row
                    .iter()
                    .find(|(f, _)| f == name)
                    .map_or(serde_json::Value::Null, |(_, v)| v.to_json()),
            })
            .collect();
        let mut step = self.insert_step(table, id, row, now)?.quiet();
        step.echo = Some(Record::new(table.shape.clone(), values));
        Ok(step)
    }

    /// The columns and bound values of a new row: `id`, the row's fields, and the
    /// timestamps the table keeps, stamped `now`.
    pub(crate) fn insert_columns(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
    ) -> (Vec<Alias>, Vec<sea_query::Value>) {
        let now = Value::Timestamp(now);
        let mut names = Vec::with_capacity(row.len() + 3);
        let mut values = Vec::with_capacity(row.len() + 3);
        names.push(col("id"));
        values.push(self.bind(table, "id", &Value::Uuid(id)));
        for (field, v) in row {
            names.push(col(field));
            values.push(self.bind(table, field, v));
        }
        for ts in ["created_at", "updated_at"] {
            if table.kind(ts).is_some() {
                names.push(col(ts));
                values.push(self.bind(table, ts, &now));
            }
        }
        (names, values)
    }

    /// What an insert's text depends on (`statements`): the positions of the columns
    /// `row` gives. None for a row naming a column the table lacks: built (and refused)
    /// every time.
    pub(crate) fn insert_shape(table: &Table, row: &Row) -> Option<Vec<usize>> {
        let key: Vec<usize> = row
            .iter()
            .filter_map(|(f, _)| table.shape.index(f))
            .collect();
        (key.len() == row.len()).then_some(key)
    }

    /// Insert a validated row under `id`, stamped `now`; the stored record is returned.
    pub fn insert_step(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        self.insert_guarded_step(table, id, row, now, None)
    }

    /// [`Store::insert_step`], or with a `guard` (a function's name and its arguments)
    /// `INSERT ... SELECT <values> WHERE guard(<arguments>)`: the function runs before the
    /// row is written, and an error it raises fails the statement.
    pub(crate) fn insert_guarded_step(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
        guard: Option<(&str, Vec<sea_query::Value>)>,
    ) -> Result<Step, StoreError> {
        let (names, mut values) = self.insert_columns(table, id, row, now);
        let columns = values.len();
        let (cache, guard) = match guard {
            Some((name, args)) => {
                values.extend(args);
                (&table.guarded_insert_sql, Some(name))
            }
            None => (&table.insert_sql, None),
        };
        let build = |values: &[sea_query::Value]| {
            let (row, args) = values.split_at(columns);
            let row = row.iter().cloned().map(Expr::val);
            let mut q = Query::insert();
            q.into_table(col(&table.name)).columns(names);
            match guard {
                None => q.values(row).map(|_| ()).map_err(|e| e.to_string()),
                Some(name) => {
                    let mut select = Query::select();
                    let call = Func::cust(col(name)).args(args.iter().cloned().map(Expr::val));
                    select.exprs(row).and_where(call.into());
                    q.select_from(select).map(|_| ()).map_err(|e| e.to_string())
                }
            }
            .map_err(StoreError::Database)?;
            q.returning(Self::returning_all(table));
            Ok::<_, StoreError>(self.inner.db.build(&q))
        };
        let sql = match Self::insert_shape(table, row) {
            Some(key) => cache.get_or_build(key, values, build)?,
            None => build(&values)?,
        };
        let step = Step::new(sql, Expect::One(Miss::Conflict), Some(table.shape.clone()));
        Ok(step.by_key().fold(Fold::Insert))
    }

    /// The SET list of an update: the row's values, and `updated_at = now` when kept.
    pub(crate) fn sets(&self, table: &Table, row: &Row, now: DateTime<Utc>) -> Vec<(Alias, Expr)> {
        self.set_values(table, row, now)
            .into_iter()
            .map(|(f, v)| (col(f), v.into()))
            .collect()
    }

    /// The columns an update sets and their bound values, in SET order: the row's, then
    /// `updated_at = now` when the table keeps it.
    fn set_values<'a>(
        &self,
        table: &Table,
        row: &'a Row,
        now: DateTime<Utc>,
    ) -> Vec<(&'a str, sea_query::Value)> {
        let mut sets = Vec::with_capacity(row.len() + 1);
        sets.extend(
            row.iter()
                .map(|(f, v)| (f.as_str(), self.bind(table, f, v))),
        );
        if table.has_updated_at {
            let now = Value::Timestamp(now);
            sets.push(("updated_at", self.bind(table, "updated_at", &now)));
        }
        sets
    }

    /// Apply a validated partial row to record `id`, stamped `now`; the record is returned.
    /// A missing record fails the unit with [`Miss::NotFound`].
    pub fn update_step(&self, table: &Table, id: Uuid, row: &Row, now: DateTime<Utc>) -> Step {
        let sets = self.sets(table, row, now);
        let changes = !sets.is_empty();
        let id_is = Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id)));
        let sql = if !changes {
            // Nothing to change: read the record back so the caller still gets it.
            let mut q = Self::select_all_of(table);
            q.and_where(id_is);
            self.inner.db.build(&q)
        } else {
            let mut q = Query::update();
            q.table(col(&table.name))
                .values(sets)
                .and_where(id_is)
                .returning(Self::returning_all(table));
            self.inner.db.build(&q)
        };
        let step = Step::new(sql, Expect::One(Miss::NotFound), Some(table.shape.clone())).by_key();
        match changes {
            false => step,
            true => step.fold(Fold::Update {
                table: table.name.clone(),
                id,
            }),
        }
    }

    /// Apply a validated partial row to record `id` if it also matches `guard` (a state, an
    /// access rule) when there is one, stamped `now`; the record is returned. A miss (no
    /// such record, or the guard not met) changes nothing: the step answers no row.
    pub fn update_record_step(
        &self,
        table: &Table,
        id: Uuid,
        guard: Option<Filter>,
        row: &Row,
        now: DateTime<Utc>,
    ) -> Step {
        let id_is = Filter::eq("id", Value::Uuid(id));
        let filter = match guard {
            Some(guard) => Filter::And(vec![id_is, guard]),
            None => id_is,
        };
        self.update_where_step(table, &filter, row, now)
            .by_key()
            .fold(Fold::Update {
                table: table.name.clone(),
                id,
            })
    }

    /// Copy a field of related records into record `id`, read in the same statement:
    /// `UPDATE t SET name = (SELECT name FROM users WHERE users.id = t.assigned_to) WHERE
    /// id = ? RETURNING *` (kept as it was when there is no related record). Each copy is
    /// `(field, relation, related table, related field)`;
    /// a missing record fails the unit with [`Miss::NotFound`].
    pub fn copy_related_step(
        &self,
        table: &Table,
        id: Uuid,
        copies: &[(String, String, String, String)],
    ) -> Step {
        let mut q = Query::update();
        q.table(col(&table.name));
        for (field, relation, rtable, rfield) in copies {
            let mut read = Query::select();
            read.column(col(rfield)).from(col(rtable)).and_where(
                Expr::col((col(rtable), col("id"))).equals((col(&table.name), col(relation))),
            );
            // No related record (a null relation) leaves the field as it was.
            let read = Expr::SubQuery(None, Box::new(read.into_sub_query_statement()));
            q.value(
                col(field),
                Expr::from(Func::coalesce([read, Expr::col(col(field))])),
            );
        }
        q.and_where(Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id))))
            .returning(Self::returning_all(table));
        Step::new(
            self.inner.db.build(&q),
            Expect::One(Miss::NotFound),
            Some(table.shape.clone()),
        )
    }

    /// A guarded change: set `row` (stamped `now`) on every record matching `filter`
    /// (`UPDATE ... WHERE <filter> RETURNING`); the caller sets the expectation.
    pub fn update_where_step(
        &self,
        table: &Table,
        filter: &Filter,
        row: &Row,
        now: DateTime<Utc>,
    ) -> Step {
        // The key: the columns set, then the filter's shape; the values in binding order.
        let sets = self.set_values(table, row, now);
        let mut key = String::new();
        for (f, _) in &sets {
            let _ = write!(key, "\"{f}\",");
        }
        key.push_str(" where ");
        let columns: Vec<&str> = sets.iter().map(|(f, _)| *f).collect();
        let mut values: Vec<sea_query::Value> = sets.into_iter().map(|(_, v)| v).collect();
        self.filter_shape(table, filter, &mut key, &mut values);
        // Built from the values above, so it binds what the key names.
        let build = |values: &[sea_query::Value]| {
            let sets = columns
                .iter()
                .map(|f| col(f))
                .zip(values.iter().cloned().map(Expr::from));
            let mut q = Query::update();
            q.table(col(&table.name))
                .values(sets)
                .cond_where(self.condition(table, filter))
                .returning(Self::returning_all(table));
            Ok::<_, std::convert::Infallible>(self.inner.db.build(&q))
        };
        let Ok(sql) = table.update_sql.get_or_build_exact(key, values, build);
        Step::new(sql, Expect::Any, Some(table.shape.clone()))
    }

    /// Add `by` to the int column `field` of record `id` in the database itself (no lost
    /// updates under concurrency); the record is returned. A missing record fails the unit
    /// with [`Miss::NotFound`].
    pub fn bump_step(&self, table: &Table, id: Uuid, field: &str, by: i64) -> Step {
        let mut q = Query::update();
        q.table(col(&table.name))
            .value(col(field), Expr::col(col(field)).add(by))
            .and_where(Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id))))
            .returning(Self::returning_all(table));
        Step::new(
            self.inner.db.build(&q),
            Expect::One(Miss::NotFound),
            Some(table.shape.clone()),
        )
        .by_key()
    }

    /// Count one hit of `key` in the window starting `window_start`, in one atomic
    /// statement that several nodes can run at once: `INSERT ... ON CONFLICT (key) DO
    /// UPDATE` adds one to `hits` within the same window and restarts at 1 in a new one
    /// (so an old window's row is reused, never piled up). The row is returned. For a
    /// table with a unique text `key`, a timestamp `window_start` and an int `hits`
    /// (`_plinth_rate_limits`); `id` is used only when the key is new.
    pub fn hit_step(
        &self,
        table: &Table,
        id: Uuid,
        key: &str,
        window_start: DateTime<Utc>,
    ) -> Result<Step, StoreError> {
        let me = |c: &str| Expr::col((col(&table.name), col(c)));
        let excluded = |c: &str| Expr::col((col("excluded"), col(c)));
        let same_window = me("window_start").eq(excluded("window_start"));
        // i64 like the column: PostgreSQL reads a bound 1 as the column's int8.
        let hits = Expr::case(same_window, me("hits").add(1i64)).finally(1i64);
        let values = [
            self.bind(table, "id", &Value::Uuid(id)),
            self.bind(table, "key", &Value::Text(key.to_owned())),
            self.bind(table, "window_start", &Value::Timestamp(window_start)),
            self.bind(table, "hits", &Value::Int(1)),
        ];
        let mut q = Query::insert();
        q.into_table(col(&table.name))
            .columns(["id", "key", "window_start", "hits"].map(col))
            .values(values.into_iter().map(Expr::from))
            .map_err(|e| StoreError::Database(e.to_string()))?
            .on_conflict(
                sea_query::OnConflict::column(col("key"))
                    .value(col("hits"), hits)
                    .value(col("window_start"), excluded("window_start"))
                    .to_owned(),
            )
            .returning(Self::returning_all(table));
        let step = Step::new(
            self.inner.db.build(&q),
            Expect::Any,
            Some(table.shape.clone()),
        );
        Ok(step.by_key())
    }

    /// The first record matching `filter`, if any (lookups by a unique field).
    pub async fn find(
        &self,
        ctx: &Ctx,
        table: &Table,
        filter: Filter,
    ) -> Result<Option<Record>, StoreError> {
        // A point read like `get` (on SQLite inline on an idle reader, no hop to a reader
        // thread): rule-checked views take this path on every request.
        let mut q = Self::select_all_of(table);
        q.cond_where(self.condition(table, &filter));
        let db = &self.inner.db;
        let rows = db
            .point_read(db.build_page(q, 1, 0), table.shape.clone())
            .await
            .inspect_err(|e| log_failure(ctx, e))?;
        Ok(rows.into_iter().next())
    }

    /// Delete every record matching `filter` (a guarded delete); the caller sets the
    /// expectation.
    pub fn delete_where_step(&self, table: &Table, filter: &Filter) -> Step {
        let mut q = Query::delete();
        q.from_table(col(&table.name))
            .cond_where(self.condition(table, filter));
        Step::new(self.inner.db.build(&q), Expect::Any, None)
    }

    /// Delete record `id`; a missing record fails the unit with [`Miss::NotFound`].
    pub fn delete_step(&self, table: &Table, id: Uuid) -> Step {
        let mut q = Query::delete();
        q.from_table(col(&table.name))
            .and_where(Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id))));
        Step::new(self.inner.db.build(&q), Expect::One(Miss::NotFound), None).by_key()
    }
}

/// Client mistakes surface as typed errors; only faults are worth a log line here.
pub(crate) fn log_failure(ctx: &Ctx, e: &StoreError) {
    if matches!(e, StoreError::Database(_) | StoreError::Unavailable(_)) {
        tracing::warn!(request_id = %ctx.request_id, app = %ctx.app, error = %e, "database call failed");
    }
}
