//! Checked filters (`?filter=`) compiled to a sea-query condition: every value is bound.

use std::fmt::Write as _;

use plinth_records::{CmpOp, Filter, Rhs, Value};
use sea_query::extension::postgres::PgExpr;
use sea_query::{Alias, Condition, Expr, ExprTrait, LikeExpr, Query};

use crate::table::Table;
use crate::{Dialect, Store};

/// `%`, `_` and `\` are LIKE syntax; escape them so `~` means "contains" literally.
/// PostgreSQL's LIKE escapes with `\` by default; SQLite needs an ESCAPE clause.
fn contains_pattern(s: &str, d: Dialect) -> LikeExpr {
    let p = contains_text(s);
    match d {
        Dialect::Sqlite => LikeExpr::new(p).escape('\\'),
        Dialect::Postgres => LikeExpr::new(p),
    }
}

/// The text of [`contains_pattern`], the value it binds.
fn contains_text(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
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
            // `field IN (SELECT id FROM target WHERE inner)`: one level deep, indexed by the
            // target's primary key.
            Filter::Related {
                field,
                target,
                inner,
            } => match self.table(target) {
                Some(t) => {
                    let mut sub = Query::select();
                    sub.column(Alias::new("id"))
                        .from(Alias::new(target.as_str()))
                        .cond_where(self.condition(t, inner));
                    Condition::all().add(Expr::col(Alias::new(field.as_str())).in_subquery(sub))
                }
                None => Condition::all().add(Expr::cust("FALSE")),
            },
        }
    }

    /// What [`Store::condition`] makes of `f` apart from its values, written to `key`, and
    /// the values it binds, pushed to `values` in the order it binds them: the shape and
    /// values of a statement whose text is kept ([`crate::statements`]). It walks the filter
    /// as `condition` does; where the two could ever disagree, the text is not kept.
    pub(crate) fn filter_shape(
        &self,
        table: &Table,
        f: &Filter,
        key: &mut String,
        values: &mut Vec<sea_query::Value>,
    ) {
        match f {
            Filter::And(parts) | Filter::Or(parts) => {
                key.push_str(if matches!(f, Filter::And(_)) {
                    "and("
                } else {
                    "or("
                });
                for p in parts {
                    self.filter_shape(table, p, key, values);
                    key.push(',');
                }
                key.push(')');
            }
            Filter::Not(inner) => {
                key.push_str("not ");
                self.filter_shape(table, inner, key, values);
            }
            Filter::Const(b) => key.push_str(if *b { "true" } else { "false" }),
            // Names are quoted: a checked name never holds a quote.
            Filter::Cmp { field, op, right } => {
                let _ = write!(key, "\"{field}\" {op:?} ");
                match right {
                    Rhs::Field(other) => {
                        let _ = write!(key, "\"{other}\"");
                    }
                    Rhs::Value(Value::Null) => key.push_str("null"),
                    Rhs::Value(Value::Text(s)) if matches!(op, CmpOp::Like | CmpOp::NotLike) => {
                        key.push('?');
                        values.push(sea_query::Value::String(Some(contains_text(s))));
                    }
                    Rhs::Value(v) => {
                        key.push('?');
                        values.push(self.bind(table, field, v));
                    }
                }
            }
            Filter::Related {
                field,
                target,
                inner,
            } => match self.table(target) {
                Some(t) => {
                    let _ = write!(key, "\"{field}\" in \"{target}\"(");
                    self.filter_shape(t, inner, key, values);
                    key.push(')');
                }
                None => key.push_str("false"),
            },
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

    mod properties {
        use std::sync::{Arc, OnceLock};

        use plinth_records::{CmpOp, Filter, Rhs, Value};
        use proptest::prelude::*;
        use sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

        use crate::table::Table;
        use crate::{DbUrl, Store, StoreOptions};

        /// One store and table for every case (opening is the slow part).
        fn fixture() -> &'static (Store, Arc<Table>, tempfile::TempDir) {
            static F: OnceLock<(Store, Arc<Table>, tempfile::TempDir)> = OnceLock::new();
            F.get_or_init(|| {
                let dir = tempfile::tempdir().expect("dir");
                let m = plinth_manifest::parse("name: t\ncollections:\n  items:\n    fields:\n      title: { type: text }\n      n: { type: int }\n")
                    .expect("manifest");
                let url = secrecy::SecretString::from(format!("sqlite://{}", dir.path().join("t.db").display()));
                let rt = tokio::runtime::Runtime::new().expect("runtime");
                let store = rt
                    .block_on(Store::open(&m, StoreOptions { url: DbUrl::parse(&url, "t").expect("url"), migrations_dir: None }))
                    .expect("open");
                let table = store.table("items").expect("items").clone();
                (store, table, dir)
            })
        }

        fn op() -> impl Strategy<Value = CmpOp> {
            prop_oneof![
                Just(CmpOp::Eq),
                Just(CmpOp::Ne),
                Just(CmpOp::Gt),
                Just(CmpOp::Le),
                Just(CmpOp::Like),
                Just(CmpOp::NotLike)
            ]
        }

        fn leaf() -> impl Strategy<Value = Filter> {
            prop_oneof![
                (op(), any::<String>()).prop_map(|(op, v)| Filter::Cmp {
                    field: "title".into(),
                    op,
                    right: Rhs::Value(Value::Text(v))
                }),
                (op(), any::<i64>()).prop_map(|(op, v)| {
                    let op = if matches!(op, CmpOp::Like | CmpOp::NotLike) {
                        CmpOp::Eq
                    } else {
                        op
                    };
                    Filter::Cmp {
                        field: "n".into(),
                        op,
                        right: Rhs::Value(Value::Int(v)),
                    }
                }),
                any::<bool>().prop_map(Filter::Const),
                any::<bool>().prop_map(|eq| Filter::Cmp {
                    field: "n".into(),
                    op: if eq { CmpOp::Eq } else { CmpOp::Ne },
                    right: Rhs::Value(Value::Null)
                }),
                Just(Filter::Cmp {
                    field: "title".into(),
                    op: CmpOp::Ne,
                    right: Rhs::Field("id".into())
                }),
            ]
        }

        fn tree() -> impl Strategy<Value = Filter> {
            leaf().prop_recursive(4, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 1..4).prop_map(Filter::And),
                    proptest::collection::vec(inner.clone(), 1..4).prop_map(Filter::Or),
                    inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
                    // A relation path, as a self-relation of the fixture's table.
                    inner.prop_map(|f| Filter::Related {
                        field: "id".into(),
                        target: "items".into(),
                        inner: Box::new(f),
                    }),
                ]
            })
        }

        /// The same filter with every value replaced by a fixed one.
        fn canonical(f: &Filter) -> Filter {
            match f {
                Filter::And(p) => Filter::And(p.iter().map(canonical).collect()),
                Filter::Or(p) => Filter::Or(p.iter().map(canonical).collect()),
                Filter::Not(i) => Filter::Not(Box::new(canonical(i))),
                Filter::Const(b) => Filter::Const(*b),
                Filter::Related {
                    field,
                    target,
                    inner,
                } => Filter::Related {
                    field: field.clone(),
                    target: target.clone(),
                    inner: Box::new(canonical(inner)),
                },
                Filter::Cmp { field, op, right } => Filter::Cmp {
                    field: field.clone(),
                    op: *op,
                    right: match right {
                        Rhs::Value(Value::Text(_)) => Rhs::Value(Value::Text("x".into())),
                        Rhs::Value(Value::Int(_)) => Rhs::Value(Value::Int(0)),
                        other => other.clone(),
                    },
                },
            }
        }

        fn sql(f: &Filter) -> (String, String) {
            let (store, table, _) = fixture();
            let mut q = Query::select();
            q.column(Alias::new("id"))
                .from(Alias::new("items"))
                .cond_where(store.condition(table, f));
            (
                q.build(SqliteQueryBuilder).0,
                q.build(PostgresQueryBuilder).0,
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(500))]

            /// Whatever the values, the SQL text is the same: they travel as parameters.
            #[test]
            fn values_never_reach_the_sql_text(f in tree()) {
                prop_assert_eq!(sql(&f), sql(&canonical(&f)));
            }

            /// The shape under which a statement's text is kept: the values the condition
            /// binds, in its order (so the text is kept for every filter), and one key for
            /// the filter whatever its values (with the test above: one key, one text).
            #[test]
            fn a_filters_shape_binds_what_its_condition_binds(f in tree()) {
                let (store, table, _) = fixture();
                let shape = |f: &Filter| {
                    let (mut key, mut values) = (String::new(), Vec::new());
                    store.filter_shape(table, f, &mut key, &mut values);
                    (key, values)
                };
                let (key, values) = shape(&f);
                let mut q = Query::select();
                q.column(Alias::new("id"))
                    .from(Alias::new("items"))
                    .cond_where(store.condition(table, &f));
                prop_assert_eq!(&q.build(SqliteQueryBuilder).1 .0, &values);
                prop_assert_eq!(key, shape(&canonical(&f)).0);
            }
        }
    }
}
