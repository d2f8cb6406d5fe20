//! Capabilities every build has: `noop`, and two diagnostics for trying the queue out
//! (and testing it through the real binary): `plinth.sleep` and `plinth.fail`.

use std::time::Duration;

use plinth_records::FieldError;
use serde_json::Value as J;

use super::{BoxFuture, JobError, JobOutput, JobRun, Runner};

/// Does nothing (benchmarks, schedules that only mark time).
pub(super) struct Noop;

impl Runner for Noop {
    fn run(&self, _job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async { Ok(JobOutput::default()) })
    }
}

/// `{"ms": 500, "steps": 5}`: sleeps `ms` in `steps` parts, reporting progress after each
/// and stopping early when cancelled.
pub(super) struct Sleep;

const MAX_SLEEP_MS: u64 = 3_600_000;

impl Runner for Sleep {
    fn check(&self, _app: &crate::AppService, params: J) -> Result<J, Vec<FieldError>> {
        let mut errors = Vec::new();
        match params.get("ms").and_then(J::as_u64) {
            Some(ms) if ms <= MAX_SLEEP_MS => {}
            _ => errors.push(FieldError::new("ms", "a whole number of ms up to 3600000")),
        }
        if let Some(s) = params.get("steps") {
            if !s.as_u64().is_some_and(|s| (1..=1000).contains(&s)) {
                errors.push(FieldError::new("steps", "from 1 to 1000"));
            }
        }
        if errors.is_empty() {
            Ok(params)
        } else {
            Err(errors)
        }
    }

    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let ms = job.job.params.get("ms").and_then(J::as_u64).unwrap_or(0);
            let steps = job
                .job
                .params
                .get("steps")
                .and_then(J::as_u64)
                .unwrap_or(1)
                .max(1);
            let mut cancelled = job.cancelled.clone();
            for i in 1..=steps {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms / steps)) => {}
                    _ = cancelled.wait_for(|c| *c) => {
                        return Err(JobError::Fail("cancelled".into()));
                    }
                }
                if steps > 1 {
                    job.progress(i as f64 / steps as f64).await;
                }
            }
            Ok(JobOutput {
                result: Some(serde_json::json!({"slept_ms": ms, "attempt": job.job.attempts})),
                ..JobOutput::default()
            })
        })
    }
}

/// `{"message": "...", "permanent": false, "succeed_from_attempt": 3}`: fails (for good
/// when `permanent`) until the given attempt, then succeeds.
pub(super) struct Fail;

impl Runner for Fail {
    fn run(&self, job: JobRun) -> BoxFuture<'static, Result<JobOutput, JobError>> {
        Box::pin(async move {
            let p = &job.job.params;
            let from = p.get("succeed_from_attempt").and_then(J::as_i64);
            if from.is_some_and(|n| job.job.attempts >= n) {
                return Ok(JobOutput::default());
            }
            let message = p
                .get("message")
                .and_then(J::as_str)
                .unwrap_or("failed on purpose");
            if p.get("permanent").and_then(J::as_bool) == Some(true) {
                Err(JobError::Fail(message.into()))
            } else {
                Err(JobError::Retry(message.into()))
            }
        })
    }
}
