//! The durable job queue (docs/jobs.md), on both databases, through the real server and its
//! workers: a job runs once and its tracked record follows it; a record and its job commit
//! together or not at all; retries with backoff end completed, failed or dead; a timeout
//! counts as a failed attempt; cancel stops a running job and retry runs it again; a job
//! whose worker vanished runs again once its lease lapses; a unique key enqueues once,
//! also when two nodes fire the same cron tick; the job API is for admins only.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, TestEnv};
use plinth_core::jobs::{Job, NewJob};
use plinth_core::{AppService, Ctx};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

both!(
    a_job_runs_once_and_its_record_follows,
    a_rolled_back_create_leaves_no_job,
    failures_retry_then_complete_fail_or_die,
    a_timeout_is_a_failed_attempt,
    cancel_stops_a_running_job_and_retry_runs_it_again,
    a_lapsed_lease_runs_the_job_again,
    unique_keys_and_cron_ticks_enqueue_once,
    delayed_prioritised_and_pruned,
    the_job_api_is_for_admins,
    released_jobs_are_pending_again_with_their_attempt_undone,
    a_stopping_worker_gives_back_the_jobs_it_never_started,
);

fn fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jobs_app.yaml"
    ))
}

/// The fixture app with fast leases and polling, workers on or off.
async fn start(env: &TestEnv, workers: bool) -> TestApp {
    let mut config = env.config(&[("jobsapp", Some(fixture()))]);
    config.jobs.workers = workers;
    config.jobs.lease_secs = 1;
    config.jobs.poll_ms = 50;
    env.start(&config).await.expect("server starts")
}

fn ctx(app: &AppService) -> Ctx {
    Ctx::system(app.name().clone())
}

async fn enqueue(app: &AppService, kind: &str, params: serde_json::Value) -> Job {
    app.enqueue(
        &ctx(app),
        NewJob {
            kind: kind.into(),
            params,
            ..Default::default()
        },
    )
    .await
    .expect("enqueued")
    .expect("a new job")
}

/// The job once `done` holds for it (polled; fails after 20 s).
async fn wait_job(app: &AppService, id: Uuid, done: impl Fn(&Job) -> bool) -> Job {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let job = app.job(&ctx(app), id).await.expect("read").expect("exists");
        if done(&job) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job never got there: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_job_runs_once_and_its_record_follows(env: TestEnv) {
    let app = start(&env, true).await;
    let svc = app.service("jobsapp").clone();
    let mut events = svc.subscribe();
    let job = enqueue(&svc, "nap", json!({"ms": 300, "steps": 3})).await;
    assert_eq!(job.status, "pending");
    // The tracked record exists from the start, under the job's id.
    let r = app.get(&format!("/jobsapp/api/tasks/{}", job.id)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["type"], "nap");
    assert_eq!(r.body["data"]["params"]["ms"], 300);
    let running = wait_job(&svc, job.id, |j| j.status == "in-progress").await;
    assert!(running.lease_owner.is_some());
    let done = wait_job(&svc, job.id, Job::is_finished).await;
    assert_eq!(done.status, "completed", "{done:?}");
    assert_eq!(done.attempts, 1);
    assert_eq!(done.result, Some(json!({"slept_ms": 300, "attempt": 1})));
    assert_eq!(done.progress, Some(1.0));
    // Who ran it stays on the job.
    assert_eq!(done.lease_owner, running.lease_owner);
    let r = app.get(&format!("/jobsapp/api/tasks/{}", job.id)).await;
    assert_eq!(r.body["data"]["status"], "completed", "{}", r.body);
    assert_eq!(r.body["data"]["progress"], 1.0);
    // Realtime was told each step of it, about the tracked record (docs/jobs.md, "Events").
    let mut told = Vec::new();
    while told.last().map(String::as_str) != Some("job:completed") {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .unwrap_or_else(|_| panic!("no job:completed among {told:?}"))
            .expect("events");
        if e.record_id == job.id && !e.topic.is_empty() {
            assert_eq!(&*e.collection, "tasks");
            told.push(e.topic.to_string());
        }
    }
    assert_eq!(
        told.first().map(String::as_str),
        Some("job:started"),
        "{told:?}"
    );
    assert!(told.iter().any(|t| t == "job:progress"), "{told:?}");
    app.stop().await;
}

async fn a_rolled_back_create_leaves_no_job(env: TestEnv) {
    // No workers: the jobs stay for counting.
    let app = start(&env, false).await;
    let first = app
        .post("/jobsapp/api/reports", json!({"title": "Q3"}))
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // Same title: the trigger's mark hits its unique code, so the create, and the job
    // enqueued before it in the same unit, roll back.
    let again = app
        .post("/jobsapp/api/reports", json!({"title": "Q3"}))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    let rows = env
        .direct(
            "jobsapp",
            "SELECT kind, params FROM _plinth_jobs",
            "SELECT kind, params::text FROM _plinth_jobs",
        )
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0].as_deref(), Some("build"));
    let params: serde_json::Value =
        serde_json::from_str(rows[0][1].as_deref().expect("params")).expect("json");
    assert_eq!(params["record_id"], first.body["data"]["id"]);
    let reports = env
        .direct(
            "jobsapp",
            "SELECT COUNT(*) FROM reports",
            "SELECT COUNT(*) FROM reports",
        )
        .await;
    assert_eq!(reports[0][0].as_deref(), Some("1"));
    app.stop().await;
}

