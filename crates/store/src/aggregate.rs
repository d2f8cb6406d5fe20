//! Aggregates compiled to one `SELECT ... GROUP BY` per collection, on both databases:
//! conditional measures are `CASE WHEN` inside the function, so one scan answers them all.

use std::sync::Arc;

use plinth_context::Ctx;
use plinth_manifest::{BucketSize, FieldType, MeasureFn};
use plinth_records::{Column, Filter, Record, Shape};
use sea_query::{Alias, Expr, Order, Query};

use crate::crud::log_failure;
use crate::table::Table;
use crate::{Dialect, Store, StoreError};

/// One measured value.
#[derive(Debug, Clone)]
pub struct MeasureQuery {
    /// Its output (wire) name.
    pub wire: String,
    /// The function.
    pub func: MeasureFn,
    /// The field measured (none for a count).
    pub field: Option<String>,
    /// Only rows satisfying this count towards it.
    pub when: Option<Filter>,
}

/// A checked aggregate over one table.
#[derive(Debug, Clone, Default)]
pub struct AggregateQuery {
    /// Rows measured (access rule and the aggregate's condition).
    pub filter: Option<Filter>,
    /// A time bucket: field, size and output name; grouped by first.
    pub bucket: Option<(String, BucketSize, String)>,
    /// Fields grouped by, with their output names.
    pub group: Vec<(String, String)>,
    /// The values.
    pub measures: Vec<MeasureQuery>,
}

/// The bucket's start date (`YYYY-MM-DD`, UTC) of a timestamp column. Timestamps are
/// RFC 3339 text on SQLite and `timestamptz` on PostgreSQL. The SQL holds no parameters,
/// so the same text can repeat in GROUP BY and ORDER BY.
fn bucket_sql(field: &str, size: BucketSize, d: Dialect) -> Expr {
    let col = Expr::col(Alias::new(field));
    let template = match (d, size) {
        (Dialect::Sqlite, BucketSize::Day) => "strftime('%Y-%m-%d', $1)",
        (Dialect::Sqlite, BucketSize::Week) => "date($1, 'weekday 0', '-6 days')",
        (Dialect::Sqlite, BucketSize::Month) => "strftime('%Y-%m-01', $1)",
        (Dialect::Postgres, BucketSize::Day) => {
            "to_char(date_trunc('day', $1 AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
        }
        (Dialect::Postgres, BucketSize::Week) => {
            "to_char(date_trunc('week', $1 AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
        }
        (Dialect::Postgres, BucketSize::Month) => {
            "to_char(date_trunc('month', $1 AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
        }
    };
    custom(template, col, d)
}

/// `template` with `$1` standing for `arg`, written in the dialect's placeholder (sea-query
/// reads `?` on SQLite and `$1` on PostgreSQL).
fn custom(template: &str, arg: Expr, d: Dialect) -> Expr {
    let template = match d {
        Dialect::Sqlite => template.replace("$1", "?"),
        Dialect::Postgres => template.to_owned(),
    };
    Expr::cust_with_expr(template, arg)
}

impl Store {
    /// The SQL of one measure: sums and averages as double precision (PostgreSQL's SUM of
    /// integers is `numeric`), a sum of no rows as 0.
    fn measure_sql(&self, table: &Table, m: &MeasureQuery) -> Expr {
        let arg = match (&m.field, m.func) {
            (Some(f), _) => Expr::col(Alias::new(f.as_str())),
            // A literal, not a parameter: PostgreSQL cannot type `COUNT($1)`.
            (None, _) => Expr::cust("1"),
        };
        let arg = match &m.when {
            Some(cond) => Expr::case(self.condition(table, cond), arg).into(),
            None => arg,
        };
        let template = match m.func {
            MeasureFn::Count => "COUNT($1)",
            MeasureFn::Sum => "CAST(COALESCE(SUM($1), 0) AS DOUBLE PRECISION)",
            MeasureFn::Avg => "CAST(AVG($1) AS DOUBLE PRECISION)",
            MeasureFn::Min => "MIN($1)",
            MeasureFn::Max => "MAX($1)",
        };
        custom(template, arg, self.dialect())
    }

    /// Run an aggregate over `table`: one row when ungrouped, else one per group in order.
    pub async fn aggregate(
        &self,
        ctx: &Ctx,
        table: &Table,
        q: &AggregateQuery,
    ) -> Result<Vec<Record>, StoreError> {
        let d = self.dialect();
        let mut select = Query::select();
        select.from(Alias::new(table.name()));
        let mut columns = Vec::new();
        let mut out = |wire: &str, kind| {
            // Generated aliases: output names are wire names, which SQL need not see.
            let alias = format!("c{}", columns.len());
            columns.push(Column {
                name: alias.clone(),
                wire: wire.to_owned(),
                kind,
                hidden: false,
            });
            Alias::new(alias)
        };
        if let Some((field, size, wire)) = &q.bucket {
            let expr = bucket_sql(field, *size, d);
            select.expr_as(expr.clone(), out(wire, FieldType::Text));
            select.add_group_by([expr.clone()]);
            select.order_by_expr(expr, Order::Asc);
        }
        for (field, wire) in &q.group {
            let kind = table.kind(field).unwrap_or(FieldType::Text);
            select.expr_as(Expr::col(Alias::new(field.as_str())), out(wire, kind));
            select.add_group_by([Expr::col(Alias::new(field.as_str()))]);
            select.order_by(Alias::new(field.as_str()), Order::Asc);
        }
        for m in &q.measures {
            let kind = match (m.func, &m.field) {
                (MeasureFn::Count, _) => FieldType::Int,
                (MeasureFn::Sum | MeasureFn::Avg, _) => FieldType::Float,
                (_, Some(f)) => table.kind(f).unwrap_or(FieldType::Float),
                (_, None) => FieldType::Float,
            };
            select.expr_as(self.measure_sql(table, m), out(&m.wire, kind));
        }
        if let Some(f) = &q.filter {
            select.cond_where(self.condition(table, f));
        }
        let db = &self.inner.db;
        db.query(db.build(&select), Arc::new(Shape::new(columns)))
            .await
            .inspect_err(|e| log_failure(ctx, e))
    }
}
