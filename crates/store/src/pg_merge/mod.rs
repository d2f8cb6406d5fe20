//! PostgreSQL: steps of a unit that can run as one statement are sent as one. Every
//! statement costs both sides a round of work however small it is (bind, execute, a sync
//! and the flush of its answer); three writes sent as one cost one. Three folds:
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
//! - The side inserts that follow the change of one record (a transition's log entry and
//!   event) ride in it as inserts that write only if the change did ([`with_riders`]).

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
            let (step, riders) = with_riders(snapshot_update(head, update, sql), &mut steps);
            out.push(Merged {
                step,
                covers: 2 + riders,
                answers: 1,
            });
            continue;
        }
        let changes_one = matches!(head.fold, Fold::Update { .. }) && head.returning.is_some();
        if changes_one && steps.peek().is_some_and(rides_after_change) {
            let sql = format!(
                "WITH plinth_new AS ({}) SELECT * FROM plinth_new",
                head.sql.0
            );
            let wrapped = Step {
                sql: (sql, head.sql.1),
                fold: Fold::No,
                ..head
            };
            let (step, riders) = with_riders(wrapped, &mut steps);
            out.push(Merged {
                step,
                covers: 1 + riders,
                answers: 0,
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

/// `statement` (`WITH ... SELECT * FROM plinth_new`, the change of one record) with the
/// side inserts that follow it in `steps` added as CTEs that write only if the change did
/// (`INSERT ... SELECT <values> WHERE EXISTS (SELECT 1 FROM plinth_new)`): a miss then
/// changes nothing, so the statement still needs no transaction. How many it took.
fn with_riders(
    mut statement: Step,
    steps: &mut std::iter::Peekable<std::vec::IntoIter<Step>>,
) -> (Step, usize) {
    const TAIL: &str = " SELECT * FROM plinth_new";
    let Some(head) = statement.sql.0.strip_suffix(TAIL) else {
        return (statement, 0);
    };
    let mut sql = head.to_owned();
    let mut taken = 0;
    while let Some(next) = steps.peek().filter(|s| rides_along(s)) {
        let Some((into, values)) = one_row_values(&next.sql.0) else {
            break;
        };
        let offset = statement.sql.1 .0.len();
        let _ = write!(sql, ", plinth_rider_{taken} AS (");
        renumber(into, offset, &mut sql);
        sql.push_str(" SELECT ");
        renumber(values, offset, &mut sql);
        sql.push_str(" WHERE EXISTS (SELECT 1 FROM plinth_new))");
        let Some(rider) = steps.next() else {
            break;
        };
        statement.sql.1 .0.extend(rider.sql.1 .0);
        taken += 1;
    }
    sql.push_str(TAIL);
    statement.sql.0 = sql;
    (statement, taken)
}

/// Whether `step` may ride, as a conditional insert, in the change of a record before it.
fn rides_after_change(step: &Step) -> bool {
    rides_along(step) && one_row_values(&step.sql.0).is_some()
}

/// `INSERT INTO t (...)` and the values of `INSERT INTO t (...) VALUES (...)` (one row),
/// to write it as `INSERT INTO t (...) SELECT <values> WHERE ...`; None for other text.
fn one_row_values(insert: &str) -> Option<(&str, &str)> {
    let (into, values) = insert.split_once(" VALUES (")?;
    let values = values.strip_suffix(')').filter(|v| !v.contains("), ("))?;
    Some((into, values))
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
mod tests;