async fn failures_retry_then_complete_fail_or_die(env: TestEnv) {
    let app = start(&env, true).await;
    let svc = app.service("jobsapp").clone();
    let recovers = enqueue(&svc, "flaky", json!({"succeed_from_attempt": 3})).await;
    let permanent = enqueue(
        &svc,
        "flaky",
        json!({"permanent": true, "message": "bad input"}),
    )
    .await;
    let hopeless = enqueue(&svc, "flaky", json!({"message": "still down"})).await;
    let done = wait_job(&svc, recovers.id, Job::is_finished).await;
    assert_eq!(
        (done.status.as_str(), done.attempts),
        ("completed", 3),
        "{done:?}"
    );
    assert_eq!(done.error, None);
    let failed = wait_job(&svc, permanent.id, Job::is_finished).await;
    assert_eq!(
        (failed.status.as_str(), failed.attempts),
        ("failed", 1),
        "{failed:?}"
    );
    assert_eq!(failed.error.as_deref(), Some("bad input"));
    let dead = wait_job(&svc, hopeless.id, Job::is_finished).await;
    assert_eq!(
        (dead.status.as_str(), dead.attempts),
        ("dead", 4),
        "{dead:?}"
    );
    assert_eq!(dead.error.as_deref(), Some("still down"));
    app.stop().await;
}

async fn a_timeout_is_a_failed_attempt(env: TestEnv) {
    let app = start(&env, true).await;
    let svc = app.service("jobsapp").clone();
    let job = enqueue(&svc, "short", json!({"ms": 5000})).await;
    let dead = wait_job(&svc, job.id, Job::is_finished).await;
    assert_eq!(
        (dead.status.as_str(), dead.attempts),
        ("dead", 2),
        "{dead:?}"
    );
    assert!(
        dead.error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{dead:?}"
    );
    // Bad parameters never reach the queue.
    let err = svc
        .enqueue(
            &ctx(&svc),
            NewJob {
                kind: "short".into(),
                params: json!({"ms": "soon"}),
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, plinth_core::CoreError::Validation(_)),
        "{err:?}"
    );
    app.stop().await;
}

