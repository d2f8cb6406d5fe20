//! Rate limits an app declares (`rate_limits:`): how many requests a client may make per
//! window, per route group. Counting lives in the core; this is only the format.

use serde::{Deserialize, Serialize};

/// Limits per route group; an absent group is unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// `POST auth/login`, `auth/register`, `auth/refresh`, `auth/password`, keyed by client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<RateLimit>,
    /// Every other route of the app, keyed by the signed-in caller, else the client IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<RateLimit>,
}

/// At most `max` requests per `window` (`30s`, `15m`, `1h`, `1d`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window (at least 1).
    pub max: u32,
    /// The window's length, e.g. `15m`.
    pub window: String,
}

/// Longest window accepted: a day (a longer one is a quota, not a rate limit).
pub const MAX_WINDOW_SECS: u64 = 24 * 60 * 60;

/// The seconds in a window written `<n>s`, `<n>m`, `<n>h` or `<n>d`; None when malformed,
/// zero or over [`MAX_WINDOW_SECS`].
pub fn window_secs(window: &str) -> Option<u64> {
    let w = window.trim();
    let unit = match w.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let n: u64 = w[..w.len() - 1].parse().ok()?;
    n.checked_mul(unit)
        .filter(|s| (1..=MAX_WINDOW_SECS).contains(s))
}

impl RateLimit {
    /// The window in seconds (see [`window_secs`]).
    pub fn window_secs(&self) -> Option<u64> {
        window_secs(&self.window)
    }

    /// What is wrong with this limit, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.max == 0 {
            return Some("max must be at least 1 (leave the group out for no limit)".into());
        }
        self.window_secs().is_none().then(|| {
            format!(
                "window `{}` must be a whole number of s, m, h or d (e.g. 15m), at most 1d",
                self.window
            )
        })
    }
}

impl RateLimits {
    /// The groups by name, in a fixed order.
    pub fn groups(&self) -> [(&'static str, &Option<RateLimit>); 2] {
        [("auth", &self.auth), ("api", &self.api)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_in_seconds() {
        assert_eq!(window_secs("30s"), Some(30));
        assert_eq!(window_secs("15m"), Some(900));
        assert_eq!(window_secs("1h"), Some(3600));
        assert_eq!(window_secs("1d"), Some(86_400));
        for bad in ["", "m", "0s", "15", "15 m", "-1m", "2d", "1.5h", "15M"] {
            assert_eq!(window_secs(bad), None, "{bad}");
        }
        let zero = RateLimit {
            max: 0,
            window: "1m".into(),
        };
        assert!(zero.problem().is_some_and(|p| p.contains("at least 1")));
    }

    #[test]
    fn manifests_check_their_limits_with_location() {
        let ok = crate::parse("name: t\nrate_limits:\n  auth: { max: 5, window: 15m }\n")
            .expect("valid");
        let limits = ok.rate_limits.expect("declared");
        assert_eq!(limits.auth.and_then(|l| l.window_secs()), Some(900));
        assert!(limits.api.is_none());
        let err = crate::parse(
            "name: t\nrate_limits:\n  auth: { max: 0, window: 15m }\n  api: { max: 9, window: soon }\n",
        )
        .expect_err("bad limits");
        assert_eq!(err.0.len(), 2, "{err}");
        assert_eq!(
            (err.0[0].path.as_str(), err.0[0].line),
            ("rate_limits.auth", Some(3))
        );
        assert_eq!(
            (err.0[1].path.as_str(), err.0[1].line),
            ("rate_limits.api", Some(4))
        );
        assert!(crate::parse("name: t\nrate_limits:\n  web: { max: 1, window: 1s }\n").is_err());
    }
}
