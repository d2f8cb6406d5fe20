//! Password hashing (argon2id, PHC strings) and the strength policy.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct PasswordError(String);

/// argon2id with OWASP's minimum (19 MiB, 2 passes, 1 lane): about 20 ms here.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string (`$argon2id$v=19$...`) of a password with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(e.to_string()))
}

/// Whether `password` matches a stored PHC string (constant-time in the digest).
pub fn verify_password(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
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
        let a = hash_password("correct horse 1").expect("hash");
        let b = hash_password("correct horse 1").expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password(&a, "correct horse 1"));
        assert!(!verify_password(&a, "correct horse 2"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn strength_policy() {
        assert!(check_strength("abc12345").is_ok());
        assert!(check_strength("short1").is_err());
        assert!(check_strength("lettersonly").is_err());
        assert!(check_strength("12345678").is_err());
    }
}
