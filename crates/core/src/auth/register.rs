//! New users: self-registration (role from the collection's default) and operator-made
//! users (`plinth user create`, any role), both with a checked, hashed password.

use plinth_auth::check_strength;
use plinth_context::Ctx;
use plinth_records::{FieldError, Mode, Record, Row, ValidationError, Value};
use plinth_store::WriteUnit;
use serde_json::Value as J;
use uuid::Uuid;

use super::SignedIn;
use crate::{AppService, CoreError};

impl AppService {
    /// Validate a new user's fields (wire names) and `password` into a row with its hash.
    /// `role`: set by an operator (CLI); `None` means self-registration, where the role is
    /// the collection's default (`user` when it declares none) and a client's is refused.
    fn new_user_row(&self, body: &J, role: Option<&str>) -> Result<Row, CoreError> {
        let users = self.users()?;
        let mut fields = body.clone();
        let mut details = Vec::new();
        let password = match fields.as_object_mut().and_then(|o| o.remove("password")) {
            Some(J::String(p)) => match check_strength(&p) {
                Ok(()) => Some(p),
                Err(msg) => {
                    details.push(FieldError::new("password", msg));
                    None
                }
            },
            Some(_) => {
                details.push(FieldError::new("password", "must be a string"));
                None
            }
            None => {
                details.push(FieldError::new("password", "is required"));
                None
            }
        };
        let role_wire = users.wire("role").to_owned();
        let role = match role {
            Some(r) => J::String(r.to_owned()),
            None => users
                .def
                .fields
                .get("role")
                .and_then(|f| f.default.clone())
                .unwrap_or_else(|| J::String("user".into())),
        };
        if let Some(o) = fields.as_object_mut() {
            if o.remove(&role_wire).is_some() {
                details.push(FieldError::new(role_wire.clone(), "is set by the server"));
            }
            o.insert(role_wire, role);
        }
        let row = self
            .validator
            .record(&users.name, &users.def, &fields, Mode::Create);
        let mut row = match row {
            Ok(row) if details.is_empty() => row,
            Ok(_) => return Err(ValidationError { details }.into()),
            Err(mut e) => {
                details.append(&mut e.details);
                return Err(ValidationError { details }.into());
            }
        };
        let hash = self.hash_password(&password.unwrap_or_default())?;
        row.push(("password_hash".into(), Value::Text(hash)));
        Ok(row)
    }

    /// A unit whose first step inserts the new user `id`; more steps may follow.
    fn user_unit(&self, ctx: &Ctx, id: Uuid, row: &Row) -> Result<WriteUnit, CoreError> {
        let mut unit = WriteUnit::new();
        unit.push(
            self.store
                .insert_step(&self.users()?.table, id, row, ctx.now)?,
        );
        Ok(unit)
    }

    /// Apply a [`Self::user_unit`]; the stored user.
    async fn insert_user(
        &self,
        ctx: &Ctx,
        row: &Row,
        unit: WriteUnit,
    ) -> Result<Record, CoreError> {
        let outs = self.apply_writes(ctx, self.users()?, unit, row).await?;
        outs.into_iter()
            .next()
            .and_then(plinth_store::StepOut::into_record)
            .ok_or_else(|| {
                CoreError::Store(plinth_store::StoreError::Database(
                    "no user returned".into(),
                ))
            })
    }

    /// Create a user from `body` (its fields in wire names plus `password`) and sign it in.
    /// The role is the users collection's default, never the client's choice.
    pub async fn register(&self, ctx: &Ctx, body: &J) -> Result<SignedIn, CoreError> {
        if !self.manifest.registration {
            return Err(CoreError::Forbidden(
                "Registration is closed; ask an administrator for an account".into(),
            ));
        }
        let row = self.new_user_row(body, None)?;
        let user_id = Uuid::now_v7();
        let mut unit = self.user_unit(ctx, user_id, &row)?;
        let (session, refresh_token) =
            self.session_step(&mut unit, user_id, Uuid::now_v7(), ctx)?;
        let user = self.insert_user(ctx, &row, unit).await?;
        self.signed_in(user, session, refresh_token, ctx)
    }

    /// Create a user with a role chosen by an operator (`plinth user create`).
    pub async fn create_user(&self, ctx: &Ctx, body: &J, role: &str) -> Result<Record, CoreError> {
        let row = self.new_user_row(body, Some(role))?;
        let unit = self.user_unit(ctx, Uuid::now_v7(), &row)?;
        self.insert_user(ctx, &row, unit).await
    }
}
