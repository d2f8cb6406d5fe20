//! Named actions (`actions:` in the manifest): set fields from the input, the caller and a
//! related record in one write unit, with an audit entry: a guarded
//! `UPDATE ... WHERE id = ? AND <rule>`, then the copies from related records read by
//! subquery in the same unit (Sim-Flow's assign sets `assigned_to_name` from the engineer).

use plinth_context::{Caller, Ctx};
use plinth_manifest::Action;
use plinth_records::{format_timestamp, FieldError, Mode, Record, ValidationError};
use plinth_store::{Miss, StoreError, WriteUnit};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::access::{refuse_create, Access};
use crate::read::record_id;
use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// Run action `name` on record `id` of `coll` with `body` as its input.
    pub async fn action(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        name: &str,
        body: &J,
    ) -> Result<Record, CoreError> {
        let a = coll
            .def
            .actions
            .get(name)
            .ok_or_else(|| CoreError::NotFound(format!("No action `{name}`")))?;
        let id = record_id(id)?;
        let fields = action_fields(ctx, coll, a, name, body)?;
        let row = self
            .validator
            .record(&coll.name, &coll.def, &fields, Mode::Update)?;
        if row.is_empty() {
            let inputs: Vec<&str> = a.input.keys().map(String::as_str).collect();
            return Err(ValidationError {
                details: vec![FieldError::new(
                    "",
                    format!("nothing to set: send one of {}", inputs.join(", ")),
                )],
            }
            .into());
        }
        let guard = match self.decide_own_rule(ctx, coll, name, body).await? {
            Access::All => None,
            Access::Only(f) => Some(f),
            Access::Denied => return Err(self.refusal(ctx, coll, id, name).await),
        };
        let mut unit = WriteUnit::new();
        unit.extend(self.audit_write(ctx, coll, id, name, Some(&row))?);
        let mut at = unit.push(
            self.store
                .update_record_step(&coll.table, id, guard, &row, ctx.now)
                .expect_one(Miss::Conflict),
        );
        if !a.copy.is_empty() {
            let copies = self.copies(coll, &a.copy)?;
            at = unit.push(self.store.copy_related_step(&coll.table, id, &copies));
        }
        self.update_trigger_steps(ctx, coll, id, &mut unit)?;
        unit.extend(self.action_audit(ctx, coll, id, name, &fields)?);
        if let Some(log) = &a.log {
            unit.push(self.log_step(ctx, log, id, body)?.0);
        }
        if let Some(topic) = &a.emit {
            unit.push(self.emit_step(ctx, topic, &coll.name, id)?);
        }
        match self.apply_for_record(ctx, unit, at).await? {
            Some(rec) => {
                self.announce_record(&coll.name, &rec, crate::RecordOp::Updated);
                Ok(rec)
            }
            None => Err(self.refusal(ctx, coll, id, name).await),
        }
    }

    /// The record a `log:` inserts with the change it tells of.
    pub(crate) fn log_step(
        &self,
        ctx: &Ctx,
        log: &plinth_manifest::Log,
        id: Uuid,
        body: &J,
    ) -> Result<(plinth_store::Step, Uuid), CoreError> {
        self.log_step_for(ctx, log, id, body, None)
    }

    /// The record a `log:` inserts, for one record `each` of its `each` collection (JSON of
    /// stored names) when it has one.
    pub(crate) fn log_step_for(
        &self,
        ctx: &Ctx,
        log: &plinth_manifest::Log,
        id: Uuid,
        body: &J,
        each: Option<&J>,
    ) -> Result<(plinth_store::Step, Uuid), CoreError> {
        let target = self.collection_or_err(&log.collection)?;
        let mut fields = Map::new();
        for (f, v) in &log.fields {
            let value = match v.as_str() {
                Some("@id") => J::String(id.to_string()),
                Some("@input") => body.clone(),
                Some(s) if s.starts_with("@record.") => {
                    body.get(&s["@record.".len()..]).cloned().unwrap_or(J::Null)
                }
                Some(s) if s.starts_with("@each.") => each
                    .and_then(|e| e.get(&s["@each.".len()..]).cloned())
                    .unwrap_or(J::Null),
                _ => caller_value(ctx, v),
            };
            fields.insert(target.wire(f).to_owned(), value);
        }
        let row =
            self.validator
                .record(&target.name, &target.def, &J::Object(fields), Mode::Create)?;
        let logged = Uuid::now_v7();
        let step = self
            .store
            .insert_step(&target.table, logged, &row, ctx.now)?
            .quiet();
        Ok((step, logged))
    }

    /// `(field, relation, related table, related field)` for each copy.
    pub(crate) fn copies(
        &self,
        coll: &CollectionHandle,
        copy: &indexmap::IndexMap<String, String>,
    ) -> Result<Vec<(String, String, String, String)>, CoreError> {
        copy.iter()
            .map(|(field, src)| {
                let (rel, sub) = src.split_once('.').unwrap_or((src, "id"));
                let target = coll
                    .def
                    .fields
                    .get(rel)
                    .and_then(|f| f.collection.clone())
                    .ok_or_else(|| {
                        CoreError::Store(StoreError::Config(format!("copy from `{src}`")))
                    })?;
                Ok((field.clone(), rel.to_owned(), target, sub.to_owned()))
            })
            .collect()
    }

    /// Why an action was refused: not there for the caller (404; 401 when anonymous) or
    /// not allowed (403).
    async fn refusal(&self, ctx: &Ctx, coll: &CollectionHandle, id: Uuid, name: &str) -> CoreError {
        match self.view(ctx, coll, &id.to_string(), &[]).await {
            Ok(_) if matches!(ctx.caller, Caller::Anonymous) => refuse_create(ctx),
            Ok(_) => CoreError::Forbidden(format!("Not allowed to {name} this record")),
            Err(CoreError::NotFound(_)) if matches!(ctx.caller, Caller::Anonymous) => {
                refuse_create(ctx)
            }
            Err(e) => e,
        }
    }

    /// Plinth's audit entry of an action: who, what, the request and the fields it set
    /// (see [`AppService::audit_step`]).
    fn action_audit(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        name: &str,
        fields: &J,
    ) -> Result<Option<plinth_store::Step>, CoreError> {
        self.audit_step(ctx, coll, id, name, || json!({ "set": fields }))
    }
}