async fn cancel_stops_a_running_job_and_retry_runs_it_again(env: TestEnv) {
    let app = start(&env, true).await;
    let svc = app.service("jobsapp").clone();
    let job = enqueue(&svc, "nap", json!({"ms": 60000, "steps": 600})).await;
    wait_job(&svc, job.id, |j| j.status == "in-progress").await;
    let cancelled = svc.cancel_job(&ctx(&svc), job.id).await.expect("cancelled");
    assert_eq!(cancelled.status, "cancelled");
    // The worker notices at its next renewal (a third of the 1 s lease) and drops the
    // attempt: nothing overwrites the cancellation.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let t = svc
        .job(&ctx(&svc), job.id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!(
        (t.status.as_str(), t.result.clone()),
        ("cancelled", None),
        "{t:?}"
    );
    let tracked = app.get(&format!("/jobsapp/api/tasks/{}", job.id)).await;
    assert_eq!(tracked.body["data"]["status"], "failed", "{}", tracked.body);
    assert_eq!(tracked.body["data"]["error_message"], "cancelled");
    // Cancelling again is a conflict; retry starts it over.
    let again = svc
        .cancel_job(&ctx(&svc), job.id)
        .await
        .expect_err("finished");
    assert!(
        matches!(again, plinth_core::CoreError::Conflict(_)),
        "{again:?}"
    );
    let retried = svc.retry_job(&ctx(&svc), job.id).await.expect("retried");
    assert_eq!((retried.status.as_str(), retried.attempts), ("pending", 0));
    let running = wait_job(&svc, job.id, |j| j.status == "in-progress").await;
    assert_eq!(running.attempts, 1);
    svc.cancel_job(&ctx(&svc), job.id)
        .await
        .expect("cancelled again");
    app.stop().await;
}

async fn a_lapsed_lease_runs_the_job_again(env: TestEnv) {
    let app = start(&env, false).await;
    let svc = app.service("jobsapp").clone();
    let job = enqueue(&svc, "build", json!({})).await;
    // A worker that claims the job and dies: nobody renews or finishes it.
    let lease = chrono::Utc::now() + chrono::Duration::milliseconds(300);
    let taken = svc
        .claim_jobs("default", "ghost", 10, lease, false)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1);
    assert!(svc
        .claim_jobs("default", "other", 10, lease, true)
        .await
        .expect("claim")
        .is_empty());
    // Its late finish after another worker took over is refused.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let second = svc
        .claim_jobs(
            "default",
            "rescuer",
            10,
            chrono::Utc::now() + chrono::Duration::seconds(5),
            true,
        )
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    let ghost = plinth_core::jobs::Outcome::Failed("ghost".into());
    assert!(!svc
        .finish_job(&taken[0], "ghost", ghost)
        .await
        .expect("finish"));
    let ok = plinth_core::jobs::Outcome::Completed(Default::default());
    assert!(svc
        .finish_job(&second[0], "rescuer", ok)
        .await
        .expect("finish"));
    let done = svc
        .job(&ctx(&svc), job.id)
        .await
        .expect("read")
        .expect("job");
    assert_eq!((done.status.as_str(), done.attempts), ("completed", 2));
    app.stop().await;
}

async fn unique_keys_and_cron_ticks_enqueue_once(env: TestEnv) {
    // Two nodes on one database start together: both fire the schedule's missed tick
    // (`run_once`), one job exists for it.
    let (a, b) = match env.backend {
        common::Backend::Postgres => tokio::join!(start(&env, true), start(&env, true)),
        // One SQLite file is migrated by one process at a time.
        common::Backend::Sqlite => (start(&env, true).await, start(&env, true).await),
    };
    let svc: Arc<AppService> = a.service("jobsapp").clone();
    let rows = wait_rows(
        &env,
        "SELECT unique_key FROM _plinth_jobs WHERE kind = 'tick'",
        1,
    )
    .await;
    let key = rows[0][0].clone().expect("key");
    assert!(key.starts_with("cron:hourly:"), "{key}");
    let tick: i64 = key["cron:hourly:".len()..].parse().expect("timestamp");
    assert_eq!(tick % 3600, 0, "the top of an hour");
    // Both nodes' fires are in; only one job.
    let ctx = ctx(&svc);
    let job = || NewJob {
        kind: "build".into(),
        unique_key: Some("k1".into()),
        ..Default::default()
    };
    let (x, y) = tokio::join!(
        svc.enqueue(&ctx, job()),
        b.service("jobsapp").enqueue(&ctx, job())
    );
    let made = [x.expect("ok"), y.expect("ok")]
        .into_iter()
        .flatten()
        .count();
    assert_eq!(made, 1);
    let ticks = env
        .direct(
            "jobsapp",
            "SELECT COUNT(*) FROM _plinth_jobs WHERE kind = 'tick'",
            "SELECT COUNT(*) FROM _plinth_jobs WHERE kind = 'tick'",
        )
        .await;
    assert_eq!(ticks[0][0].as_deref(), Some("1"));
    b.stop().await;
    a.stop().await;
}

