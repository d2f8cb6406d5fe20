//! Running an app's jobs (docs/jobs.md): workers that claim jobs from the app's own
//! database under leases and run them with their capability, and the cron schedules that
//! enqueue jobs once per tick across every node. The queue itself (tables, claims,
//! guarded finishes) is the core's; this crate only drives it.

mod backoff;
mod gauges;
mod run;
mod schedule;
mod worker;

pub use backoff::backoff;
pub use schedule::run_schedules;
pub use worker::{spawn, WorkerOptions, Workers};
