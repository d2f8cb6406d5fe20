//! Background work an app declares: job kinds (each run by a named Rust capability), the
//! queues they run on, cron schedules, and endpoints that enqueue a job or report on one
//! (docs/jobs.md).

use serde::{Deserialize, Serialize};

use crate::check::{is_identifier, Checker};
use crate::model::{FieldType, Manifest};

/// A kind of job: what runs it and how it is retried.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobDef {
    /// The capability that runs it, by name (e.g. `datagen.generate`; `noop` does nothing).
    pub run: String,
    /// The queue it waits in (default `default`).
    #[serde(default = "default_queue")]
    pub queue: String,
    /// Longest one attempt may take, e.g. `10m` (default 5m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The wait before the second attempt, doubled for each one after (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// Attempts before the job is dead (default 5).
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// A collection whose record follows the job: created with it under the job's id, its
    /// `status`, `result_uri`, `error_message` and `progress` kept in step (DataGen's
    /// `jobs` table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
}

/// How many jobs of a queue run at once on each node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueDef {
    /// Jobs at once per node (default 4).
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
}

/// What a schedule does about ticks missed while no node ran.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Missed {
    /// Forget them; wait for the next tick.
    #[default]
    Skip,
    /// Run once for all of them, at start.
    RunOnce,
}

/// A cron schedule that enqueues a job once per tick, across all nodes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Five-field cron: minute hour day-of-month month day-of-week.
    pub cron: String,
    /// IANA time zone the fields are read in (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The job kind to enqueue.
    pub job: String,
    /// Its parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    /// Ticks missed during downtime.
    #[serde(default)]
    pub missed: Missed,
}

/// An extra route under the app's base (seed paths that are neither a collection nor an
/// action: DataGen's `POST /generate`, `GET /status/:jobId`, `GET /`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Method and path below the base, e.g. `POST /generate` or `GET /status/{id}`.
    pub route: String,
    /// Enqueue this job kind with the request body as its parameters; answers `{jobId}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueue: Option<String>,
    /// Take a multipart file upload (field `file`) first; the job's parameters name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<Upload>,
    /// Report the status of the job named by the path's `{id}`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub job_status: bool,
    /// Answer the app's health: name, version, database status.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub health: bool,
    /// Success status (default: 202 for an enqueue, 201 for an upload, else 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// What an upload endpoint accepts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    /// Largest file in bytes.
    pub max_bytes: u64,
    /// Kinds accepted, judged by the bytes (`csv`, `json`, `parquet`).
    pub types: Vec<String>,
    /// A collection recording each upload (DataGen's `uploaded_files`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
}

impl Endpoint {
    /// The method and the path of [`Endpoint::route`].
    pub fn method_path(&self) -> Option<(&str, &str)> {
        let (m, p) = self.route.trim().split_once(' ')?;
        Some((m, p.trim()))
    }
}

fn default_queue() -> String {
    "default".to_owned()
}

fn default_attempts() -> u32 {
    5
}

fn default_concurrency() -> u32 {
    4
}

/// Milliseconds in a duration written `250ms`, `90s`, `10m`, `2h` or `1d` (more than 0).
pub fn duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let (n, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else {
        let unit = match s.chars().last()? {
            's' => 1000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            _ => return None,
        };
        (&s[..s.len() - 1], unit)
    };
    let n: u64 = n.parse().ok()?;
    n.checked_mul(unit).filter(|n| *n > 0)
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Checker<'_> {
    /// Jobs name real queues' worth of settings and tracked collections; schedules name
    /// real jobs; endpoints say one thing each.
    pub(crate) fn jobs(&mut self, m: &Manifest) {
        for (name, job) in &m.jobs {
            let path = ["jobs", name.as_str()];
            if !is_identifier(name) {
                self.error(&path, "job names are lowercase letters, digits and _");
            }
            if job.run.is_empty() {
                self.error(&path, "`run` names the capability that runs the job");
            }
            if job.max_attempts == 0 {
                self.error(&path, "max_attempts is at least 1");
            }
            for (what, d) in [("timeout", &job.timeout), ("backoff", &job.backoff)] {
                if d.as_deref().is_some_and(|t| duration_ms(t).is_none()) {
                    self.error(
                        &path,
                        format!("{what} is a whole number of ms, s, m, h or d"),
                    );
                }
            }
            if let Some(t) = &job.track {
                match m.collections.get(t) {
                    None => self.error(&path, format!("track: unknown collection `{t}`")),
                    Some(c) if c.fields.get("status").map(|f| f.kind) != Some(FieldType::Enum) => {
                        self.error(&path, format!("track: `{t}` needs an enum `status` field"))
                    }
                    Some(_) => {}
                }
            }
        }
        for (name, q) in &m.queues {
            if q.concurrency == 0 || q.concurrency > 256 {
                self.error(&["queues", name.as_str()], "concurrency is from 1 to 256");
            }
        }
        for (name, s) in &m.schedules {
            let path = ["schedules", name.as_str()];
            if !m.jobs.contains_key(&s.job) {
                self.error(&path, format!("unknown job `{}`", s.job));
            }
            if let Err(e) = crate::cron::CronSpec::parse(&s.cron, s.timezone.as_deref()) {
                self.error(&path, e);
            }
        }
        self.endpoints(m);
    }

    fn endpoints(&mut self, m: &Manifest) {
        let mut seen = Vec::new();
        for (i, e) in m.endpoints.iter().enumerate() {
            let i = i.to_string();
            let path = ["endpoints", i.as_str()];
            let Some((method, p)) = e.method_path() else {
                self.error(&path, "route is `METHOD /path`");
                continue;
            };
            if !METHODS.contains(&method) || !p.starts_with('/') {
                self.error(
                    &path,
                    "route is `METHOD /path` (GET, POST, PUT, PATCH or DELETE)",
                );
            }
            if seen.contains(&e.route) {
                self.error(&path, "route declared twice");
            }
            seen.push(e.route.clone());
            let kinds = [e.enqueue.is_some(), e.job_status, e.health];
            if kinds.iter().filter(|k| **k).count() != 1 {
                self.error(&path, "say one of enqueue, job_status or health");
            }
            if let Some(j) = &e.enqueue {
                if !m.jobs.contains_key(j) {
                    self.error(&path, format!("unknown job `{j}`"));
                }
            }
            if e.job_status && !p.contains("{id}") {
                self.error(&path, "a job_status route names the job with `{id}`");
            }
            if let Some(u) = &e.upload {
                if e.enqueue.is_none() {
                    self.error(&path, "an upload enqueues the job that reads it");
                }
                for t in &u.types {
                    if !["csv", "json", "parquet"].contains(&t.as_str()) {
                        self.error(&path, format!("unknown upload type `{t}`"));
                    }
                }
                if u.record
                    .as_ref()
                    .is_some_and(|r| !m.collections.contains_key(r))
                {
                    self.error(&path, "upload record: unknown collection");
                }
            }
        }
    }
}
