//! The random stream behind every row, and the small sampling helpers built on it.
//!
//! Each row draws from its own ChaCha8 stream (key from the seed, stream number = row
//! index), so row `n` can be produced without producing rows `0..n` and the output does
//! not depend on how a caller batches. Sampling is done here rather than through `rand`'s
//! distributions so that the values for a seed stay the same whatever `rand` release is in
//! the lock file.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// The generator for one row: key from `seed` and `shape` (see `GenSpec::shape_key`),
/// stream `row`.
pub(crate) fn row_rng(seed: u64, shape: u64, row: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[16..24].copy_from_slice(&shape.to_le_bytes());
    // A fixed tag in the rest of the key keeps these streams apart from any other use of
    // ChaCha8 with a zero-padded seed.
    key[8..16].copy_from_slice(b"plinthgn");
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(row);
    rng
}

/// A uniform integer in `0..n`; `n` must be positive (Lemire's method, unbiased).
pub(crate) fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    debug_assert!(n > 0);
    let mut m = u128::from(rng.next_u64()) * u128::from(n);
    if (m as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (m >> 64) as u64
}

/// A uniform integer in `min..=max` (`min <= max`).
pub(crate) fn in_range(rng: &mut impl RngCore, min: i64, max: i64) -> i64 {
    let span = (i128::from(max) - i128::from(min)) as u128 + 1;
    match u64::try_from(span) {
        Ok(span) => (i128::from(min) + i128::from(below(rng, span))) as i64,
        // The whole i64 range: every 64-bit pattern is one value.
        Err(_) => rng.next_u64() as i64,
    }
}

/// A uniform float in `[0, 1)` with 53 random bits.
pub(crate) fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p` (0 never, 1 always).
pub(crate) fn chance(rng: &mut impl RngCore, p: f64) -> bool {
    p > 0.0 && unit(rng) < p
}

/// A uniformly chosen element of a non-empty slice.
pub(crate) fn pick<'a, T>(rng: &mut impl RngCore, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len() as u64) as usize]
}

/// An index into `weights` chosen with probability proportional to its weight.
pub(crate) fn weighted(rng: &mut impl RngCore, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    let mut r = below(rng, total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if r < u64::from(*w) {
            return i;
        }
        r -= u64::from(*w);
    }
    weights.len().saturating_sub(1)
}

/// SplitMix64: a fixed mixing function to derive parameters from a seed.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A seed-dependent bijection on `0..10^digits`: distinct row indices give distinct,
/// unordered-looking numbers (for SKUs and e-mail suffixes that must not repeat).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scramble {
    modulus: u64,
    mul: u64,
    add: u64,
    /// How many decimal digits the numbers have at most.
    pub(crate) digits: usize,
}

impl Scramble {
    /// The bijection for `rows` rows: at least five digits, more when `rows` needs them.
    /// `seed` picks which of many such bijections.
    pub(crate) fn new(seed: u64, rows: u64) -> Self {
        let mut digits = 5;
        let mut modulus = 100_000u64;
        while modulus < rows {
            modulus *= 10;
            digits += 1;
        }
        // Coprime with 10^k: odd, and (being odd) a multiple of 5 only if it ends in 5.
        let mut mul = (mix(seed) % modulus) | 1;
        while mul % 10 == 5 {
            mul = (mul + 2) % modulus;
        }
        let add = mix(seed ^ 0x5eed_5eed_5eed_5eed) % modulus;
        Scramble {
            modulus,
            mul,
            add,
            digits,
        }
    }

    /// The number for row `index` (`index < 10^digits`).
    pub(crate) fn apply(&self, index: u64) -> u64 {
        let m = u128::from(self.modulus);
        ((u128::from(index) * u128::from(self.mul) + u128::from(self.add)) % m) as u64
    }
}

/// A seed for a request that gave none: random, and below 2^53 so that it survives a trip
/// through a JavaScript number when the job reports it.
pub(crate) fn fresh_seed() -> u64 {
    use rand_core::{OsRng, TryRngCore};
    let raw = OsRng.try_next_u64().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        mix(nanos ^ u64::from(std::process::id()))
    });
    raw >> 11
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn scramble_is_a_bijection() {
        let s = Scramble::new(42, 100_000);
        assert_eq!(s.digits, 5);
        let seen: HashSet<u64> = (0..100_000).map(|i| s.apply(i)).collect();
        assert_eq!(seen.len(), 100_000);
        assert!(seen.iter().all(|n| *n < 100_000));
        assert_eq!(Scramble::new(1, 100_001).digits, 6);
        assert_eq!(Scramble::new(1, 1_000_000).digits, 6);
    }

    #[test]
    fn in_range_stays_inside_and_reaches_both_ends() {
        let mut rng = row_rng(3, 0, 0);
        let mut seen = [false; 3];
        for _ in 0..1000 {
            let v = in_range(&mut rng, -1, 1);
            assert!((-1..=1).contains(&v));
            seen[(v + 1) as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        let v = in_range(&mut rng, i64::MIN, i64::MAX);
        let _ = v; // any value is in range; must not panic
        assert_eq!(in_range(&mut rng, 7, 7), 7);
    }

    #[test]
    fn streams_are_fixed_for_a_seed() {
        // (tests/generate.rs pins whole rows, which pins these streams too.)
        let a = row_rng(42, 1, 5).next_u64();
        assert_eq!(a, row_rng(42, 1, 5).next_u64());
        assert_ne!(a, row_rng(42, 1, 6).next_u64());
        assert_ne!(a, row_rng(43, 1, 5).next_u64());
        assert_ne!(a, row_rng(42, 2, 5).next_u64());
        assert!(fresh_seed() < 1 << 53);
    }
}
