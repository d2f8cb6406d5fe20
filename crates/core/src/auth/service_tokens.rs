//! Service tokens (API keys) for machine callers: `pst_` plus 256 random bits, stored as a
//! digest in `_plinth_service_tokens`, acting with a role; made and revoked by the CLI.

use plinth_auth::{new_refresh_token, refresh_digest};
use plinth_context::{Caller, Ctx};
use plinth_records::{Filter, Value};
use plinth_store::WriteUnit;
use serde_json::Value as J;
use uuid::Uuid;

use super::{eq, unauthenticated};
use crate::{AppService, CollectionHandle, CoreError};

/// What every service token starts with (tells it apart from a JWT at a glance).
pub const SERVICE_TOKEN_PREFIX: &str = "pst_";

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
            eq("id", Value::Uuid(id)),
            eq("revoked_at", Value::Null),
        ]);
        let tokens = self.service_tokens()?;
        self.stamp_one(
            ctx,
            tokens,
            &filter,
            "revoked_at",
            "Service token not found",
        )
        .await
    }

    /// The caller a service token names (one indexed read by digest).
    pub(crate) async fn service_caller(&self, ctx: &Ctx, token: &str) -> Result<Caller, CoreError> {
        let found = self
            .store
            .find(
                ctx,
                &self.service_tokens()?.table,
                eq("token_hash", Value::Text(refresh_digest(token))),
            )
            .await?
            .filter(|t| t.get("revoked_at").is_none_or(J::is_null))
            .ok_or_else(|| unauthenticated("Invalid or revoked service token"))?;
        let id = found
            .id()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| unauthenticated("Invalid service token"))?;
        let role = found
            .get("role")
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(Caller::Service { id, role })
    }
}
