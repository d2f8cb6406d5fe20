//! The folds on made-up statements: their text, their parameters' order and numbers, and
//! the outputs the unit's steps get back.

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
fn side_inserts_after_a_change_write_only_if_it_did() {
    let id = uuid::Uuid::now_v7();
    let mut steps = snapshot_then_update(id, id);
    steps.push(insert(
        "INSERT INTO o (a, b) VALUES ($1, $2)",
        vec![7, 8],
        false,
    ));
    steps.push(insert("INSERT INTO l (c) VALUES ($1)", vec![9], false));
    let merged = merge(steps);
    assert_eq!(merged.len(), 1);
    assert_eq!((merged[0].covers, merged[0].answers), (4, 1));
    let sql = &merged[0].step.sql.0;
    assert!(
        sql.ends_with(
            "plinth_rider_0 AS (INSERT INTO o (a, b) SELECT $7, $8 WHERE EXISTS (SELECT 1 FROM plinth_new)), \
             plinth_rider_1 AS (INSERT INTO l (c) SELECT $9 WHERE EXISTS (SELECT 1 FROM plinth_new)) \
             SELECT * FROM plinth_new"
        ),
        "{sql}"
    );
    let bound: Vec<sea_query::Value> = (1i64..=9).map(Into::into).collect();
    assert_eq!(merged[0].step.sql.1 .0, bound);
    let outs = expand(&merged, vec![StepOut::Rows(vec![])]);
    assert_eq!(
        outs,
        [
            StepOut::Count(1),
            StepOut::Rows(vec![]),
            StepOut::Count(1),
            StepOut::Count(1)
        ]
    );
    // A plain change of a record that reads it back takes them the same way.
    let mut steps = snapshot_then_update(id, id);
    steps.remove(0);
    steps.push(insert("INSERT INTO o (a) VALUES ($1)", vec![7], false));
    let merged = merge(steps);
    assert_eq!(
        (merged.len(), merged[0].covers, merged[0].answers),
        (1, 2, 0)
    );
    assert_eq!(
        merged[0].step.sql.0,
        r#"WITH plinth_new AS (UPDATE "drifts" SET "note" = $1 WHERE "id" = $2 AND "status" = $3 RETURNING "id", "note"), plinth_rider_0 AS (INSERT INTO o (a) SELECT $4 WHERE EXISTS (SELECT 1 FROM plinth_new)) SELECT * FROM plinth_new"#
    );
    assert!(merged[0].step.returning.is_some());
    assert_eq!(
        merged[0].step.expect,
        Expect::One(crate::unit::Miss::Conflict)
    );
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
