//! PostgreSQL: the single-row inserts a unit makes on the side of another insert (a
//! trigger's alert, an audit entry) go out inside that insert, as data-modifying CTEs
//! (`WITH side_0 AS (INSERT ...) INSERT ... RETURNING ...`). Every statement costs both
//! sides a round of work however small it is (bind, execute, a sync and the flush of its
//! answer); three inserts sent as one cost one.
//!
//! Sound because the inserts merged are independent: each writes one row of values the
//! unit already holds (their ids are ours, nothing reads a `RETURNING`), and foreign keys
//! are checked at the end of the whole statement, so a side insert may name the row the
//! main one writes. A failing side insert fails the statement, hence the unit.

use std::fmt::Write as _;

use sea_query::Values;

use crate::unit::{Step, StepOut};

/// A statement of a merged unit and how many of the unit's steps it stands for: itself,
/// then the side inserts that ride along.
pub(crate) struct Merged {
    /// The statement to run (its expectation is the first step's).
    pub(crate) step: Step,
    /// Steps of the original unit it covers, at least one.
    pub(crate) covers: usize,
}

/// Whether `step` may ride inside the insert before it.
fn rides_along(step: &Step) -> bool {
    step.single_insert && step.returning.is_none()
}

/// The unit's steps with every run of side inserts folded into the insert they follow.
pub(crate) fn merge(steps: Vec<Step>) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::with_capacity(steps.len());
    let mut riders: Vec<Step> = Vec::new();
    let mut steps = steps.into_iter().peekable();
    while let Some(head) = steps.next() {
        if head.single_insert {
            while let Some(side) = steps.next_if(rides_along) {
                riders.push(side);
            }
        }
        let covers = 1 + riders.len();
        let step = match riders.is_empty() {
            true => head,
            false => combine(head, std::mem::take(&mut riders)),
        };
        out.push(Merged { step, covers });
    }
    out
}

/// The outputs of the original steps from those of the merged statements: a side insert
/// wrote its one row (had it not, the statement would have failed).
pub(crate) fn expand(merged: &[Merged], outs: Vec<StepOut>) -> Vec<StepOut> {
    let mut all = Vec::with_capacity(merged.iter().map(|m| m.covers).sum());
    for (m, out) in merged.iter().zip(outs) {
        all.push(out);
        all.extend((1..m.covers).map(|_| StepOut::Count(1)));
    }
    all
}

/// `WITH side_0 AS (<rider>), ... <head>`, the parameters renumbered in text order.
fn combine(head: Step, riders: Vec<Step>) -> Step {
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    for (k, side) in riders.into_iter().enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "plinth_side_{k} AS (");
        renumber(&side.sql.0, values.len(), &mut sql);
        sql.push(')');
        values.extend(side.sql.1 .0);
    }
    sql.push(' ');
    renumber(&head.sql.0, values.len(), &mut sql);
    values.extend(head.sql.1 .0);
    Step {
        sql: (sql, Values(values)),
        ..head
    }
}

/// Append `sql` to `out` with every placeholder `$n` outside quotes written as
/// `$(n + offset)`. The SQL is the query builder's: literals are single-quoted,
/// identifiers double-quoted, and no dollar-quoted strings.
fn renumber(sql: &str, offset: usize, out: &mut String) {
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') => {
                let mut n = 0usize;
                let mut digits = false;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    digits = true;
                    chars.next();
                }
                if digits {
                    let _ = write!(out, "{}", n + offset);
                }
            }
            (None, _) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit::Expect;

    fn insert(sql: &str, values: Vec<i64>, returning: bool) -> Step {
        let values = Values(values.into_iter().map(sea_query::Value::from).collect());
        let shape = returning.then(|| std::sync::Arc::new(plinth_records::Shape::new(Vec::new())));
        Step::new((sql.to_owned(), values), Expect::Any, shape).single_insert()
    }

    #[test]
    fn placeholders_move_by_the_offset_outside_quotes_only() {
        let mut out = String::new();
        renumber(
            r#"INSERT INTO "a$1" VALUES ($1, '$2 it''s', $12)"#,
            3,
            &mut out,
        );
        assert_eq!(out, r#"INSERT INTO "a$1" VALUES ($4, '$2 it''s', $15)"#);
    }

    #[test]
    fn side_inserts_ride_in_the_insert_before_them() {
        let lock = Step::new(("SELECT 1".into(), Values(vec![])), Expect::Any, None);
        let steps = vec![
            lock,
            insert(
                "INSERT INTO d VALUES ($1, $2) RETURNING *",
                vec![1, 2],
                true,
            ),
            insert("INSERT INTO a VALUES ($1)", vec![3], false),
            insert("INSERT INTO l VALUES ($1, $2)", vec![4, 5], false),
            // Reads back its row: a statement of its own, and no one rides after it but
            // side inserts.
            insert("INSERT INTO x VALUES ($1) RETURNING *", vec![6], true),
        ];
        let merged = merge(steps);
        let covers: Vec<usize> = merged.iter().map(|m| m.covers).collect();
        assert_eq!(covers, [1, 3, 1]);
        let m = &merged[1].step;
        assert_eq!(
            m.sql.0,
            "WITH plinth_side_0 AS (INSERT INTO a VALUES ($1)), \
             plinth_side_1 AS (INSERT INTO l VALUES ($2, $3)) \
             INSERT INTO d VALUES ($4, $5) RETURNING *"
        );
        let bound: Vec<sea_query::Value> = [3i64, 4, 5, 1, 2].map(Into::into).to_vec();
        assert_eq!(m.sql.1 .0, bound);
        assert!(m.returning.is_some(), "the head's read-back is kept");
        let outs = expand(
            &merged,
            vec![
                StepOut::Count(0),
                StepOut::Rows(vec![]),
                StepOut::Rows(vec![]),
            ],
        );
        assert_eq!(
            outs,
            [
                StepOut::Count(0),
                StepOut::Rows(vec![]),
                StepOut::Count(1),
                StepOut::Count(1),
                StepOut::Rows(vec![]),
            ]
        );
    }

    #[test]
    fn a_unit_without_side_inserts_is_unchanged() {
        let steps = vec![
            insert("INSERT INTO d VALUES ($1)", vec![1], false),
            Step::new(
                ("UPDATE d SET x = $1".into(), Values(vec![2.into()])),
                Expect::Any,
                None,
            ),
        ];
        let merged = merge(steps);
        let covers: Vec<usize> = merged.iter().map(|m| m.covers).collect();
        assert_eq!(covers, [1, 1]);
        assert_eq!(merged[1].step.sql.0, "UPDATE d SET x = $1");
    }
}
