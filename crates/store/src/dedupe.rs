//! The steps of a de-duplicated create: the check for a recent equal record, and on
//! PostgreSQL a lock that makes concurrent creates of equal records take turns.

use chrono::{DateTime, Utc};
use plinth_records::Value;
use sea_query::{Alias, Expr, ExprTrait, Order};

use crate::table::Table;
use crate::unit::{Expect, Step};
use crate::{Dialect, Store};

impl Store {
    /// The newest record of `table` whose `keys` equal these values (null matches null)
    /// created at or after `since`. The step expects none: if one exists the unit is
    /// rolled back and fails with [`crate::StoreError::Found`], carrying it.
    pub fn no_recent_step(
        &self,
        table: &Table,
        keys: &[(String, Value)],
        since: DateTime<Utc>,
    ) -> Step {
        let shape = Some(table.shape.clone());
        // The values in the order the statement binds them: the non-null keys, then `since`.
        let mut values: Vec<sea_query::Value> = keys
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Null))
            .map(|(f, v)| self.bind(table, f, v))
            .collect();
        values.push(self.bind(table, "created_at", &Value::Timestamp(since)));
        // The text depends only on the keys and which of them are null (`statements`).
        let shape_key: Vec<(String, bool)> = keys
            .iter()
            .map(|(f, v)| (f.clone(), matches!(v, Value::Null)))
            .collect();
        let build = |_: &[sea_query::Value]| {
            let mut q = Self::select_all_of(table);
            for (field, v) in keys {
                let column = Expr::col(Alias::new(field.as_str()));
                q.and_where(match v {
                    Value::Null => column.is_null(),
                    v => column.eq(self.bind(table, field, v)),
                });
            }
            let since = self.bind(table, "created_at", &Value::Timestamp(since));
            q.and_where(Expr::col(Alias::new("created_at")).gte(since))
                .order_by(Alias::new("created_at"), Order::Desc);
            Ok::<_, std::convert::Infallible>(self.inner.db.build_page(q, 1, 0))
        };
        let Ok(sql) = table.dedupe_sql.get_or_build(shape_key, values, build);
        Step::new(sql, Expect::Empty, shape)
    }

    /// PostgreSQL: a lock on `key` held until the unit commits, so units taking the same
    /// key run one after the other (the second then sees the first's record). None on
    /// SQLite, whose single writer already applies units one at a time.
    pub fn lock_step(&self, key: &str) -> Option<Step> {
        match self.dialect() {
            Dialect::Sqlite => None,
            Dialect::Postgres => {
                let values = sea_query::Values(vec![sea_query::Value::String(Some(key.into()))]);
                let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))".to_owned();
                Some(Step::new((sql, values), Expect::Any, None))
            }
        }
    }
}
