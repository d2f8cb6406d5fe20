//! Workers: one loop per queue claims due jobs in batches, keeps a few more than it runs
//! when jobs are short (fewer, larger claims), runs each in its own task up to the queue's
//! concurrency, renews all of its leases in one statement, and marks plain completions in
//! batches. A job whose worker dies is claimed again once its lease runs out (at least
//! once, docs/jobs.md).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use plinth_core::jobs::Job;
use plinth_core::AppService;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use uuid::Uuid;

use crate::run::run_one;

/// How this node's workers behave.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The name written as lease owner (unique per process).
    pub owner: String,
    /// How long a claim holds without renewal; renewed every third of it.
    pub lease: Duration,
    /// How often an idle queue looks for due jobs (wake-ups come sooner after an enqueue
    /// on this node).
    pub poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            owner: format!("{}-{}", std::process::id(), Uuid::new_v4().simple()),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(1),
        }
    }
}

/// Running workers of one app; [`Workers::stop`] lets running jobs finish.
pub struct Workers {
    stop: watch::Sender<bool>,
    loops: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stop claiming, wait for running jobs, and return.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for l in self.loops {
            let _ = l.await;
        }
    }
}

/// Start a loop for every queue the app's jobs use, and its schedules.
pub fn spawn(app: Arc<AppService>, options: WorkerOptions) -> Workers {
    let (stop, stop_rx) = watch::channel(false);
    let manifest = app.manifest().clone();
    let mut queues: Vec<String> = manifest.jobs.values().map(|j| j.queue.clone()).collect();
    queues.sort();
    queues.dedup();
    let options = Arc::new(options);
    let mut loops = Vec::new();
    for queue in queues {
        let concurrency = manifest.queues.get(&queue).map_or(4, |q| q.concurrency) as usize;
        let q = Queue {
            app: app.clone(),
            name: queue,
            concurrency,
            options: options.clone(),
            held: Arc::default(),
        };
        loops.push(tokio::spawn(q.run(stop_rx.clone())));
    }
    if !manifest.jobs.is_empty() {
        let every = Duration::from_secs(5);
        loops.push(tokio::spawn(crate::gauges::sample(
            app.clone(),
            every,
            stop_rx.clone(),
        )));
    }
    loops.push(tokio::spawn(crate::schedule::run_schedules(
        app.clone(),
        stop_rx,
    )));
    Workers { stop, loops }
}

/// Jobs this worker holds (claimed, not finished), each with its cancel signal.
pub(crate) type Held = Arc<Mutex<HashMap<Uuid, watch::Sender<bool>>>>;

/// One queue's worker loop.
struct Queue {
    app: Arc<AppService>,
    name: String,
    concurrency: usize,
    options: Arc<WorkerOptions>,
    held: Held,
}

/// Jobs kept claimed beyond the running ones, at most, per unit of concurrency: when jobs
/// are short, large claims (one transaction each) are what keeps throughput up (bench/jobs.sh:
/// 4 here gave 17k no-op jobs/s on PostgreSQL, 48 gives 35k). For longer jobs the lease
/// budget in `run` keeps fewer waiting, and a stopping worker gives the waiting ones back.
const PREFETCH: usize = 48;

