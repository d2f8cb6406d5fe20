//! Checked filters (`?filter=`) compiled to a sea-query condition: every value is bound.

use plinth_records::{CmpOp, Filter, Rhs, Value};
use sea_query::extension::postgres::PgExpr;
use sea_query::{Alias, Condition, Expr, ExprTrait, LikeExpr};

use crate::table::Table;
use crate::{Dialect, Store};

/// `%`, `_` and `\` are LIKE syntax; escape them so `~` means "contains" literally.
/// PostgreSQL's LIKE escapes with `\` by default; SQLite needs an ESCAPE clause.
fn contains_pattern(s: &str, d: Dialect) -> LikeExpr {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    match d {
        Dialect::Sqlite => LikeExpr::new(p).escape('\\'),
        Dialect::Postgres => LikeExpr::new(p),
    }
}

fn compare(left: Expr, op: CmpOp, right: Expr) -> Expr {
    match op {
        CmpOp::Ne => left.ne(right),
        CmpOp::Gt => left.gt(right),
        CmpOp::Ge => left.gte(right),
        CmpOp::Lt => left.lt(right),
        CmpOp::Le => left.lte(right),
        // `~` on two fields is refused when the filter is checked; equality is the rest.
        CmpOp::Eq | CmpOp::Like | CmpOp::NotLike => left.eq(right),
    }
}

impl Store {
    /// The WHERE condition of a checked filter.
    pub(crate) fn condition(&self, table: &Table, f: &Filter) -> Condition {
        match f {
            Filter::And(parts) => parts
                .iter()
                .fold(Condition::all(), |c, p| c.add(self.condition(table, p))),
            Filter::Or(parts) => parts
                .iter()
                .fold(Condition::any(), |c, p| c.add(self.condition(table, p))),
            Filter::Not(inner) => Condition::all().add(self.condition(table, inner)).not(),
            // Constants, not client input: both dialects know TRUE and FALSE.
            Filter::Const(b) => Condition::all().add(Expr::cust(if *b { "TRUE" } else { "FALSE" })),
            Filter::Cmp { field, op, right } => {
                Condition::all().add(self.comparison(table, field, *op, right))
            }
        }
    }

    fn comparison(&self, table: &Table, field: &str, op: CmpOp, right: &Rhs) -> Expr {
        let col = Expr::col(Alias::new(field));
        match right {
            Rhs::Field(other) => compare(col, op, Expr::col(Alias::new(other.as_str()))),
            Rhs::Value(Value::Null) if op == CmpOp::Ne => col.is_not_null(),
            Rhs::Value(Value::Null) => col.is_null(),
            // Case-insensitive on both databases: SQLite's LIKE already is (ASCII).
            Rhs::Value(Value::Text(s)) if matches!(op, CmpOp::Like | CmpOp::NotLike) => {
                let like = contains_pattern(s, self.dialect());
                match (self.dialect(), op) {
                    (Dialect::Postgres, CmpOp::Like) => col.ilike(like),
                    (Dialect::Postgres, _) => col.not_ilike(like),
                    (Dialect::Sqlite, CmpOp::Like) => col.like(like),
                    (Dialect::Sqlite, _) => col.not_like(like),
                }
            }
            Rhs::Value(v) => compare(col, op, Expr::val(self.bind(table, field, v))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    #[test]
    fn contains_escapes_like_syntax_and_binds_the_pattern() {
        let title = || Expr::col(Alias::new("title"));
        let mut pg = Query::select();
        pg.column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(title().ilike(contains_pattern("50%_\\", Dialect::Postgres)));
        let (sql, values) = pg.build(PostgresQueryBuilder);
        assert_eq!(sql, r#"SELECT "id" FROM "t" WHERE "title" ILIKE $1"#);
        assert_eq!(
            values.0,
            vec![sea_query::Value::String(Some(r"%50\%\_\\%".into()))]
        );
        let mut lite = Query::select();
        lite.column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(title().like(contains_pattern("a", Dialect::Sqlite)));
        let (sql, _) = lite.build(SqliteQueryBuilder);
        assert_eq!(
            sql,
            r#"SELECT "id" FROM "t" WHERE "title" LIKE ? ESCAPE '\'"#
        );
    }
}
