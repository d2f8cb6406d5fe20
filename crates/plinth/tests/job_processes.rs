//! Jobs across processes: `plinth worker` processes on the same database as the server.
//! A worker killed with SIGKILL mid-job leaves its job to another worker once the lease
//! lapses (at least once); two worker processes on one PostgreSQL complete 10,000 jobs,
//! each exactly once.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{TestApp, TestEnv};
use plinth_core::jobs::{Job, NewJob};
use plinth_store::WriteUnit;
use serde_json::json;
use tokio::process::{Child, Command};

both!(a_killed_worker_s_job_runs_on_another);

fn fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jobs_app.yaml"
    ))
}

/// The server, without workers (they are the processes under test).
async fn server(env: &TestEnv) -> TestApp {
    let mut config = env.config(&[("jobsapp", Some(fixture()))]);
    config.jobs.workers = false;
    env.start(&config).await.expect("server starts")
}

/// A `plinth worker` process for the fixture app on the test's database, with leases of
/// `lease` seconds.
fn worker(env: &TestEnv, lease: u32) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.arg("worker")
        .current_dir(env.dir.path())
        .env("PLINTH_DATA_DIR", env.dir.path().join("data"))
        .env("PLINTH_LOG_LEVEL", "warn")
        .env("PLINTH_DEMO_DATA", "false")
        .env("PLINTH_JOBS__LEASE_SECS", lease.to_string())
        .env("PLINTH_JOBS__POLL_MS", "50")
        .env("PLINTH_APPS__JOBSAPP__MANIFEST", fixture())
        .env_remove("PLINTH_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for bundled in plinth::apps::BUNDLED {
        cmd.env(
            format!("PLINTH_APPS__{}__ENABLED", bundled.name.to_uppercase()),
            "false",
        );
    }
    if let Some((url, schema)) = env.pg_schema("jobsapp") {
        cmd.env("PLINTH_DATABASE_URL", url)
            .env("PLINTH_APPS__JOBSAPP__SCHEMA", schema);
    }
    cmd.spawn().expect("plinth worker starts")
}

/// The job once `done` holds (polled; fails after `secs`).
async fn wait_job(app: &TestApp, id: uuid::Uuid, secs: u64, done: impl Fn(&Job) -> bool) -> Job {
    let svc = app.service("jobsapp");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let job = svc
            .job(&svc.system_ctx(), id)
            .await
            .expect("read")
            .expect("exists");
        if done(&job) {
            return job;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job never got there: {:?}",
            job.status
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn a_killed_worker_s_job_runs_on_another(env: TestEnv) {
    let app = server(&env).await;
    let svc = app.service("jobsapp").clone();
    let ctx = svc.system_ctx();
    let job = svc
        .enqueue(
            &ctx,
            NewJob {
                kind: "nap".into(),
                params: json!({"ms": 1500, "steps": 15}),
                ..Default::default()
            },
        )
        .await
        .expect("enqueued")
        .expect("new");
    let mut first = worker(&env, 1);
    let taken = wait_job(&app, job.id, 30, |j| {
        j.status == "in-progress" && j.progress.is_some()
    })
    .await;
    first.start_kill().expect("SIGKILL");
    first.wait().await.expect("reaped");
    // Dead worker, live lease: nobody else may take it until the lease lapses.
    let orphan = svc.job(&ctx, job.id).await.expect("read").expect("job");
    assert_eq!(orphan.status, "in-progress");
    assert_eq!(orphan.lease_owner, taken.lease_owner);
    let mut second = worker(&env, 1);
    let done = wait_job(&app, job.id, 30, Job::is_finished).await;
    assert_eq!(done.status, "completed", "{done:?}");
    assert_eq!(done.attempts, 2, "ran again after the lease lapsed");
    assert_ne!(
        done.lease_owner, taken.lease_owner,
        "finished by the second worker"
    );
    let tracked = app.get(&format!("/jobsapp/api/tasks/{}", job.id)).await;
    assert_eq!(
        tracked.body["data"]["status"], "completed",
        "{}",
        tracked.body
    );
    second.start_kill().expect("kill");
    let _ = second.wait().await;
    app.stop().await;
}

#[tokio::test]
async fn two_workers_complete_ten_thousand_jobs_once_each() {
    let Some(env) = TestEnv::new(common::Backend::Postgres) else {
        return;
    };
    let app = server(&env).await;
    let svc = app.service("jobsapp").clone();
    let ctx = svc.system_ctx();
    for _ in 0..10 {
        let mut unit = WriteUnit::new();
        for _ in 0..1000 {
            let job = NewJob {
                kind: "build".into(),
                params: json!({}),
                ..Default::default()
            };
            svc.enqueue_into(&ctx, job, &mut unit).expect("job");
        }
        svc.store().apply(&ctx, unit).await.expect("enqueued");
    }
    // Leases long enough that no stall of a loaded test machine lets one lapse: a lapsed
    // lease is the one way a job runs twice (at least once, docs/jobs.md).
    let (mut a, mut b) = (worker(&env, 30), worker(&env, 30));
    let count = |sql: &'static str| {
        let env = &env;
        async move {
            let rows = env.direct("jobsapp", sql, sql).await;
            rows[0][0]
                .as_deref()
                .expect("count")
                .parse::<i64>()
                .expect("n")
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while count("SELECT COUNT(*) FROM _plinth_jobs WHERE kind = 'build' AND status = 'completed'")
        .await
        < 10_000
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all jobs completed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each claimed once: no job took a second attempt.
    assert_eq!(
        count("SELECT COUNT(*) FROM _plinth_jobs WHERE kind = 'build' AND attempts <> 1").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM _plinth_jobs WHERE kind = 'build'").await,
        10_000
    );
    // Both processes took part.
    assert_eq!(
        count("SELECT COUNT(DISTINCT lease_owner) FROM _plinth_jobs WHERE kind = 'build'").await,
        2
    );
    a.start_kill().expect("kill");
    b.start_kill().expect("kill");
    let _ = (a.wait().await, b.wait().await);
    app.stop().await;
}
