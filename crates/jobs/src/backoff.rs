//! How long a failed job waits before its next attempt.

use std::time::Duration;

/// Exponential backoff with jitter: `base * 2^(attempt-1)`, capped at one hour, then
/// scaled by a random factor in 0.75..1.25 so jobs that failed together do not retry in
/// lock step.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let raw = base
        .saturating_mul(1u32 << exp)
        .min(Duration::from_secs(3600));
    // Randomness from a v4 UUID: no extra crate for one number.
    let r = uuid::Uuid::new_v4().as_u128() as u64 % 1000;
    raw.mul_f64(0.75 + r as f64 / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_and_caps() {
        let base = Duration::from_secs(1);
        for attempt in 1..=5u32 {
            let d = backoff(base, attempt);
            let nominal = 2f64.powi(attempt as i32 - 1);
            let s = d.as_secs_f64();
            assert!(s >= nominal * 0.75 && s <= nominal * 1.25, "{attempt}: {s}");
        }
        assert!(backoff(base, 40) <= Duration::from_secs(4500));
        let draws: std::collections::HashSet<u128> =
            (0..20).map(|_| backoff(base, 3).as_nanos()).collect();
        assert!(draws.len() > 1, "jitter varies");
    }
}
