//! The one write path: a write unit is data, an ordered list of statements built by the one
//! query builder, each with what it must do. Both executors apply a unit atomically
//! (SQLite inside the group-commit writer's batch transaction; PostgreSQL in one
//! transaction); a step whose expectation fails rolls the whole unit back.

use std::sync::Arc;

use plinth_records::{Record, Shape};

/// A built statement: SQL text and its parameters.
pub(crate) type Sql = (String, sea_query::Values);

/// How a list's total is found.
#[derive(Debug, Clone)]
pub(crate) enum Counting {
    /// `COUNT(*)` of the matching rows.
    Exact(Sql),
    /// PostgreSQL: the table's live-row statistic when it is at least
    /// [`ESTIMATE_FROM`] (an unfiltered list only), else the exact count. SQLite: exact.
    Estimate {
        /// The table's name, quoted (bound as a parameter to `to_regclass`).
        table: String,
        /// The exact count, used below the threshold.
        exact: Sql,
    },
    /// No total.
    Skip,
}

/// Row count from which an unfiltered PostgreSQL list reports the statistic instead of
/// counting (counting 10,000 rows costs ~1 ms of PostgreSQL CPU per request).
pub(crate) const ESTIMATE_FROM: i64 = 1000;

/// A list's total and whether it is an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// Matching rows (or the estimate).
    pub count: u64,
    /// Read from statistics rather than counted.
    pub estimated: bool,
}

/// What a zero-row result of a step that must touch one row means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// The record is not there (404).
    NotFound,
    /// The record is there but not in the state the step requires (409).
    Conflict,
}

/// What a step must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Any number of rows, including none.
    Any,
    /// Exactly one row, else the unit fails with [`Miss`].
    One(Miss),
    /// No row; a row read back fails the unit with [`crate::StoreError::Found`].
    Empty,
}

/// One statement of a unit.
#[derive(Debug, Clone)]
pub struct Step {
    pub(crate) sql: Sql,
    pub(crate) expect: Expect,
    /// Rows to read back (`RETURNING`), decoded by this shape.
    pub(crate) returning: Option<Arc<Shape>>,
    /// Parameterless SQL that may hold several statements (hand-written migrations, DDL).
    pub(crate) script: bool,
    /// Touches at most one row, by primary key: alone it needs no transaction, since a
    /// miss changed nothing.
    pub(crate) by_key: bool,
    /// What the PostgreSQL executor may fold this statement into or with (`pg_merge`).
    pub(crate) fold: Fold,
    /// The row this step writes, as its writer knows it: the step's output once the unit
    /// has committed, without reading it back ([`crate::Store::insert_echo_step`]).
    pub(crate) echo: Option<Record>,
}

/// The kinds of statement that PostgreSQL may run folded into one (`pg_merge`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fold {
    /// Runs as it is.
    No,
    /// An `INSERT ... VALUES` of one row.
    Insert,
    /// An audit entry's snapshot of record `id` of `table` as it is before the change that
    /// follows (`from_record::snapshot_step`).
    Snapshot { table: String, id: uuid::Uuid },
    /// An `UPDATE` of record `id` of `table` (`WHERE "id" = ? [AND ...]`).
    Update { table: String, id: uuid::Uuid },
}

impl Step {
    /// A statement with bound parameters.
    pub(crate) fn new(sql: Sql, expect: Expect, returning: Option<Arc<Shape>>) -> Self {
        Step {
            sql,
            expect,
            returning,
            script: false,
            by_key: false,
            fold: Fold::No,
            echo: None,
        }
    }

    /// Mark a statement that touches at most one row, by primary key.
    pub(crate) fn by_key(mut self) -> Self {
        self.by_key = true;
        self
    }

    /// Say what PostgreSQL may fold the statement with.
    pub(crate) fn fold(mut self, fold: Fold) -> Self {
        self.fold = fold;
        self
    }

    /// Trusted parameterless SQL (DDL from the planner, hand-written migrations).
    pub(crate) fn script(sql: String) -> Self {
        Step {
            sql: (sql, sea_query::Values(Vec::new())),
            expect: Expect::Any,
            returning: None,
            script: true,
            by_key: false,
            fold: Fold::No,
            echo: None,
        }
    }

    /// The same statement without reading back what it wrote: for inserts made on the side
    /// (trigger logs, audit entries) whose rows nobody reads, decoding them is wasted work.
    pub fn quiet(mut self) -> Self {
        if let Some(i) = self.sql.0.find(" RETURNING ") {
            self.sql.0.truncate(i);
        }
        self.returning = None;
        self
    }

    /// Require exactly one row; zero means `miss`. (Meant for statements that touch at
    /// most one row by construction, e.g. guarded by a primary or unique key.)
    pub fn expect_one(mut self, miss: Miss) -> Self {
        self.expect = Expect::One(miss);
        self
    }
}

/// Statements that commit together or not at all.
#[derive(Debug, Clone, Default)]
pub struct WriteUnit {
    pub(crate) steps: Vec<Step>,
}

impl WriteUnit {
    /// An empty unit.
    pub fn new() -> Self {
        WriteUnit::default()
    }

    /// Append a step; its position in [`WriteUnit::steps`] order is its index in the output.
    pub fn push(&mut self, step: Step) -> usize {
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// Append a step if there is one.
    pub fn extend(&mut self, step: Option<Step>) {
        self.steps.extend(step);
    }

    /// How many steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the unit has no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// What one step produced.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOut {
    /// Rows read back by `RETURNING`.
    Rows(Vec<Record>),
    /// Rows changed.
    Count(u64),
}

impl StepOut {
    /// The first returned row, if any.
    pub fn into_record(self) -> Option<Record> {
        match self {
            StepOut::Rows(rows) => rows.into_iter().next(),
            StepOut::Count(_) => None,
        }
    }

    /// The returned rows (none for a step that returns nothing).
    pub fn into_rows(self) -> Vec<Record> {
        match self {
            StepOut::Rows(rows) => rows,
            StepOut::Count(_) => Vec::new(),
        }
    }

    /// Rows returned or changed.
    pub fn rows(&self) -> u64 {
        match self {
            StepOut::Rows(r) => r.len() as u64,
            StepOut::Count(n) => *n,
        }
    }
}

/// Check a step's result against its expectation.
pub(crate) fn check(step: &Step, out: &StepOut) -> Result<(), crate::StoreError> {
    match (step.expect, out) {
        (Expect::One(miss), out) if out.rows() != 1 => Err(crate::StoreError::Expectation(miss)),
        (Expect::Empty, StepOut::Rows(rows)) if !rows.is_empty() => {
            let id = rows[0].id().and_then(|id| uuid::Uuid::parse_str(id).ok());
            Err(id.map_or_else(
                || crate::StoreError::Database("a found record has no id".into()),
                crate::StoreError::Found,
            ))
        }
        _ => Ok(()),
    }
}
