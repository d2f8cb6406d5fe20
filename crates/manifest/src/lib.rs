//! The app manifest (`apps/<name>/app.yaml`): what an app declares, parsed and checked.
//!
//! This crate knows nothing of HTTP or SQL; the store and the HTTP layer read these types.

mod aggregates;
mod audit;
mod check;
mod check_access;
mod cron;
mod dedupe;
mod jobs;
mod limits;
mod locate;
mod model;
mod system;
mod transitions;
mod triggers;

pub use aggregates::{relative_secs, Aggregate, Bucket, BucketSize, Measure, MeasureFn, Param};
pub use check::{parse, ManifestError, ManifestErrors};
pub use cron::CronSpec;
pub use dedupe::Dedupe;
pub use jobs::{duration_ms, Endpoint, JobDef, Missed, QueueDef, Schedule, Upload};
pub use limits::{window_secs, RateLimit, RateLimits, MAX_WINDOW_SECS};
pub use model::{
    camel_case, Collection, EnvelopeStyle, ErrorStyle, Field, FieldType, IndexDef, Manifest,
    Naming, OnDelete, Rules, Timestamps,
};
pub use system::{is_system, with_system, RATE_LIMITS, USERS};
pub use transitions::{Action, Log, Transition};
pub use triggers::{is_topic, Trigger, WHEN_VALUES};

/// Names no collection or field may take: they are system columns or list query words.
pub const RESERVED_FIELD_NAMES: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "limit",
    "offset",
    "sort",
    "filter",
    "expand",
    "fields",
    "count",
];

/// Route words under an app's base that a collection may not shadow.
pub const RESERVED_COLLECTION_NAMES: &[&str] =
    &["auth", "openapi", "docs", "realtime", "files", "_jobs"];