/// The fields an action sets, in wire names: its input mapped to fields (unknown or missing
/// required input is a 400) and its own values.
fn action_fields(
    ctx: &Ctx,
    coll: &CollectionHandle,
    a: &Action,
    name: &str,
    body: &J,
) -> Result<J, CoreError> {
    let given = match body {
        J::Null => Map::new(),
        J::Object(m) => m.clone(),
        _ => {
            return Err(ValidationError {
                details: vec![FieldError::new("", "the body must be a JSON object")],
            }
            .into())
        }
    };
    let mut details = Vec::new();
    let mut out = Map::new();
    for (key, v) in &given {
        match a.input.get(key) {
            Some(field) => {
                out.insert(coll.wire(field).to_owned(), v.clone());
            }
            None => details.push(FieldError::new(key, format!("is not an input of `{name}`"))),
        }
    }
    for r in &a.require {
        if given.get(r).is_none_or(J::is_null) {
            details.push(FieldError::new(r, "is required"));
        }
    }
    if !details.is_empty() {
        return Err(ValidationError { details }.into());
    }
    for (f, v) in &a.set {
        out.insert(coll.wire(f).to_owned(), caller_value(ctx, v));
    }
    Ok(J::Object(out))
}

/// A `set` value: `"@auth.id"` (a user's id; null for others), `"@now"`, `"@request_id"` (the
/// request's id, as in its `x-request-id` header), or the literal.
pub(crate) fn caller_value(ctx: &Ctx, v: &J) -> J {
    match v.as_str() {
        Some("@auth.id") => match &ctx.caller {
            Caller::User { id, .. } => J::String(id.to_string()),
            _ => J::Null,
        },
        Some("@now") => J::String(format_timestamp(&ctx.now)),
        Some("@request_id") => J::String(ctx.request_id.clone()),
        _ => v.clone(),
    }
}
