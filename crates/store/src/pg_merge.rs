//! PostgreSQL: steps of a unit that can run as one statement are sent as one. Every
//! statement costs both sides a round of work however small it is (bind, execute, a sync
//! and the flush of its answer); three writes sent as one cost one. Two folds:
//!
//! - The single-row inserts a unit makes on the side of another insert (a trigger's alert,
//!   an audit entry) go out inside that insert, as data-modifying CTEs
//!   (`WITH side_0 AS (INSERT ...) INSERT ... RETURNING ...`). Sound because each writes one
//!   row of values the unit already holds (their ids are ours, nothing reads a
//!   `RETURNING`), and foreign keys are checked at the end of the whole statement, so a
//!   side insert may name the row the main one writes. A failing side insert fails the
//!   statement, hence the unit.
//! - An audit snapshot and the update of its record it precedes (a transition, an edit)
//!   become one `UPDATE ... FROM` the locked row (see [`snapshot_update_sql`]).

use std::fmt::Write as _;

use sea_query::Values;

use crate::unit::{Fold, Step, StepOut};

/// A statement of a merged unit and the steps of the original unit it stands for.
pub(crate) struct Merged {
    /// The statement to run.
    pub(crate) step: Step,
    /// Steps of the original unit it covers, at least one.
    pub(crate) covers: usize,
    /// Which of them the statement answers for; each of the others wrote one row.
    pub(crate) answers: usize,
}

/// Whether `step` may ride inside the insert before it.
fn rides_along(step: &Step) -> bool {
    step.fold == Fold::Insert && step.returning.is_none()
}

/// The unit's steps with every run of side inserts folded into the insert they follow and
/// every audit snapshot into the update after it.
pub(crate) fn merge(steps: Vec<Step>) -> Vec<Merged> {
    let mut out: Vec<Merged> = Vec::with_capacity(steps.len());
    let mut riders: Vec<Step> = Vec::new();
    let mut steps = steps.into_iter().peekable();
    while let Some(head) = steps.next() {
        let folded = steps
            .peek()
            .and_then(|next| snapshot_update_sql(&head, next));
        if let Some((sql, update)) = folded.and_then(|sql| steps.next().map(|u| (sql, u))) {
            out.push(Merged {
                step: snapshot_update(head, update, sql),
                covers: 2,
                answers: 1,
            });
            continue;
        }
        if head.fold == Fold::Insert {
            while let Some(side) = steps.next_if(rides_along) {
                riders.push(side);
            }
        }
        let covers = 1 + riders.len();
        let step = match riders.is_empty() {
            true => head,
            false => combine(head, std::mem::take(&mut riders)),
        };
        out.push(Merged {
            step,
            covers,
            answers: 0,
        });
    }
    out
}

