//! The statements only the job queue needs: an insert that yields to an equal unique key,
//! and the claim of runnable jobs (docs/jobs.md). Everything else the queue does (finish,
//! renew, cancel, prune) is a guarded update or delete like any other.

use chrono::{DateTime, Utc};
use plinth_records::{Row, Value};
use sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use uuid::Uuid;

use crate::table::Table;
use crate::unit::{Expect, Step};
use crate::{Dialect, Store, StoreError};

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// Which jobs a worker claims, and what it writes on them.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The queue to take from.
    pub queue: &'a str,
    /// The worker's name, written as the lease owner.
    pub owner: &'a str,
    /// Jobs to take at most.
    pub limit: u64,
    /// The clock.
    pub now: DateTime<Utc>,
    /// When the leases taken run out unless renewed.
    pub lease_until: DateTime<Utc>,
    /// Take in-progress jobs whose lease lapsed (their worker died) instead of due ones.
    pub lapsed: bool,
}

impl Store {
    /// PostgreSQL: a first step that lets the unit commit without waiting for its WAL to
    /// reach disk (`synchronous_commit = off` for this transaction only). For the queue's
    /// own bookkeeping (claims, renewals, plain completions), where a commit lost in a
    /// crash means a job runs again, which at-least-once allows. None on SQLite.
    pub fn relaxed_commit_step(&self) -> Option<Step> {
        (self.dialect() == Dialect::Postgres).then(|| {
            let sql = "SELECT set_config('synchronous_commit', 'off', true)".to_owned();
            Step::new((sql, sea_query::Values(Vec::new())), Expect::Any, None)
        })
    }

    /// Insert a validated row under `id` unless a row with the same `key` column value
    /// exists (`ON CONFLICT (key) DO NOTHING`): the step returns the new row, or none.
    pub fn insert_or_skip_step(
        &self,
        table: &Table,
        id: Uuid,
        row: &Row,
        now: DateTime<Utc>,
        key: &str,
    ) -> Result<Step, StoreError> {
        let (names, values) = self.insert_columns(table, id, row, now);
        let mut q = Query::insert();
        q.into_table(col(&table.name))
            .columns(names)
            .values(values.into_iter().map(Expr::from))
            .map_err(|e| StoreError::Database(e.to_string()))?
            .on_conflict(
                sea_query::OnConflict::column(col(key))
                    .do_nothing()
                    .to_owned(),
            )
            .returning(Self::returning_all(table));
        let sql = self.inner.db.build(&q);
        Ok(Step::new(sql, Expect::Any, Some(table.shape.clone())))
    }

    /// Take up to `claim.limit` runnable jobs of a queue: pending ones that are due, lowest
    /// priority number and oldest first (the order of the queue's index), or with
    /// `claim.lapsed` running ones whose lease ran out (their worker died). They become
    /// `in-progress` under the worker's lease, one attempt more, and are returned. On
    /// PostgreSQL the candidates are locked `SKIP LOCKED`, so workers on several nodes take
    /// different jobs without waiting on each other; SQLite's single writer runs one claim
    /// at a time.
    pub fn claim_step(&self, table: &Table, claim: &Claim<'_>) -> Step {
        let text = |v: &str| self.bind(table, "queue", &Value::Text(v.to_owned()));
        let at = |t: DateTime<Utc>| self.bind(table, "run_at", &Value::Timestamp(t));
        let mut pick = Query::select();
        pick.column(col("id"))
            .from(col(&table.name))
            .and_where(Expr::col(col("queue")).eq(text(claim.queue)));
        if claim.lapsed {
            // Literal statuses, not parameters: the partial indexes of `_plinth_jobs` serve a
            // query only when its WHERE visibly implies theirs, on both databases.
            pick.and_where(Expr::col(col("status")).eq(Expr::cust("'in-progress'")))
                .and_where(Expr::col(col("lease_expires_at")).lt(at(claim.now)));
        } else {
            pick.and_where(Expr::col(col("status")).eq(Expr::cust("'pending'")))
                .and_where(Expr::col(col("run_at")).lte(at(claim.now)))
                .order_by(col("priority"), Order::Asc)
                .order_by(col("run_at"), Order::Asc);
        }
        pick.limit(claim.limit);
        if self.dialect() == Dialect::Postgres {
            pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let mut q = Query::update();
        q.table(col(&table.name))
            .value(col("status"), text("in-progress"))
            .value(col("lease_owner"), text(claim.owner))
            .value(col("lease_expires_at"), at(claim.lease_until))
            .value(col("attempts"), Expr::col(col("attempts")).add(1i64))
            .value(col("updated_at"), at(claim.now))
            .and_where(Expr::col(col("id")).in_subquery(pick))
            .returning(Self::returning_all(table));
        Step::new(
            self.inner.db.build(&q),
            Expect::Any,
            Some(table.shape.clone()),
        )
    }

    /// Set `row` (stamped `now`) on the jobs `ids` that `owner` still holds in progress,
    /// in one statement (`WHERE id IN (...) AND lease_owner = owner AND status =
    /// 'in-progress'`): a worker's change to its own jobs (start, progress, finish, or a
    /// batch of completions).
    pub fn update_held_step(
        &self,
        table: &Table,
        ids: &[Uuid],
        owner: &str,
        row: &Row,
        now: DateTime<Utc>,
    ) -> Step {
        let mut q = self.held(table, ids, owner);
        q.values(self.sets(table, row, now));
        Step::new(self.inner.db.build(&q), Expect::Any, None)
    }

    /// Give back jobs `owner` claimed but never started (a worker stopping with some
    /// waiting): pending again, unleased, and the attempt their claim counted undone, so
    /// another worker takes them now rather than after the lease.
    pub fn release_held_step(
        &self,
        table: &Table,
        ids: &[Uuid],
        owner: &str,
        now: DateTime<Utc>,
    ) -> Step {
        let mut q = self.held(table, ids, owner);
        q.value(col("status"), Expr::cust("'pending'"))
            .value(col("lease_owner"), Expr::cust("NULL"))
            .value(col("lease_expires_at"), Expr::cust("NULL"))
            .value(col("attempts"), Expr::col(col("attempts")).sub(1i64))
            .value(
                col("updated_at"),
                self.bind(table, "updated_at", &Value::Timestamp(now)),
            );
        Step::new(self.inner.db.build(&q), Expect::Any, None)
    }

    /// `UPDATE` of the jobs `ids` that `owner` still holds in progress.
    fn held(&self, table: &Table, ids: &[Uuid], owner: &str) -> sea_query::UpdateStatement {
        let ids = ids
            .iter()
            .map(|id| self.bind(table, "id", &Value::Uuid(*id)));
        let text = |v: &str| self.bind(table, "lease_owner", &Value::Text(v.to_owned()));
        let mut q = Query::update();
        q.table(col(&table.name))
            .and_where(Expr::col(col("id")).is_in(ids))
            .and_where(Expr::col(col("lease_owner")).eq(text(owner)))
            .and_where(Expr::col(col("status")).eq(text("in-progress")));
        q
    }
}
