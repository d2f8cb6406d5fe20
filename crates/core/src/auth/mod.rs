//! Users' credentials and sessions: register, login, refresh (rotation with reuse
//! detection), logout, me; and turning a bearer token into a [`Caller`].
//!
//! Sessions live in `_plinth_sessions`: one row per refresh token, stored as a digest.
//! Every refresh marks its row rotated and inserts the next one of the same family in one
//! write unit; presenting a rotated or revoked token revokes the whole family.

mod account;
mod register;
mod service_tokens;
mod sessions;

pub(crate) use service_tokens::SeenTokens;
pub use service_tokens::{SERVICE_TOKEN_PREFIX, SERVICE_TOKEN_SEEN_FOR};

use plinth_auth::{verify_password, TokenKeys};
use plinth_context::{Caller, Ctx};
use plinth_records::{FieldError, Filter, Record, ValidationError, Value};
use plinth_store::WriteUnit;
use serde_json::Value as J;
use uuid::Uuid;

use crate::{AppService, CollectionHandle, CoreError};

/// What register, login and refresh answer: the user and a fresh token pair.
#[derive(Debug)]
pub struct SignedIn {
    /// The user's record (hidden fields are never serialised).
    pub user: Record,
    /// A short-lived JWT access token.
    pub token: String,
    /// An opaque refresh token, usable once.
    pub refresh_token: String,
}

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_MINUTES: i64 = 15;

pub(crate) fn unauthenticated(msg: &str) -> CoreError {
    CoreError::Unauthenticated(msg.to_owned())
}

fn text<'a>(body: &'a J, key: &str) -> Option<&'a str> {
    body.get(key).and_then(J::as_str)
}

impl AppService {
    pub(super) fn users(&self) -> Result<&CollectionHandle, CoreError> {
        self.any_collection(plinth_manifest::USERS)
            .map(|c| &**c)
            .ok_or_else(|| CoreError::NotFound("This app has no users".into()))
    }

    /// A step setting the timestamp `column` to the request's time on every record `filter`
    /// matches (revocations, rotations).
    pub(super) fn stamp_step(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        filter: &Filter,
        column: &str,
    ) -> plinth_store::Step {
        let row = vec![(column.to_owned(), Value::Timestamp(ctx.now))];
        self.store
            .update_where_step(&coll.table, filter, &row, ctx.now)
    }

    /// Stamp the one record `filter` names, or answer 404 saying `not_found`.
    pub(super) async fn stamp_one(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        filter: &Filter,
        column: &str,
        not_found: &str,
    ) -> Result<(), CoreError> {
        let mut unit = WriteUnit::new();
        unit.push(
            self.stamp_step(ctx, coll, filter, column)
                .expect_one(plinth_store::Miss::NotFound),
        );
        match self
            .apply_revoking(ctx, unit)
            .await
            .map_err(CoreError::from)
        {
            Err(CoreError::NotFound(_)) => Err(CoreError::NotFound(not_found.into())),
            other => other.map(drop),
        }
    }

    pub(crate) fn keys(&self) -> Result<&TokenKeys, CoreError> {
        self.keys
            .as_ref()
            .ok_or_else(|| unauthenticated("Sign-in is not configured for this app"))
    }

    /// Sign in with `{email, password}`. Unknown email and wrong password get the same 401.
    pub async fn login(&self, ctx: &Ctx, body: &J) -> Result<SignedIn, CoreError> {
        let users = self.users()?;
        let (Some(email), Some(password)) =
            (text(body, users.wire("email")), text(body, "password"))
        else {
            return Err(ValidationError {
                details: vec![FieldError::new("", "email and password are required")],
            }
            .into());
        };
        // No stored email holds NUL (PostgreSQL cannot even compare it): nobody to find.
        if email.contains('\0') {
            return Err(unauthenticated("Invalid email or password"));
        }
        let found = self
            .store
            .find(
                ctx,
                &users.table,
                Filter::eq("email", Value::Text(email.to_owned())),
            )
            .await?;
        let stored = found
            .as_ref()
            .and_then(|u| u.get("password_hash"))
            .and_then(J::as_str)
            .unwrap_or_else(|| {
                self.dummy_hash
                    .get_or_init(|| self.hash_password("no such user 0").unwrap_or_default())
            })
            .to_owned();
        // argon2 takes tens of milliseconds of CPU: off the async workers, so sign-ins do
        // not stall the requests that share a worker with them.
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_password(&stored, &password))
            .await
            .unwrap_or(false);
        if let Some(user) = &found {
            let locked = user
                .get("locked_until")
                .and_then(J::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .is_some_and(|t| t > ctx.now);
            if locked {
                return Err(unauthenticated("Too many failed sign-ins; try again later"));
            }
        }
        let user = match (found, ok) {
            (Some(user), true) => user,
            (Some(user), false) => {
                self.count_failure(ctx, users, &user).await?;
                return Err(unauthenticated("Invalid email or password"));
            }
            (None, _) => return Err(unauthenticated("Invalid email or password")),
        };
        let user_id = user_id_of(&user)?;
        let mut unit = WriteUnit::new();
        let failed = user
            .get("failed_logins")
            .and_then(J::as_i64)
            .unwrap_or_default();
        let mut sets = Vec::new();
        if failed > 0 {
            sets.push(("failed_logins".to_owned(), Value::Int(0)));
            sets.push(("locked_until".to_owned(), Value::Null));
        }
        // An app whose users declare `last_login_at` (CloudDrift) gets it kept by sign-in.
        let tracks_login = users
            .def
            .fields
            .get("last_login_at")
            .is_some_and(|f| f.kind == plinth_manifest::FieldType::Timestamp);
        if tracks_login {
            sets.push(("last_login_at".to_owned(), Value::Timestamp(ctx.now)));
        }
        if !sets.is_empty() {
            let me = Filter::eq("id", Value::Uuid(user_id));
            unit.push(
                self.store
                    .update_where_step(&users.table, &me, &sets, ctx.now),
            );
        }
        let (session, refresh_token) =
            self.session_step(&mut unit, user_id, Uuid::now_v7(), ctx)?;
        self.store.apply(ctx, unit).await?;
        self.signed_in(user, session, refresh_token, ctx)
    }

