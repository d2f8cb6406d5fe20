//! Plinth's side of the job-queue benchmark (`bench/jobs.sh`, BullMQ's side is
//! `bench/jobs/bullmq.mjs`, same modes and output): the queue in the app's own database,
//! driven in-process by the same workers `plinth serve` runs.
//!
//!     jobs_bench <database url> throughput <jobs> <concurrency is the app's: 8>
//!     jobs_bench <database url> latency <jobs> <rate per s>
//!
//! The database URL is `sqlite://<file>` or a PostgreSQL URL (a fresh schema is made).
//! Prints one JSON line.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plinth_core::jobs::{BoxFuture, JobError, JobOutput, JobRun, NewJob, Runner, Runners};
use plinth_core::AppService;
use plinth_store::{DbUrl, StoreOptions, WriteUnit};
use serde_json::json;

// The allocator the plinth binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records how long each job waited between enqueue and start.
struct Stamp(Arc<Mutex<Vec<f64>>>);

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros()
}

impl Runner for Stamp {
    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        let seen = self.0.clone();
        Box::pin(async move {
            let sent = job.job.params["t"].as_u64().unwrap_or(0) as u128;
            let ms = (now_us().saturating_sub(sent)) as f64 / 1000.0;
            if let Ok(mut s) = seen.lock() {
                s.push(ms);
            }
            Ok(JobOutput::default())
        })
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    // Nearest rank, as bullmq.mjs reports.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, mode, jobs, arg] = args.as_slice() else {
        anyhow::bail!("usage: jobs_bench <db url> throughput|latency <jobs> <concurrency|rate>");
    };
    let jobs: usize = jobs.parse()?;
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/jobs/app.yaml"
    ))?;
    let manifest = Arc::new(plinth_manifest::parse(&src).map_err(|e| anyhow::anyhow!("{e}"))?);
    let schema = format!("jobbench_{}", uuid::Uuid::new_v4().simple());
    let db = DbUrl::parse(&secrecy::SecretString::from(url.clone()), &schema)?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut runners = Runners::new();
    runners.add("bench.stamp", Stamp(seen.clone()));
    let app = AppService::open(
        manifest,
        StoreOptions {
            url: db,
            migrations_dir: None,
        },
    )
    .await?
    .with_runners(runners)?;
    let ctx = app.system_ctx();
    app.migrate_up(&ctx).await?;
    let app = Arc::new(app);
    let options = plinth_jobs::WorkerOptions {
        poll: Duration::from_millis(1000),
        ..Default::default()
    };
    let out = match mode.as_str() {
        "throughput" => {
            let started = Instant::now();
            for chunk in (0..jobs).collect::<Vec<_>>().chunks(1000) {
                let mut unit = WriteUnit::new();
                for _ in chunk {
                    let job = NewJob {
                        kind: "noop".into(),
                        params: json!({}),
                        ..Default::default()
                    };
                    app.enqueue_into(&ctx, job, &mut unit)?;
                }
                app.store().apply(&ctx, unit).await?;
            }
            let enqueue = started.elapsed().as_secs_f64();
            let coll = app
                .any_collection("_plinth_jobs")
                .ok_or_else(|| anyhow::anyhow!("no queue"))?
                .clone();
            // Done when no job is left unfinished (a cheap look, no count).
            let pairs = vec![
                ("filter".to_owned(), "status != 'completed'".to_owned()),
                ("limit".to_owned(), "1".to_owned()),
                ("count".to_owned(), "none".to_owned()),
            ];
            let started = Instant::now();
            let workers = plinth_jobs::spawn(app.clone(), options);
            loop {
                let page = app.list(&ctx, &coll, &pairs).await?;
                if page.items.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let secs = started.elapsed().as_secs_f64();
            workers.stop().await;
            json!({"system": "plinth", "db": format!("{:?}", app.store().dialect()).to_lowercase(), "mode": "throughput", "jobs": jobs,
                "seconds": secs, "enqueue_seconds": enqueue, "jobs_per_s": jobs as f64 / secs,
                "concurrency": arg.parse::<u32>().unwrap_or(8)})
        }
        "latency" => {
            let rate: f64 = arg.parse()?;
            let workers = plinth_jobs::spawn(app.clone(), options);
            let warmup = 20;
            let started = Instant::now();
            for i in 0..jobs + warmup {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let job = NewJob {
                    kind: "stamp".into(),
                    params: json!({"t": now_us() as u64}),
                    ..Default::default()
                };
                app.enqueue(&ctx, job).await?;
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            while seen.lock().map(|s| s.len()).unwrap_or(0) < jobs + warmup
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            workers.stop().await;
            let mut lat: Vec<f64> = seen
                .lock()
                .map(|s| s[warmup.min(s.len())..].to_vec())
                .unwrap_or_default();
            lat.sort_by(f64::total_cmp);
            anyhow::ensure!(!lat.is_empty(), "no job ran");
            json!({"system": "plinth", "db": format!("{:?}", app.store().dialect()).to_lowercase(), "mode": "latency", "jobs": lat.len(),
                "p50_ms": percentile(&lat, 50.0), "p90_ms": percentile(&lat, 90.0),
                "p99_ms": percentile(&lat, 99.0), "max_ms": lat[lat.len() - 1], "rate": rate})
        }
        other => anyhow::bail!("unknown mode {other}"),
    };
    println!("{out}");
    Ok(())
}