impl Queue {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let app = &self.app;
        let mut wake = app.job_wakeups();
        let mut running = JoinSet::new();
        let mut waiting: VecDeque<Job> = VecDeque::new();
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let finisher = tokio::spawn(finish_batches(
            app.clone(),
            self.options.clone(),
            self.held.clone(),
            done_rx,
        ));
        let renewer = tokio::spawn(renew(
            app.clone(),
            self.name.clone(),
            self.options.clone(),
            self.held.clone(),
            stop.clone(),
        ));
        // Average run time of recent jobs: how many may wait claimed without their lease
        // running short.
        let mut avg_ms = 1000.0f64;
        let mut next_lapsed = Instant::now();
        while !*stop.borrow() {
            while let Some(r) = running.try_join_next() {
                if let Ok(ms) = r {
                    avg_ms = avg_ms * 0.9 + ms * 0.1;
                }
            }
            while running.len() < self.concurrency {
                let Some(job) = waiting.pop_front() else {
                    break;
                };
                let (app, options, done, held) = (
                    app.clone(),
                    self.options.clone(),
                    done_tx.clone(),
                    self.held.clone(),
                );
                running.spawn(async move {
                    let t = Instant::now();
                    run_one(app, job, options, done, held).await;
                    t.elapsed().as_secs_f64() * 1000.0
                });
            }
            let lease_ms = self.options.lease.as_secs_f64() * 1000.0;
            let extra = ((lease_ms / 4.0 / avg_ms.max(0.01)) * self.concurrency as f64)
                .min((self.concurrency * PREFETCH) as f64) as usize;
            let room = (self.concurrency + extra).saturating_sub(running.len() + waiting.len());
            let mut claimed = 0;
            // Claim when the waiting line runs low: fewer, larger claims.
            if waiting.len() < self.concurrency.div_ceil(2) && room > 0 {
                wake.borrow_and_update();
                let lapsed = Instant::now() >= next_lapsed;
                if lapsed {
                    next_lapsed = Instant::now() + self.options.lease / 2;
                }
                for lapsed in if lapsed {
                    vec![true, false]
                } else {
                    vec![false]
                } {
                    let want = room.saturating_sub(claimed);
                    if want == 0 {
                        break;
                    }
                    for job in self.claim(want, lapsed).await {
                        claimed += 1;
                        waiting.push_back(job);
                    }
                }
            }
            if claimed > 0 {
                // More may be due: start these, and claim again when there is room.
                continue;
            }
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = stop.changed() => {}
                Some(r) = running.join_next(), if !running.is_empty() => {
                    if let Ok(ms) = r {
                        avg_ms = avg_ms * 0.9 + ms * 0.1;
                    }
                }
            }
        }
        // Jobs claimed but not started go back to the queue now, not after their lease.
        let unstarted: Vec<Uuid> = waiting.drain(..).map(|j| j.id).collect();
        if let Err(e) = app.release_jobs(&unstarted, &self.options.owner).await {
            tracing::warn!(app = %app.name(), queue = %self.name, error = %e, "unstarted jobs left to their lease");
        }
        if let Ok(mut held) = self.held.lock() {
            for id in &unstarted {
                held.remove(id);
            }
        }
        while running.join_next().await.is_some() {}
        drop(done_tx);
        let _ = finisher.await;
        renewer.abort();
    }

    async fn claim(&self, want: usize, lapsed: bool) -> Vec<Job> {
        let lease =
            chrono::Duration::from_std(self.options.lease).unwrap_or(chrono::Duration::seconds(30));
        let got = self
            .app
            .claim_jobs(
                &self.name,
                &self.options.owner,
                want as u64,
                Utc::now() + lease,
                lapsed,
            )
            .await;
        match got {
            Ok(jobs) => {
                if let Ok(mut held) = self.held.lock() {
                    for j in &jobs {
                        held.insert(j.id, watch::channel(false).0);
                    }
                }
                jobs
            }
            Err(e) => {
                tracing::warn!(app = %self.app.name(), queue = self.name, error = %e, "claiming jobs failed");
                Vec::new()
            }
        }
    }
}

/// Renew every lease this worker holds on the queue, every third of the lease, in one
/// statement; a job missing from the answer was cancelled or taken over: tell it to stop.
async fn renew(
    app: Arc<AppService>,
    queue: String,
    options: Arc<WorkerOptions>,
    held: Held,
    mut stop: watch::Receiver<bool>,
) {
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(30));
    let mut every = tokio::time::interval(options.lease / 3);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => {}
        }
        let before: Vec<Uuid> = held
            .lock()
            .map(|h| h.keys().copied().collect())
            .unwrap_or_default();
        if before.is_empty() {
            if *stop.borrow() {
                return;
            }
            continue;
        }
        match app
            .renew_leases(&queue, &options.owner, Utc::now() + lease)
            .await
        {
            Ok(still) => {
                if let Ok(h) = held.lock() {
                    for id in before.iter().filter(|id| !still.contains(id)) {
                        if let Some(cancel) = h.get(id) {
                            cancel.send_replace(true);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(app = %app.name(), queue, error = %e, "lease renewal failed"),
        }
    }
}

/// Mark plain completions in batches: whatever has arrived since the last statement.
async fn finish_batches(
    app: Arc<AppService>,
    options: Arc<WorkerOptions>,
    held: Held,
    mut done: mpsc::UnboundedReceiver<Uuid>,
) {
    let mut ids = Vec::new();
    while let Some(id) = done.recv().await {
        ids.push(id);
        while ids.len() < 500 {
            match done.try_recv() {
                Ok(id) => ids.push(id),
                Err(_) => break,
            }
        }
        if let Err(e) = app.complete_jobs(&ids, &options.owner).await {
            tracing::warn!(app = %app.name(), error = %e, jobs = ids.len(), "could not mark jobs completed; they run again after their lease");
        }
        if let Ok(mut h) = held.lock() {
            for id in &ids {
                h.remove(id);
            }
        }
        ids.clear();
    }
}
