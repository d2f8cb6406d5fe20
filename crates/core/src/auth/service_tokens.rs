//! Service tokens (API keys) for machine callers: `pst_` plus 256 random bits, stored as a
//! digest in `_plinth_service_tokens`, acting with a role; made and revoked by the CLI.
//!
//! A server keeps a token it has found valid for [`SERVICE_TOKEN_SEEN_FOR`] (one second) without reading
//! it again: a scanner posting thousands of records a second would otherwise pay a database
//! read on every request (8% of a workflow create's time in a profile). The CLI revokes in
//! another process, so a revoked token may still pass for up to that second (docs/auth.md).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use plinth_auth::{new_refresh_token, refresh_digest};
use plinth_context::{Caller, Ctx};
use plinth_records::{Filter, Value};
use plinth_store::WriteUnit;
use serde_json::Value as J;
use uuid::Uuid;

use super::unauthenticated;
use crate::{AppService, CollectionHandle, CoreError};

/// What every service token starts with (tells it apart from a JWT at a glance).
pub const SERVICE_TOKEN_PREFIX: &str = "pst_";

/// How long a server trusts a service token it has found valid, without reading it again.
pub const SERVICE_TOKEN_SEEN_FOR: TimeDelta = TimeDelta::seconds(1);

/// More tokens than this and the cache starts over (it only saves reads).
const MAX_SEEN: usize = 1024;

/// Service tokens found valid lately: the caller each names, until when, by token digest
/// (the tokens themselves are never kept).
#[derive(Debug, Default)]
pub(crate) struct SeenTokens(Mutex<HashMap<String, (Caller, DateTime<Utc>)>>);

impl SeenTokens {
    fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Caller> {
        let seen = self.0.lock().ok()?;
        seen.get(digest)
            .filter(|(_, until)| now < *until)
            .map(|(caller, _)| caller.clone())
    }

    fn put(&self, digest: String, caller: Caller, now: DateTime<Utc>) {
        if let Ok(mut seen) = self.0.lock() {
            if seen.len() >= MAX_SEEN {
                seen.clear();
            }
            seen.insert(digest, (caller, now + SERVICE_TOKEN_SEEN_FOR));
        }
    }

    /// Forget one token (found invalid when read again).
    fn remove(&self, digest: &str) {
        if let Ok(mut seen) = self.0.lock() {
            seen.remove(digest);
        }
    }

    /// Forget every token (after a revocation through this server).
    fn forget(&self) {
        if let Ok(mut seen) = self.0.lock() {
            seen.clear();
        }
    }
}

impl AppService {
    fn service_tokens(&self) -> Result<&CollectionHandle, CoreError> {
        self.any_collection("_plinth_service_tokens")
            .map(|c| &**c)
            .ok_or_else(|| CoreError::NotFound("No service tokens table".into()))
    }

    /// Make a service token acting as `role`; its id and the token (shown once).
    pub async fn create_service_token(
        &self,
        ctx: &Ctx,
        name: &str,
        role: &str,
    ) -> Result<(Uuid, String), CoreError> {
        let (secret, _) = new_refresh_token();
        let token = format!("{SERVICE_TOKEN_PREFIX}{secret}");
        let id = Uuid::now_v7();
        let row = vec![
            ("name".to_owned(), Value::Text(name.to_owned())),
            ("role".to_owned(), Value::Text(role.to_owned())),
            ("token_hash".to_owned(), Value::Text(refresh_digest(&token))),
        ];
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .insert_step(&self.service_tokens()?.table, id, &row, ctx.now)?,
        );
        self.store.apply(ctx, unit).await?;
        Ok((id, token))
    }

    /// Revoke a service token; an unknown or already revoked id is a 404.
    pub async fn revoke_service_token(&self, ctx: &Ctx, id: &str) -> Result<(), CoreError> {
        let id = Uuid::parse_str(id)
            .map_err(|_| CoreError::NotFound("Service token not found".into()))?;
        let filter = Filter::And(vec![
            Filter::eq("id", Value::Uuid(id)),
            Filter::eq("revoked_at", Value::Null),
        ]);
        let tokens = self.service_tokens()?;
        let revoked = self
            .stamp_one(
                ctx,
                tokens,
                &filter,
                "revoked_at",
                "Service token not found",
            )
            .await;
        self.seen_tokens.forget();
        revoked
    }

    /// The caller a service token names (one indexed read by digest, unless it was found
    /// valid less than [`SERVICE_TOKEN_SEEN_FOR`] ago).
    pub(crate) async fn service_caller(&self, ctx: &Ctx, token: &str) -> Result<Caller, CoreError> {
        let digest = refresh_digest(token);
        if let Some(caller) = self.seen_tokens.get(&digest, ctx.now) {
            return Ok(caller);
        }
        let found = self
            .store
            .find(
                ctx,
                &self.service_tokens()?.table,
                Filter::eq("token_hash", Value::Text(digest.clone())),
            )
            .await?
            .filter(|t| t.get("revoked_at").is_none_or(J::is_null));
        let Some(found) = found else {
            self.seen_tokens.remove(&digest);
            return Err(unauthenticated("Invalid or revoked service token"));
        };
        let id = found
            .id()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| unauthenticated("Invalid service token"))?;
        let role = found
            .get("role")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_owned();
        let caller = Caller::Service { id, role };
        self.seen_tokens.put(digest, caller.clone(), ctx.now);
        Ok(caller)
    }
}
