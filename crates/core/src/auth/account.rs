//! A signed-in user's own account: every session, one session, the password.

use plinth_auth::{check_strength, verify_password};
use plinth_context::{Caller, Ctx};
use plinth_records::{FieldError, Filter, Record, ValidationError, Value};
use plinth_store::{Miss, WriteUnit};
use serde_json::Value as J;
use uuid::Uuid;

use super::unauthenticated;
use crate::{AppService, CoreError};

/// The caller's user id and session, or 401.
fn signed_in(ctx: &Ctx) -> Result<(Uuid, Option<Uuid>), CoreError> {
    match &ctx.caller {
        Caller::User { id, session, .. } => Ok((*id, *session)),
        _ => Err(unauthenticated("Sign in first")),
    }
}

fn live_sessions_of(user: Uuid) -> Filter {
    Filter::And(vec![
        Filter::eq("user_id", Value::Uuid(user)),
        Filter::eq("revoked_at", Value::Null),
        Filter::eq("rotated_at", Value::Null),
    ])
}

impl AppService {
    /// Revoke every session of the caller (every device signs in again).
    pub async fn logout_all(&self, ctx: &Ctx) -> Result<(), CoreError> {
        let (user, _) = signed_in(ctx)?;
        let filter = Filter::And(vec![
            Filter::eq("user_id", Value::Uuid(user)),
            Filter::eq("revoked_at", Value::Null),
        ]);
        self.revoke(ctx, self.sessions()?, &filter).await
    }

    /// The caller's live sessions (one per signed-in device), newest first.
    pub async fn list_sessions(&self, ctx: &Ctx) -> Result<Vec<Record>, CoreError> {
        let (user, _) = signed_in(ctx)?;
        let sessions = self.sessions()?;
        let q = plinth_records::ListQuery {
            limit: plinth_records::MAX_LIMIT,
            offset: 0,
            sort: vec![plinth_records::SortKey {
                field: "id".into(),
                desc: true,
            }],
            equals: Vec::new(),
            filter: Some(live_sessions_of(user)),
            expand: Vec::new(),
            total: plinth_records::TotalMode::Skip,
        };
        Ok(self.store.list(ctx, &sessions.table, &q).await?.items)
    }

    /// Revoke one of the caller's sessions; another user's (or an unknown) id is a 404.
    pub async fn revoke_session(&self, ctx: &Ctx, id: &str) -> Result<(), CoreError> {
        let (user, _) = signed_in(ctx)?;
        let id =
            Uuid::parse_str(id).map_err(|_| CoreError::NotFound("Session not found".into()))?;
        let sessions = self.sessions()?;
        let filter = Filter::And(vec![
            Filter::eq("id", Value::Uuid(id)),
            Filter::eq("user_id", Value::Uuid(user)),
            Filter::eq("revoked_at", Value::Null),
        ]);
        self.stamp_one(ctx, sessions, &filter, "revoked_at", "Session not found")
            .await
    }

    /// Change the caller's password (`{currentPassword, newPassword}` in the app's naming);
    /// every other session of the user is revoked in the same unit.
    pub async fn change_password(&self, ctx: &Ctx, body: &J) -> Result<(), CoreError> {
        let (user, session) = signed_in(ctx)?;
        let naming = self.manifest.naming;
        let (cur_key, new_key) = (
            naming.apply("current_password"),
            naming.apply("new_password"),
        );
        let current = body.get(&cur_key).and_then(J::as_str);
        let new = body.get(&new_key).and_then(J::as_str);
        let mut details = Vec::new();
        if current.is_none() {
            details.push(FieldError::new(cur_key.clone(), "is required"));
        }
        match new.map(check_strength) {
            None => details.push(FieldError::new(new_key.clone(), "is required")),
            Some(Err(msg)) => details.push(FieldError::new(new_key.clone(), msg)),
            Some(Ok(())) => {}
        }
        let (Some(current), Some(new), true) = (current, new, details.is_empty()) else {
            return Err(ValidationError { details }.into());
        };
        let users = self.users()?;
        let record = self
            .store
            .get(ctx, &users.table, user)
            .await?
            .ok_or_else(|| unauthenticated("The user no longer exists"))?;
        let stored = record
            .get("password_hash")
            .and_then(J::as_str)
            .unwrap_or_default();
        if !verify_password(stored, current) {
            return Err(ValidationError {
                details: vec![FieldError::new(cur_key, "is not the current password")],
            }
            .into());
        }
        let hash = self.hash_password(new)?;
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .update_where_step(
                    &users.table,
                    &Filter::eq("id", Value::Uuid(user)),
                    &vec![("password_hash".to_owned(), Value::Text(hash))],
                    ctx.now,
                )
                .expect_one(Miss::NotFound),
        );
        let mut others = vec![
            Filter::eq("user_id", Value::Uuid(user)),
            Filter::eq("revoked_at", Value::Null),
        ];
        if let Some(sid) = session {
            others.push(Filter::Cmp {
                field: "id".into(),
                op: plinth_records::CmpOp::Ne,
                right: plinth_records::Rhs::Value(Value::Uuid(sid)),
            });
        }
        unit.push(self.stamp_step(ctx, self.sessions()?, &Filter::And(others), "revoked_at"));
        self.apply_revoking(ctx, unit).await?;
        Ok(())
    }
}
