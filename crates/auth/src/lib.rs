//! Credentials for an app's users, free of HTTP and SQL: argon2id password hashes, short-lived
//! JWT access tokens (HS256, audience = the app) and opaque refresh tokens, of which only a
//! SHA-256 digest is ever stored.

mod password;
mod tokens;

pub use password::{check_strength, hash_password, verify_password, PasswordCost, PasswordError};
pub use tokens::{new_refresh_token, refresh_digest, Claims, TokenError, TokenKeys};
