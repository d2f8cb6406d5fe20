//! Five-field cron patterns read in a time zone (a schedule's `cron` and `timezone`).

use std::str::FromStr;

use chrono::{DateTime, Utc};

/// A checked cron pattern and the zone its fields are read in.
#[derive(Debug, Clone)]
pub struct CronSpec {
    cron: croner::Cron,
    tz: chrono_tz::Tz,
}

impl CronSpec {
    /// Parse `minute hour day-of-month month day-of-week` read in `tz` (IANA, default UTC).
    pub fn parse(pattern: &str, tz: Option<&str>) -> Result<CronSpec, String> {
        if pattern.split_whitespace().count() != 5 {
            return Err(format!(
                "cron `{pattern}` needs five fields: minute hour day-of-month month day-of-week"
            ));
        }
        let cron = croner::Cron::from_str(pattern)
            .map_err(|e| format!("cron `{pattern}` is not valid: {e}"))?;
        let tz = match tz {
            None => chrono_tz::UTC,
            Some(name) => name.parse().map_err(|_| {
                format!("unknown time zone `{name}` (an IANA name, e.g. Europe/Paris)")
            })?,
        };
        Ok(CronSpec { cron, tz })
    }

    /// The first tick strictly after `t`, if the pattern has one.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|n| n.with_timezone(&Utc))
    }

    /// The last tick at or before `t`, if the pattern has one.
    pub fn last_at_or_before(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.tz);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|n| n.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ticks_in_a_zone() {
        let c = CronSpec::parse("30 9 * * 1-5", Some("Europe/Paris")).expect("valid");
        // Friday 2026-11-20 09:00 UTC = 10:00 Paris: next is Monday 09:30 Paris = 08:30 UTC.
        let t = Utc
            .with_ymd_and_hms(2026, 11, 20, 9, 0, 0)
            .single()
            .expect("time");
        let next = c.next_after(t).expect("a tick");
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0)
                .single()
                .expect("t")
        );
        let prev = c.last_at_or_before(t).expect("a tick");
        assert_eq!(
            prev,
            Utc.with_ymd_and_hms(2026, 11, 20, 8, 30, 0)
                .single()
                .expect("t")
        );
    }

    #[test]
    fn rejects_bad_patterns() {
        assert!(CronSpec::parse("* * * *", None).is_err());
        assert!(CronSpec::parse("0 * * * * *", None).is_err());
        assert!(CronSpec::parse("61 * * * *", None).is_err());
        assert!(CronSpec::parse("* * * * *", Some("Mars/Olympus")).is_err());
        let every = CronSpec::parse("*/5 * * * *", None).expect("valid");
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 5, 0)
            .single()
            .expect("t");
        assert_eq!(every.next_after(t), Some(t + chrono::Duration::minutes(5)));
    }
}