/// Rows of `sql` once there are `n` (polled; fails after 20 s).
async fn wait_rows(env: &TestEnv, sql: &str, n: usize) -> Vec<Vec<Option<String>>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rows = env.direct("jobsapp", sql, sql).await;
        if rows.len() >= n {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} rows",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn the_job_api_is_for_admins(env: TestEnv) {
    let app = start(&env, false).await;
    let svc = app.service("jobsapp").clone();
    let job = enqueue(&svc, "flaky", json!({})).await;
    let anon = app
        .send(Method::GET, "/jobsapp/api/_jobs", None, None)
        .await;
    assert_eq!(anon.status, 401, "{}", anon.body);
    let cancel = app
        .send(
            Method::POST,
            &format!("/jobsapp/api/_jobs/{}/cancel", job.id),
            None,
            None,
        )
        .await;
    assert_eq!(cancel.status, 401, "{}", cancel.body);
    let token = app.service_token("jobsapp", "admin").await;
    let list = app
        .send(
            Method::GET,
            "/jobsapp/api/_jobs?status=pending&kind=flaky",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        list.body
    );
    assert_eq!(list.body["data"][0]["id"], job.id.to_string());
    let one = app
        .send(
            Method::GET,
            &format!("/jobsapp/api/_jobs/{}", job.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(one.body["data"]["status"], "pending");
    let cancel = app
        .send(
            Method::POST,
            &format!("/jobsapp/api/_jobs/{}/cancel", job.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.body["data"]["status"], "cancelled");
    let retry = app
        .send(
            Method::POST,
            &format!("/jobsapp/api/_jobs/{}/retry", job.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(retry.body["data"]["status"], "pending", "{}", retry.body);
    let missing = app
        .send(
            Method::POST,
            &format!("/jobsapp/api/_jobs/{}/retry", Uuid::new_v4()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    app.stop().await;
}

/// A job enqueued on one node wakes another node's idle workers through the database's
/// NOTIFY, long before their next poll.
#[tokio::test]
async fn an_enqueue_wakes_workers_on_other_nodes() {
    let Some(env) = TestEnv::new(common::Backend::Postgres) else {
        return;
    };
    let api = start(&env, false).await;
    let mut config = env.config(&[("jobsapp", Some(fixture()))]);
    config.jobs.poll_ms = 60_000;
    let worker = env.start(&config).await.expect("worker node starts");
    let svc = api.service("jobsapp").clone();
    // Let the worker node's first look (at start) pass.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = tokio::time::Instant::now();
    let job = enqueue(&svc, "build", json!({})).await;
    let done = wait_job(&svc, job.id, Job::is_finished).await;
    assert_eq!(done.status, "completed");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woken, not polled"
    );
    worker.stop().await;
    api.stop().await;
}

async fn delayed_prioritised_and_pruned(env: TestEnv) {
    let app = start(&env, false).await;
    let svc = app.service("jobsapp").clone();
    let ctx = ctx(&svc);
    let job = |priority: i64, delay_ms: i64| NewJob {
        kind: "build".into(),
        params: json!({}),
        priority,
        run_at: Some(chrono::Utc::now() + chrono::Duration::milliseconds(delay_ms)),
        ..Default::default()
    };
    let later = svc
        .enqueue(&ctx, job(0, 400))
        .await
        .expect("ok")
        .expect("new");
    let low = svc
        .enqueue(&ctx, job(5, 0))
        .await
        .expect("ok")
        .expect("new");
    let urgent = svc
        .enqueue(&ctx, job(-1, 0))
        .await
        .expect("ok")
        .expect("new");
    let lease = || chrono::Utc::now() + chrono::Duration::seconds(30);
    // Lower priority numbers first; a delayed job is not due yet.
    let first = svc
        .claim_jobs("default", "w", 1, lease(), false)
        .await
        .expect("claim");
    assert_eq!(
        first[0].id, urgent.id,
        "later {} low {} urgent {}: {:?}",
        later.id, low.id, urgent.id, first[0].record
    );
    let rest = svc
        .claim_jobs("default", "w", 10, lease(), false)
        .await
        .expect("claim");
    assert_eq!(rest.iter().map(|j| j.id).collect::<Vec<_>>(), vec![low.id]);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let due = svc
        .claim_jobs("default", "w", 10, lease(), false)
        .await
        .expect("claim");
    assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), vec![later.id]);
    // Two finish; pruning takes finished jobs only.
    assert_eq!(
        svc.complete_jobs(&[urgent.id, low.id], "w")
            .await
            .expect("done"),
        2
    );
    let pruned = svc
        .prune_jobs(chrono::Utc::now() + chrono::Duration::seconds(1))
        .await
        .expect("pruned");
    assert_eq!(pruned, 2);
    assert!(svc.job(&ctx, urgent.id).await.expect("read").is_none());
    let kept = svc
        .job(&ctx, later.id)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(kept.status, "in-progress");
    app.stop().await;
}

async fn released_jobs_are_pending_again_with_their_attempt_undone(env: TestEnv) {
    let app = start(&env, false).await;
    let svc = app.service("jobsapp").clone();
    for _ in 0..3 {
        enqueue(&svc, "build", json!({})).await;
    }
    let lease = chrono::Utc::now() + chrono::Duration::seconds(30);
    let taken = svc
        .claim_jobs("default", "w1", 10, lease, false)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 3);
    let ids: Vec<Uuid> = taken.iter().map(|j| j.id).collect();
    // Only the holder can give jobs back.
    assert_eq!(svc.release_jobs(&ids, "w2").await.expect("release"), 0);
    assert_eq!(svc.release_jobs(&ids[..2], "w1").await.expect("release"), 2);
    for (i, id) in ids.iter().enumerate() {
        let job = svc.job(&ctx(&svc), *id).await.expect("read").expect("job");
        if i < 2 {
            assert_eq!(
                (job.status.as_str(), job.attempts),
                ("pending", 0),
                "{job:?}"
            );
        } else {
            assert_eq!(
                (job.status.as_str(), job.attempts),
                ("in-progress", 1),
                "{job:?}"
            );
        }
    }
    // Given back, they are claimed at once by anyone.
    let again = svc
        .claim_jobs("default", "w2", 10, lease, false)
        .await
        .expect("claim");
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|j| j.attempts == 1));
    app.stop().await;
}