/// The outputs of the original steps from those of the merged statements: a folded step
/// wrote its one row (had it not, the statement would have failed or answered no row).
pub(crate) fn expand(merged: &[Merged], outs: Vec<StepOut>) -> Vec<StepOut> {
    let mut all = Vec::with_capacity(merged.iter().map(|m| m.covers).sum());
    for (m, out) in merged.iter().zip(outs) {
        all.extend((0..m.answers).map(|_| StepOut::Count(1)));
        all.push(out);
        all.extend((m.answers + 1..m.covers).map(|_| StepOut::Count(1)));
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

/// How the snapshot's text (`from_record::snapshot_step`) opens and closes the "before"
/// object inside its `changes`.
const BEFORE: &str = "jsonb_build_object('before', ";
const AFTER: &str = ", 'after', CAST(";

/// The one statement of an audit snapshot of a record and the update of that record that
/// follows it, when `snapshot` and `update` are such a pair (None otherwise):
///
/// ```sql
/// WITH plinth_old AS (SELECT "id" AS plinth_key, <before> AS plinth_before
///                     FROM t WHERE "id" = $k FOR UPDATE),
///      plinth_new AS (UPDATE t SET ... FROM plinth_old
///                     WHERE "id" = plinth_old.plinth_key AND (<guard>) RETURNING ...),
///      plinth_side AS (INSERT INTO audit (...) SELECT ..., plinth_before, ...
///                      FROM plinth_old WHERE EXISTS (SELECT 1 FROM plinth_new))
/// SELECT * FROM plinth_new
/// ```
///
/// The row is locked as it is read, so "before" is the version the update changes, even
/// when another change committed after the statement began (the update then re-checks its
/// guard on that version). The entry is written only if the update was: a miss changes
/// nothing, so the statement needs no transaction of its own. The snapshot's parameters
/// keep their numbers; the update's follow them.
fn snapshot_update_sql(snapshot: &Step, update: &Step) -> Option<String> {
    let (Fold::Snapshot { table, id }, Fold::Update { table: t, id: i }) =
        (&snapshot.fold, &update.fold)
    else {
        return None;
    };
    if table != t || id != i || snapshot.returning.is_some() || update.returning.is_none() {
        return None;
    }
    let (insert, key) = snapshot
        .sql
        .0
        .rsplit_once(&format!(" FROM \"{table}\" WHERE "))?;
    let (pre, rest) = insert.split_once(BEFORE)?;
    let (before, after) = rest.split_once(AFTER)?;
    let (set, rest) = update.sql.0.split_once(" WHERE ")?;
    let (guard, returning) = rest.rsplit_once(" RETURNING ")?;
    let offset = snapshot.sql.1 .0.len();
    let mut sql = format!(
        "WITH plinth_old AS (SELECT \"id\" AS plinth_key, {before} AS plinth_before \
         FROM \"{table}\" WHERE {key}), plinth_new AS ("
    );
    renumber(set, offset, &mut sql);
    sql.push_str(" FROM plinth_old WHERE \"id\" = plinth_old.plinth_key AND (");
    renumber(guard, offset, &mut sql);
    let _ = write!(
        sql,
        ") RETURNING {returning}), plinth_side AS ({pre}{BEFORE}plinth_before{AFTER}{after} \
         FROM plinth_old WHERE EXISTS (SELECT 1 FROM plinth_new)) SELECT * FROM plinth_new"
    );
    Some(sql)
}

/// The folded statement of [`snapshot_update_sql`]: the update's expectation and
/// read-back, the snapshot's values then the update's.
fn snapshot_update(snapshot: Step, update: Step, sql: String) -> Step {
    let mut values = snapshot.sql.1 .0;
    values.extend(update.sql.1 .0);
    Step {
        sql: (sql, Values(values)),
        by_key: true,
        fold: Fold::No,
        ..update
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
        Step::new((sql.to_owned(), values), Expect::Any, shape).fold(Fold::Insert)
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

    /// An audit snapshot of record `id` of `drifts` and the update of record `update_of`.
    fn snapshot_then_update(id: uuid::Uuid, update_of: uuid::Uuid) -> Vec<Step> {
        let values = |v: [i64; 3]| Values(v.map(sea_query::Value::from).to_vec());
        let shape = Some(std::sync::Arc::new(plinth_records::Shape::new(Vec::new())));
        let snapshot = Step::new(
            (
                format!(
                    r#"INSERT INTO "logs" ("id", "details") SELECT $1, {BEFORE}jsonb_build_object('note', "note"){AFTER}CAST($2 AS text) AS jsonb)) FROM "drifts" WHERE "id" = $3 FOR UPDATE"#
                ),
                values([1, 2, 3]),
            ),
            Expect::Any,
            None,
        )
        .fold(Fold::Snapshot {
            table: "drifts".into(),
            id,
        });
        let update = Step::new(
            (
                r#"UPDATE "drifts" SET "note" = $1 WHERE "id" = $2 AND "status" = $3 RETURNING "id", "note""#.into(),
                values([4, 5, 6]),
            ),
            Expect::One(crate::unit::Miss::Conflict),
            shape,
        )
        .fold(Fold::Update {
            table: "drifts".into(),
            id: update_of,
        });
        vec![snapshot, update]
    }

    #[test]
    fn an_audit_snapshot_folds_into_the_update_of_its_record() {
        let id = uuid::Uuid::now_v7();
        let merged = merge(snapshot_then_update(id, id));
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!((m.covers, m.answers), (2, 1));
        assert_eq!(
            m.step.sql.0,
            r#"WITH plinth_old AS (SELECT "id" AS plinth_key, jsonb_build_object('note', "note") AS plinth_before FROM "drifts" WHERE "id" = $3 FOR UPDATE), plinth_new AS (UPDATE "drifts" SET "note" = $4 FROM plinth_old WHERE "id" = plinth_old.plinth_key AND ("id" = $5 AND "status" = $6) RETURNING "id", "note"), plinth_side AS (INSERT INTO "logs" ("id", "details") SELECT $1, jsonb_build_object('before', plinth_before, 'after', CAST(CAST($2 AS text) AS jsonb)) FROM plinth_old WHERE EXISTS (SELECT 1 FROM plinth_new)) SELECT * FROM plinth_new"#
        );
        let bound: Vec<sea_query::Value> = [1i64, 2, 3, 4, 5, 6].map(Into::into).to_vec();
        assert_eq!(m.step.sql.1 .0, bound);
        assert_eq!(m.step.expect, Expect::One(crate::unit::Miss::Conflict));
        assert!(m.step.by_key && m.step.returning.is_some());
        // The update's answer is the record; the snapshot wrote its entry.
        let outs = expand(&merged, vec![StepOut::Rows(vec![])]);
        assert_eq!(outs, [StepOut::Count(1), StepOut::Rows(vec![])]);
    }

    #[test]
    fn a_snapshot_of_another_record_is_not_folded() {
        let merged = merge(snapshot_then_update(
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7(),
        ));
        let covers: Vec<usize> = merged.iter().map(|m| m.covers).collect();
        assert_eq!(covers, [1, 1]);
        assert!(merged[0].step.sql.0.starts_with("INSERT INTO \"logs\""));
    }
}
