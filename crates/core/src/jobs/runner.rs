//! The capabilities that run jobs: a Rust type registered by name (`datagen.generate`),
//! which a manifest's job kind names in `run:`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use plinth_records::FieldError;
use plinth_store::WriteUnit;
use serde_json::Value as J;
use tokio::sync::watch;

use super::Job;
use crate::AppService;

/// A boxed future (the runner trait stays object-safe without an extra crate).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs jobs of the kinds that name it.
pub trait Runner: Send + Sync {
    /// Check and normalise parameters before a job of `app` is enqueued: every bad field
    /// named.
    fn check(&self, app: &AppService, params: J) -> Result<J, Vec<FieldError>> {
        let _ = app;
        Ok(params)
    }

    /// Run one attempt. Writes it makes on its own commit on their own; writes it returns
    /// in [`JobOutput::unit`] commit with the job's completion.
    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>>;
}

/// What a finished attempt hands back.
#[derive(Debug, Default)]
pub struct JobOutput {
    /// Kept on the job as `result`.
    pub result: Option<J>,
    /// Where the output can be fetched (`resultUri`).
    pub result_uri: Option<String>,
    /// Statements that commit together with the job's completion.
    pub unit: WriteUnit,
}

/// Why an attempt did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (after a backoff), while attempts remain.
    #[error("{0}")]
    Retry(String),
    /// Will never succeed (bad parameters, missing input): the job fails now.
    #[error("{0}")]
    Fail(String),
}

/// One attempt of a job, as its runner sees it.
pub struct JobRun {
    /// The app the job belongs to.
    pub app: Arc<AppService>,
    /// The job as claimed (attempts already counts this one).
    pub job: Job,
    /// The worker holding the lease.
    pub owner: Arc<str>,
    /// Becomes true when the job is cancelled or its lease is lost: stop soon.
    pub cancelled: watch::Receiver<bool>,
}

impl JobRun {
    /// Whether the attempt should stop.
    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// Record progress (0 to 1) and announce `job:progress`; false when the job is no
    /// longer this worker's.
    pub async fn progress(&self, fraction: f64) -> bool {
        self.app
            .job_progress(&self.job, &self.owner, fraction.clamp(0.0, 1.0))
            .await
            .unwrap_or(false)
    }
}

/// Runners by name.
#[derive(Clone, Default)]
pub struct Runners(HashMap<String, Arc<dyn Runner>>);

impl Runners {
    /// The built-ins: `noop`, which finishes at once, and the diagnostics `plinth.sleep`
    /// and `plinth.fail`.
    pub fn new() -> Self {
        let mut r = Runners::default();
        r.add("noop", super::builtin::Noop);
        r.add("plinth.sleep", super::builtin::Sleep);
        r.add("plinth.fail", super::builtin::Fail);
        r
    }

    /// Register `runner` under `name`.
    pub fn add(&mut self, name: &str, runner: impl Runner + 'static) {
        self.0.insert(name.to_owned(), Arc::new(runner));
    }

    /// The runner called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Runner>> {
        self.0.get(name)
    }
}