async fn a_stopping_worker_gives_back_the_jobs_it_never_started(env: TestEnv) {
    // Four run at once (the queue's concurrency) and, with 1 s leases and 1 s expected
    // runs, one more waits claimed: five in progress in the table.
    let app = start(&env, true).await;
    let svc = app.service("jobsapp").clone();
    for _ in 0..8 {
        enqueue(&svc, "short", json!({"ms": 150})).await;
    }
    let in_progress = "SELECT COUNT(*) FROM _plinth_jobs WHERE status = 'in-progress'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let n = env.direct("jobsapp", in_progress, in_progress).await;
        if n[0][0].as_deref() == Some("5") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never five in progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    app.stop().await;
    // Nothing is left held: the running ones finished, the waiting one is pending again
    // with no attempt counted, and no lease.
    let sql = "SELECT status, attempts, lease_owner FROM _plinth_jobs WHERE status <> 'completed'";
    let left = env.direct("jobsapp", sql, sql).await;
    assert!(!left.is_empty(), "something was still waiting or unclaimed");
    for row in &left {
        assert_eq!(row[0].as_deref(), Some("pending"), "{left:?}");
        assert_eq!(row[1].as_deref(), Some("0"), "{left:?}");
        assert_eq!(row[2], None, "{left:?}");
    }
}
