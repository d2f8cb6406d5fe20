//! De-duplicated creates: a create is refused, its unit rolled back, when a record with the
//! same key values was created recently, and the caller learns that record's id
//! ([`StoreError::Found`]). Equal creates racing each other must insert once.
//!
//! - SQLite: a check for a recent equal record before the insert; the single writer applies
//!   units one at a time, so no two checks overlap.
//! - PostgreSQL: the check must come after a lock on the key values, so that of two equal
//!   creates the second waits for the first to commit and then sees its record. As
//!   separate statements (lock, check, insert) that needs a transaction: BEGIN and COMMIT
//!   cost the database more than the insert. So each de-duplicated table gets a guard
//!   function, created with the migrations ([`Store::install_dedupe_guards`]), that takes the
//!   lock, then checks with a snapshot of its own taken after the lock (a `VOLATILE`
//!   function's queries each take a fresh one), and raises [`FOUND_SQLSTATE`] with the
//!   found id. The insert calls it in its `WHERE`: one statement, atomic alone, and the lock
//!   is held until that statement's own transaction commits. Keys with a null value (matched
//!   by `IS NULL`, which the guard does not cover) take the three-statement path.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use plinth_manifest::{Collection, FieldType};
use plinth_records::{Row, Value};
use sea_query::{Alias, Expr, ExprTrait, Order};
use sha2::Digest;
use uuid::Uuid;

use crate::table::Table;
use crate::unit::{Expect, Step};
use crate::{Dialect, Store, StoreError};

/// The SQLSTATE a guard raises when it finds a recent equal record; its DETAIL is the id.
pub(crate) const FOUND_SQLSTATE: &str = "PLDUP";

/// What a de-duplicated create compares with recent records.
#[derive(Debug, Clone)]
pub struct RecentEqual {
    /// The key fields and this create's values of them.
    pub keys: Vec<(String, Value)>,
    /// Records created at or after this instant count as recent.
    pub since: DateTime<Utc>,
    /// Names the key values; equal creates take turns on it (PostgreSQL).
    pub lock: String,
}

/// PostgreSQL: a table's guard function and whether this process has created it.
#[derive(Debug)]
pub(crate) struct Guard {
    /// Named by a hash of its definition, so that nodes running different manifests (a
    /// rolling deploy) never replace each other's.
    name: String,
    create: String,
    ready: AtomicBool,
}

impl Guard {
    /// The guard of a collection that de-duplicates on declared fields; None otherwise.
    pub(crate) fn of(table: &str, coll: &Collection) -> Option<Guard> {
        let d = coll.dedupe.as_ref()?;
        let mut args = String::from("text, timestamptz");
        let mut check = String::new();
        for (i, key) in d.keys.iter().enumerate() {
            let kind: FieldType = coll.fields.get(key)?.kind;
            let _ = write!(args, ", {}", crate::ddl::sql_type(kind, Dialect::Postgres));
            let _ = write!(check, "\"{key}\" = ${} AND ", i + 3);
        }
        // Table and field names are checked manifest identifiers. The table is named
        // without its schema: each connection's search_path is the app's schema.
        let body = format!(
            "({args}) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $plinth$
DECLARE existing uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended($1, 0));
    SELECT \"id\" INTO existing FROM \"{table}\" WHERE {check}\"created_at\" >= $2
        ORDER BY \"created_at\" DESC LIMIT 1;
    IF existing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '{FOUND_SQLSTATE}',
            MESSAGE = 'an equal record exists', DETAIL = existing::text;
    END IF;
    RETURN true;
END $plinth$"
        );
        let digest = sha2::Sha256::digest(format!("{table}{body}").as_bytes());
        let name = format!("plinth_dedupe_{}", hex::encode(&digest[..8]));
        // The name says nothing to a DBA; the comment says what it guards. Guards of
        // earlier manifests stay (another node may still call one) and say so too.
        let keys = d.keys.join(", ");
        let comment = format!(
            "COMMENT ON FUNCTION \"{name}\"({args}) IS 'Plinth: the de-duplication guard of \
             creates in table {table} (keys {keys}); unused once no manifest declares it'"
        );
        Some(Guard {
            create: format!("CREATE OR REPLACE FUNCTION \"{name}\"{body};\n{comment}"),
            name,
            ready: AtomicBool::new(false),
        })
    }
}

impl Store {
    /// PostgreSQL: create (or keep) the guard function of every de-duplicated table. Run
    /// under the migration lock, since two sessions replacing one function at once fail.
    pub(crate) async fn install_dedupe_guards(&self) -> Result<(), StoreError> {
        let guards: Vec<&Guard> = self
            .inner
            .tables
            .values()
            .filter_map(|t| t.dedupe_guard.as_ref())
            .collect();
        if guards.is_empty() {
            return Ok(());
        }
        let mut unit = crate::WriteUnit::new();
        for g in &guards {
            unit.push(Step::script(g.create.clone()));
        }
        self.inner.db.apply(unit).await?;
        for g in guards {
            g.ready.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// The steps of a create of `row` under `id` unless a record equal on `check`'s keys is
    /// recent; the last step inserts and returns the record.
    pub fn deduped_insert_steps(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
        check: &RecentEqual,
    ) -> Result<Vec<Step>, StoreError> {
        let no_nulls = !check.keys.iter().any(|(_, v)| matches!(v, Value::Null));
        if let Some(guard) = table.dedupe_guard.as_ref() {
            if no_nulls && guard.ready.load(Ordering::Acquire) {
                // `INSERT INTO t (...) SELECT <values> WHERE "<guard>"(<lock>, <since>,
                // <keys>) RETURNING ...`
                let mut args = vec![check.lock.as_str().into()];
                args.push(self.bind(table, "created_at", &Value::Timestamp(check.since)));
                args.extend(check.keys.iter().map(|(f, v)| self.bind(table, f, v)));
                let guard = Some((guard.name.as_str(), args));
                return Ok(vec![self.insert_guarded_step(table, id, row, now, guard)?]);
            }
        }
        let mut steps = Vec::with_capacity(3);
        if self.dialect() == Dialect::Postgres {
            let values = sea_query::Values(vec![check.lock.as_str().into()]);
            let sql = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))".to_owned();
            steps.push(Step::new((sql, values), Expect::Any, None));
        }
        steps.push(self.no_recent_step(table, &check.keys, check.since));
        steps.push(self.insert_step(table, id, row, now)?);
        Ok(steps)
    }

    /// The newest record of `table` whose `keys` equal these values (null matches null)
    /// created at or after `since`. The step expects none: if one exists the unit is
    /// rolled back and fails with [`StoreError::Found`], carrying its id.
    fn no_recent_step(
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
}
