//! The request context [`Ctx`]: built once per request (or per job, CLI command, demo load)
//! and passed to every core and store call, so audit, logs and rules need no globals.
//!
//! A leaf crate: the core, the store and the HTTP layer all speak it, none owns it.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub enum Caller {
    /// No credentials.
    Anonymous,
    /// A signed-in user of the app (from a verified access token).
    User {
        /// The user's record id.
        id: Uuid,
        /// The user's role.
        role: String,
        /// The session the access token belongs to (logout revokes it).
        session: Option<Uuid>,
        /// When the access token expires (seconds since the epoch), if it does.
        expires: Option<i64>,
    },
    /// A machine caller with a service token.
    Service {
        /// The token's id.
        id: Uuid,
        /// The role the token acts as.
        role: String,
    },
    /// Plinth itself: demo loading, the CLI, jobs. Not subject to access rules.
    System,
}

/// The context of one operation.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The request id (the client's `X-Request-Id`, or one made for it).
    pub request_id: String,
    /// The app's name.
    pub app: Arc<str>,
    /// Who is calling.
    pub caller: Caller,
    /// The operation's one clock reading (milliseconds, as stored), used for every
    /// timestamp it writes.
    pub now: DateTime<Utc>,
}

impl Ctx {
    /// A context for a caller, stamped now.
    pub fn new(app: Arc<str>, request_id: impl Into<String>, caller: Caller) -> Self {
        Ctx {
            request_id: request_id.into(),
            app,
            caller,
            now: Utc::now().trunc_subsecs(3),
        }
    }

    /// A context for Plinth's own work (CLI, demo data, jobs), with a fresh request id.
    pub fn system(app: Arc<str>) -> Self {
        Ctx::new(app, Uuid::new_v4().to_string(), Caller::System)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_kept_to_milliseconds() {
        let ctx = Ctx::system("t".into());
        assert_eq!(ctx.now.timestamp_subsec_nanos() % 1_000_000, 0);
        assert_eq!(ctx.caller, Caller::System);
        assert_eq!(ctx.request_id.len(), 36);
    }
}
