//! Rate limits: fixed windows counted in the app's own database (`_plinth_rate_limits`),
//! so every node on one PostgreSQL shares the count. One atomic upsert per request; over
//! the limit is [`CoreError::RateLimited`] with the seconds until the window ends.
//!
//! Free of HTTP: the caller says which group a request belongs to and who the client is.

use chrono::{DateTime, TimeZone, Utc};
use plinth_context::{Caller, Ctx};
use plinth_manifest::RateLimits;
use plinth_store::{StepOut, WriteUnit};
use uuid::Uuid;

use crate::{AppService, CoreError};

/// A route group with its own limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Sign-in and other credential checks (login, register, refresh, password).
    Auth,
    /// Every other route of the app.
    Api,
}

impl Group {
    fn as_str(self) -> &'static str {
        match self {
            Group::Auth => "auth",
            Group::Api => "api",
        }
    }
}

/// At most `max` requests per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub max: u32,
    /// The window's length in seconds.
    pub window_secs: u64,
}

/// An app's limits per group; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// The auth group's limit.
    pub auth: Option<Limit>,
    /// The api group's limit.
    pub api: Option<Limit>,
}

impl Limits {
    /// The limits a manifest declares (a checked manifest has only valid windows).
    pub fn from_manifest(m: Option<&RateLimits>) -> Self {
        let get = |l: &Option<plinth_manifest::RateLimit>| {
            let l = l.as_ref()?;
            Some(Limit {
                max: l.max,
                window_secs: l.window_secs()?,
            })
        };
        m.map_or_else(Limits::default, |m| Limits {
            auth: get(&m.auth),
            api: get(&m.api),
        })
    }

    /// The limit of a group.
    pub fn get(&self, group: Group) -> Option<Limit> {
        match group {
            Group::Auth => self.auth,
            Group::Api => self.api,
        }
    }
}

/// The fixed window holding `now`: its start (windows are aligned to the Unix epoch, so
/// every node agrees without talking) and the whole seconds until it ends (at least 1).
pub fn window(now: DateTime<Utc>, window_secs: u64) -> (DateTime<Utc>, u64) {
    let len_ms = i64::try_from(window_secs.max(1))
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let now_ms = now.timestamp_millis();
    let start_ms = now_ms - now_ms.rem_euclid(len_ms);
    let left_ms = start_ms + len_ms - now_ms;
    let start = Utc.timestamp_millis_opt(start_ms).single().unwrap_or(now);
    let retry = u64::try_from((left_ms + 999) / 1000).unwrap_or(1).max(1);
    (start, retry)
}

/// The counter's key: the group and, on the api group, the signed-in caller (a user or a
/// service token); otherwise the client's address.
pub fn key(group: Group, caller: &Caller, client: &str) -> String {
    let who = match (group, caller) {
        (Group::Api, Caller::User { id, .. }) => format!("user:{id}"),
        (Group::Api, Caller::Service { id, .. }) => format!("service:{id}"),
        _ => format!("ip:{client}"),
    };
    format!("{}:{who}", group.as_str())
}

impl AppService {
    /// Replace the manifest's limits (the operator's configuration).
    pub fn with_rate_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn rate_limits(&self) -> Limits {
        self.limits
    }

    /// Count a request of `group` from `client` (an IP address, or `unknown`) and the
    /// caller in `ctx`; over the limit it is [`CoreError::RateLimited`]. A group without a
    /// limit costs nothing.
    pub async fn count_request(
        &self,
        ctx: &Ctx,
        group: Group,
        client: &str,
    ) -> Result<(), CoreError> {
        let Some(limit) = self.limits.get(group) else {
            return Ok(());
        };
        let coll = self
            .any_collection(plinth_manifest::RATE_LIMITS)
            .ok_or_else(|| CoreError::NotFound("No rate-limit counters".into()))?;
        let (start, retry_after_secs) = window(ctx.now, limit.window_secs);
        let key = key(group, &ctx.caller, client);
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .hit_step(&coll.table, Uuid::now_v7(), &key, start)?,
        );
        let hits = self
            .store
            .apply(ctx, unit)
            .await?
            .into_iter()
            .next()
            .and_then(StepOut::into_record)
            .and_then(|r| r.get("hits").and_then(serde_json::Value::as_i64))
            .unwrap_or_default();
        if hits > i64::from(limit.max) {
            tracing::debug!(request_id = %ctx.request_id, app = %ctx.app, %key, hits, "rate limited");
            return Err(CoreError::RateLimited { retry_after_secs });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn windows_are_aligned_and_retry_rounds_up() {
        let (start, retry) = window(at("2026-01-01T10:07:30.250Z"), 900);
        assert_eq!(start, at("2026-01-01T10:00:00Z"));
        assert_eq!(retry, 450); // 449.75 s left, rounded up
        let (start, retry) = window(at("2026-01-01T10:15:00Z"), 900);
        assert_eq!(start, at("2026-01-01T10:15:00Z"));
        assert_eq!(retry, 900);
        assert_eq!(window(at("2026-01-01T10:14:59.999Z"), 900).1, 1);
    }

    #[test]
    fn keys_name_the_user_on_the_api_group_only() {
        let id = Uuid::nil();
        let user = Caller::User {
            id,
            role: "USER".into(),
            session: None,
            expires: None,
        };
        assert_eq!(key(Group::Api, &user, "10.0.0.1"), format!("api:user:{id}"));
        assert_eq!(key(Group::Auth, &user, "10.0.0.1"), "auth:ip:10.0.0.1");
        assert_eq!(key(Group::Api, &Caller::Anonymous, "::1"), "api:ip:::1");
    }

    #[test]
    fn manifest_limits_resolve_to_seconds() {
        let m = plinth_manifest::parse("name: t\nrate_limits:\n  api: { max: 100, window: 15m }\n")
            .expect("manifest");
        let l = Limits::from_manifest(m.rate_limits.as_ref());
        assert_eq!(
            l.api,
            Some(Limit {
                max: 100,
                window_secs: 900
            })
        );
        assert_eq!(l.get(Group::Auth), None);
    }
}
