//! The DataGen capabilities (seed 003), registered by name for the `datagen` app's jobs:
//! `datagen.generate` writes synthetic records (from `plinth-generators`) into
//! `generated_data`, `datagen.upload` reads an uploaded CSV or JSON file into it,
//! `datagen.export` writes a collection or a generated entity to a CSV or JSON file, and
//! `datagen.cleanup` removes old jobs with their data and files. docs/jobs.md tells how a
//! manifest uses them.

mod cleanup;
mod export;
mod generate;
mod parquet_out;
mod upload;

use plinth_core::jobs::{JobError, Runners};

/// Where generated and uploaded records go.
pub(crate) const TARGET: &str = "generated_data";

/// Records written per unit.
pub(crate) const BATCH: usize = 500;

/// Add the DataGen capabilities to `runners`.
pub fn register(runners: &mut Runners) {
    runners.add("datagen.generate", generate::Generate);
    runners.add("datagen.upload", upload::Upload);
    runners.add("datagen.export", export::Export);
    runners.add("datagen.cleanup", cleanup::Cleanup);
}

/// A database or storage failure: worth another attempt.
pub(crate) fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// Report progress when it moved by a percent or more; false when the job is no longer
/// ours (cancelled).
pub(crate) async fn progress(
    job: &plinth_core::jobs::JobRun,
    done: u64,
    total: u64,
    last: &mut u64,
) -> bool {
    let pct = done * 100 / total.max(1);
    if pct > *last {
        *last = pct;
        return job.progress(done as f64 / total.max(1) as f64).await;
    }
    !job.is_cancelled()
}
