//! Refresh-token sessions: issue, rotate (with reuse detection), revoke.

use chrono::Duration;
use plinth_auth::{new_refresh_token, refresh_digest};
use plinth_context::{Caller, Ctx};
use plinth_records::{Filter, Value};
use plinth_store::{Miss, StoreError, WriteUnit};
use serde_json::Value as J;
use uuid::Uuid;

use super::{unauthenticated, SignedIn};
use crate::{AppService, CollectionHandle, CoreError};

/// How long a refresh token (and so a session that keeps refreshing) lives.
const REFRESH_TTL_DAYS: i64 = 30;

const SESSIONS: &str = "_plinth_sessions";

fn timestamp(t: &J) -> Option<chrono::DateTime<chrono::Utc>> {
    t.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

impl AppService {
    pub(super) fn sessions(&self) -> Result<&CollectionHandle, CoreError> {
        self.any_collection(SESSIONS)
            .map(|c| &**c)
            .ok_or_else(|| CoreError::NotFound("No sessions table".into()))
    }

    /// Add a new session of `family` for `user` to `unit`; its id and refresh token.
    pub(crate) fn session_step(
        &self,
        unit: &mut WriteUnit,
        user: Uuid,
        family: Uuid,
        ctx: &Ctx,
    ) -> Result<(Uuid, String), CoreError> {
        let sessions = self.sessions()?;
        let (token, digest) = new_refresh_token();
        let id = Uuid::now_v7();
        let row = vec![
            ("user_id".to_owned(), Value::Uuid(user)),
            ("token_hash".to_owned(), Value::Text(digest)),
            ("family_id".to_owned(), Value::Uuid(family)),
            (
                "expires_at".to_owned(),
                Value::Timestamp(ctx.now + Duration::days(REFRESH_TTL_DAYS)),
            ),
        ];
        unit.push(self.store.insert_step(&sessions.table, id, &row, ctx.now)?);
        Ok((id, token))
    }

    /// Trade a refresh token for a new pair. A token already used (or revoked) revokes
    /// its whole family: whoever holds the newer tokens must sign in again.
    pub async fn refresh(&self, ctx: &Ctx, refresh_token: &str) -> Result<SignedIn, CoreError> {
        let sessions = self.sessions()?;
        let users = self.users()?;
        let found = self
            .store
            .find(
                ctx,
                &sessions.table,
                Filter::eq("token_hash", Value::Text(refresh_digest(refresh_token))),
            )
            .await?
            .ok_or_else(|| unauthenticated("Invalid refresh token"))?;
        let uuid = |k: &str| {
            found
                .get(k)
                .and_then(J::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
        };
        let (Some(id), Some(family), Some(user_id)) =
            (uuid("id"), uuid("family_id"), uuid("user_id"))
        else {
            return Err(unauthenticated("Invalid refresh token"));
        };
        let used = !found.get("rotated_at").is_none_or(J::is_null)
            || !found.get("revoked_at").is_none_or(J::is_null);
        if used {
            self.revoke_family(ctx, family).await?;
            return Err(unauthenticated(
                "Refresh token reused; every session of its family is revoked",
            ));
        }
        if found
            .get("expires_at")
            .and_then(timestamp)
            .is_none_or(|t| t <= ctx.now)
        {
            return Err(unauthenticated("Refresh token expired"));
        }
        // Rotate: only one of two racing refreshes of the same token can mark it.
        let still_fresh = Filter::And(vec![
            Filter::eq("id", Value::Uuid(id)),
            Filter::eq("rotated_at", Value::Null),
            Filter::eq("revoked_at", Value::Null),
        ]);
        let mut unit = WriteUnit::new();
        unit.push(
            self.stamp_step(ctx, sessions, &still_fresh, "rotated_at")
                .expect_one(Miss::Conflict),
        );
        let (session, token) = self.session_step(&mut unit, user_id, family, ctx)?;
        match self.store.apply(ctx, unit).await {
            Ok(_) => {}
            Err(StoreError::Expectation(Miss::Conflict)) => {
                self.revoke_family(ctx, family).await?;
                return Err(unauthenticated(
                    "Refresh token reused; every session of its family is revoked",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        let user = self
            .store
            .get(ctx, &users.table, user_id)
            .await?
            .ok_or_else(|| unauthenticated("The user no longer exists"))?;
        self.signed_in(user, session, token, ctx)
    }

    /// Revoke the caller's session (its refresh token stops working; the access token
    /// lives out its short lifetime).
    pub async fn logout(&self, ctx: &Ctx) -> Result<(), CoreError> {
        let Caller::User {
            session: Some(sid), ..
        } = &ctx.caller
        else {
            return Err(unauthenticated("Sign in first"));
        };
        let sessions = self.sessions()?;
        let filter = Filter::And(vec![
            Filter::eq("id", Value::Uuid(*sid)),
            Filter::eq("revoked_at", Value::Null),
        ]);
        self.revoke(ctx, sessions, &filter).await
    }

    async fn revoke_family(&self, ctx: &Ctx, family: Uuid) -> Result<(), CoreError> {
        let sessions = self.sessions()?;
        let filter = Filter::And(vec![
            Filter::eq("family_id", Value::Uuid(family)),
            Filter::eq("revoked_at", Value::Null),
        ]);
        self.revoke(ctx, sessions, &filter).await
    }

    pub(super) async fn revoke(
        &self,
        ctx: &Ctx,
        sessions: &CollectionHandle,
        filter: &Filter,
    ) -> Result<(), CoreError> {
        let mut unit = WriteUnit::new();
        unit.push(self.stamp_step(ctx, sessions, filter, "revoked_at"));
        self.apply_revoking(ctx, unit).await?;
        Ok(())
    }
}
