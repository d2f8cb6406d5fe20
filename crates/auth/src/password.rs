//! Password hashing (argon2id, PHC strings) and the strength policy.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// The argon2id cost of new hashes (stored hashes carry their own, so raising it later
/// keeps old passwords working).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane (about 20 ms here).
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl PasswordCost {
    /// The argon2 parameters, or why they are out of range (checked at start).
    pub fn params(&self) -> Result<Params, PasswordError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| PasswordError(format!("argon2 cost: {e}")))
    }
}

/// The PHC string (`$argon2id$v=19$...`) of a password with a fresh salt, at `cost`.
pub fn hash_password(cost: &PasswordCost, password: &str) -> Result<String, PasswordError> {
    let params = cost.params()?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Whether `password` matches a stored PHC string (constant-time in the digest).
pub fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        // The stored string names its own algorithm and cost.
        .is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
}

/// The strength policy: 8 to 128 characters with at least one letter and one digit.
pub fn check_strength(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 8 {
        return Err("must be at least 8 characters");
    }
    if n > 128 {
        return Err("must be at most 128 characters");
    }
    if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        return Err("must contain a letter and a digit");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let cost = PasswordCost::default();
        let a = hash_password(&cost, "correct horse 1").expect("hash");
        let b = hash_password(&cost, "correct horse 1").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password(&a, "correct horse 1"));
        assert!(!verify_password(&a, "correct horse 2"));
        assert!(!verify_password("not a hash", "x"));
        // Another cost: the hash says so, and still verifies.
        let light = PasswordCost {
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        };
        let c = hash_password(&light, "correct horse 1").expect("hash");
        assert!(c.contains("m=8192,t=1,p=1"), "{c}");
        assert!(verify_password(&c, "correct horse 1"));
        let bad = PasswordCost {
            memory_kib: 1,
            iterations: 0,
            parallelism: 0,
        };
        assert!(hash_password(&bad, "x1x1x1x1").is_err());
    }

    #[test]
    fn strength_policy() {
        assert!(check_strength("abc12345").is_ok());
        assert!(check_strength("short1").is_err());
        assert!(check_strength("lettersonly").is_err());
        assert!(check_strength("12345678").is_err());
    }
}
