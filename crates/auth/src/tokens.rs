//! Access tokens (JWT, HS256) and refresh tokens (random, stored as a digest).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The user's role when the token was issued.
    pub role: String,
    /// The session (refresh family member) the token belongs to.
    pub sid: Uuid,
    /// The app the token is for.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

/// Why a token was refused (all answered 401 alike).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, wrong audience or algorithm, malformed, or expired.
    #[error("invalid or expired token: {0}")]
    Invalid(String),
    /// Signing failed.
    #[error("token signing failed: {0}")]
    Signing(String),
}

/// An app's signing key and token lifetime.
pub struct TokenKeys {
    app: String,
    secret: SecretString,
    /// The checks of [`TokenKeys::verify`] and its key, made once: every authenticated
    /// request verifies a token, and building them (sets, a copy of the secret) showed in
    /// its profile. The key holds a copy of the secret for as long as the keys live.
    checks: (DecodingKey, Validation),
    /// How long an access token lives.
    pub ttl: Duration,
}

impl TokenKeys {
    /// Keys for `app` from a secret (at least 32 bytes of entropy, e.g. 43 base64 chars).
    pub fn new(app: &str, secret: SecretString, ttl: Duration) -> Self {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[app]);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "aud", "sub"]);
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
        TokenKeys {
            app: app.to_owned(),
            secret,
            checks: (key, v),
            ttl,
        }
    }

    /// A fresh random secret for a new app key (256 bits, base64url).
    pub fn generate_secret() -> String {
        random_b64()
    }

    /// Sign an access token for a user's session, issued at `now` (seconds).
    pub fn issue(
        &self,
        user: Uuid,
        role: &str,
        session: Uuid,
        now: i64,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: user,
            role: role.to_owned(),
            sid: session,
            aud: self.app.clone(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        let key = EncodingKey::from_secret(self.secret.expose_secret().as_bytes());
        encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }

    /// Check a token's signature (HS256 only), audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let (key, v) = &self.checks;
        decode::<Claims>(token, key, v)
            .map(|d| d.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

fn random_b64() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new opaque refresh token and the digest to store for it.
pub fn new_refresh_token() -> (String, String) {
    let token = random_b64();
    let digest = refresh_digest(&token);
    (token, digest)
}

/// The stored form of a refresh token: SHA-256, hex. (The token has 256 random bits, so a
/// fast hash is enough; nothing to stretch.)
pub fn refresh_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(app: &str) -> TokenKeys {
        TokenKeys::new(
            app,
            SecretString::from("k".repeat(43)),
            Duration::from_secs(900),
        )
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default()
    }

    #[test]
    fn issued_tokens_verify_and_others_do_not() {
        let k = keys("quadrax");
        let (user, sid) = (Uuid::now_v7(), Uuid::now_v7());
        let t = k.issue(user, "ADMIN", sid, now()).expect("token");
        let c = k.verify(&t).expect("valid");
        assert_eq!((c.sub, c.role.as_str(), c.sid), (user, "ADMIN", sid));
        // Another app's audience, an expired token, a tampered one, another key, alg none.
        assert!(keys("simflow").verify(&t).is_err());
        assert!(k
            .verify(&k.issue(user, "ADMIN", sid, now() - 3600).expect("old"))
            .is_err());
        let mut tampered = t.clone();
        tampered.insert(t.len() - 3, 'x');
        assert!(k.verify(&tampered).is_err());
        let other = TokenKeys::new(
            "quadrax",
            SecretString::from("z".repeat(43)),
            Duration::from_secs(900),
        );
        assert!(other.verify(&t).is_err());
        let body = t.split('.').nth(1).expect("payload");
        let none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(k.verify(&none).is_err());
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_digests() {
        let (a, da) = new_refresh_token();
        let (b, _) = new_refresh_token();
        assert_ne!(a, b);
        assert_eq!(da, refresh_digest(&a));
        assert_eq!(da.len(), 64);
        assert!(!da.contains(&a));
    }
}