    /// Count a wrong password (in the database, so concurrent guesses all count); the
    /// [`MAX_FAILURES`]th locks the account for [`LOCK_MINUTES`].
    async fn count_failure(
        &self,
        ctx: &Ctx,
        users: &CollectionHandle,
        user: &Record,
    ) -> Result<(), CoreError> {
        let id = user_id_of(user)?;
        let mut unit = WriteUnit::new();
        unit.push(self.store.bump_step(&users.table, id, "failed_logins", 1));
        let outs = self.store.apply(ctx, unit).await?;
        let failures = outs
            .into_iter()
            .next()
            .and_then(plinth_store::StepOut::into_record)
            .and_then(|u| u.get("failed_logins").and_then(J::as_i64))
            .unwrap_or_default();
        if failures >= MAX_FAILURES {
            let lock = vec![
                ("failed_logins".to_owned(), Value::Int(0)),
                (
                    "locked_until".to_owned(),
                    Value::Timestamp(ctx.now + chrono::Duration::minutes(LOCK_MINUTES)),
                ),
            ];
            let mut unit = WriteUnit::new();
            unit.push(self.store.update_where_step(
                &users.table,
                &Filter::eq("id", Value::Uuid(id)),
                &lock,
                ctx.now,
            ));
            self.store.apply(ctx, unit).await?;
            tracing::warn!(request_id = %ctx.request_id, app = %ctx.app, user = %id, "account locked after repeated failed sign-ins");
        }
        Ok(())
    }

    /// The signed-in caller's own record.
    pub async fn me(&self, ctx: &Ctx) -> Result<Record, CoreError> {
        let Caller::User { id, .. } = &ctx.caller else {
            return Err(unauthenticated("Sign in first"));
        };
        let users = self.users()?;
        self.store
            .get(ctx, &users.table, *id)
            .await?
            .ok_or_else(|| unauthenticated("The user no longer exists"))
    }

    /// The caller a bearer token (an access token or a service token) names; any fault in
    /// it is a 401.
    pub async fn authenticate(&self, ctx: &Ctx, token: &str) -> Result<Caller, CoreError> {
        if token.starts_with(SERVICE_TOKEN_PREFIX) {
            return self.service_caller(ctx, token).await;
        }
        let claims = self
            .keys()?
            .verify(token)
            .map_err(|_| unauthenticated("Invalid or expired token"))?;
        Ok(Caller::User {
            id: claims.sub,
            role: claims.role,
            session: Some(claims.sid),
            expires: Some(claims.exp),
        })
    }

    fn signed_in(
        &self,
        user: Record,
        session: Uuid,
        refresh_token: String,
        ctx: &Ctx,
    ) -> Result<SignedIn, CoreError> {
        let id = user_id_of(&user)?;
        let role = user
            .get("role")
            .and_then(J::as_str)
            .unwrap_or("user")
            .to_owned();
        let token = self
            .keys()?
            .issue(id, &role, session, ctx.now.timestamp())
            .map_err(|e| CoreError::Store(plinth_store::StoreError::Database(e.to_string())))?;
        Ok(SignedIn {
            user,
            token,
            refresh_token,
        })
    }
}

fn user_id_of(user: &Record) -> Result<Uuid, CoreError> {
    user.id()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| {
            CoreError::Store(plinth_store::StoreError::Database("user without id".into()))
        })
}
