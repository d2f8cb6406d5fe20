//! State transitions (`transitions:` in the manifest): one guarded
//! `UPDATE ... WHERE id = ? AND <state> IN (<from>) AND <guard>` with its audit entry in the
//! same write unit, so of two racing transitions one wins and the other finds the state
//! moved. When nothing was updated, one read tells the caller why (404, 409 or 403).

use plinth_context::{Caller, Ctx};
use plinth_manifest::Transition;
use plinth_records::{FieldError, Filter, Mode, Record, ValidationError, Value};
use plinth_store::{Miss, WriteUnit};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::access::{refuse_create, Access};
use crate::read::record_id;
use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// Make transition `name` on record `id` of `coll`; `body` carries its input fields.
    pub async fn transition(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        name: &str,
        body: &J,
    ) -> Result<Record, CoreError> {
        let t = coll
            .def
            .transitions
            .get(name)
            .ok_or_else(|| CoreError::NotFound(format!("No action `{name}`")))?;
        let id = record_id(id)?;
        let row = self.validator.record(
            &coll.name,
            &coll.def,
            &self.transition_body(ctx, coll, t, name, body)?,
            Mode::Update,
        )?;
        let guard = match self.decide_own_rule(ctx, coll, name, body).await? {
            Access::All => None,
            Access::Only(f) => Some(f),
            Access::Denied => return Err(self.why_not(ctx, coll, id, t, name).await),
        };
        let state = Filter::Or(
            t.from
                .iter()
                .map(|s| Filter::eq(&t.field, Value::Text(s.clone())))
                .collect(),
        );
        let mut parts = vec![state];
        parts.extend(guard);
        let mut unit = WriteUnit::new();
        unit.extend(self.audit_write(ctx, coll, id, name, Some(&row))?);
        let at = unit.push(
            self.store
                .update_record_step(&coll.table, id, Some(Filter::And(parts)), &row, ctx.now)
                .expect_one(Miss::Conflict),
        );
        self.update_trigger_steps(ctx, coll, id, &mut unit)?;
        unit.extend(self.transition_audit(ctx, coll, id, name, t, body)?);
        if let Some(log) = &t.log {
            unit.push(self.log_step(ctx, log, id, body)?.0);
        }
        if let Some(topic) = &t.emit {
            unit.push(self.emit_step(ctx, topic, &coll.name, id)?);
        }
        match self.apply_for_record(ctx, unit, at).await? {
            Some(rec) => {
                self.announce_record(&coll.name, &rec, crate::RecordOp::Updated);
                Ok(rec)
            }
            None => Err(self.why_not(ctx, coll, id, t, name).await),
        }
    }

    /// Move record `id` to the state `body` names for `field` (wire name), through the
    /// declared transition that leads there from its state (Sim-Flow's
    /// `PATCH /requests/:id/status {"status": "In Progress"}`); other body fields are
    /// the transition's input.
    pub async fn move_state(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        field: &str,
        body: &J,
    ) -> Result<Record, CoreError> {
        let stored = coll
            .def
            .transitions
            .values()
            .find(|t| coll.wire(&t.field) == field)
            .map(|t| t.field.clone())
            .ok_or_else(|| CoreError::NotFound(format!("No action `{field}`")))?;
        let target = body
            .get(field)
            .and_then(J::as_str)
            .ok_or_else(|| invalid(field, "is required (the state to move to)"))?;
        let leads: Vec<(&String, &Transition)> = coll
            .def
            .transitions
            .iter()
            .filter(|(_, t)| t.field == stored && t.to == target)
            .collect();
        let name = match leads.as_slice() {
            [] => {
                return Err(invalid(
                    field,
                    &format!("no transition leads to `{target}`"),
                ))
            }
            [(name, _)] => *name,
            // Several lead there: the one that starts from the record's state (the move
            // itself re-checks the state atomically).
            [(first, _), ..] => {
                let rec = self.view(ctx, coll, id, &[]).await?;
                let state = rec.get(&stored).and_then(J::as_str).unwrap_or_default();
                leads
                    .iter()
                    .find(|(_, t)| t.from.iter().any(|f| f == state))
                    .map_or(*first, |(name, _)| *name)
            }
        };
        let mut input = body.clone();
        if let Some(o) = input.as_object_mut() {
            o.remove(field);
        }
        self.transition(ctx, coll, id, name, &input).await
    }

    /// The fields to set, in wire names: the input the client may send (and must, where
    /// required), the transition's own values, and the new state.
    fn transition_body(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        t: &Transition,
        name: &str,
        body: &J,
    ) -> Result<J, CoreError> {
        let given = match body {
            J::Null => Map::new(),
            J::Object(m) => m.clone(),
            _ => {
                return Err(invalid("", "the body must be a JSON object"));
            }
        };
        let mut details = Vec::new();
        for key in given.keys() {
            if !t.input.iter().any(|f| coll.wire(f) == key) {
                details.push(FieldError::new(key, format!("is not an input of `{name}`")));
            }
        }
        for f in &t.require {
            if given.get(coll.wire(f)).is_none_or(J::is_null) {
                details.push(FieldError::new(coll.wire(f), "is required"));
            }
        }
        if !details.is_empty() {
            return Err(ValidationError { details }.into());
        }
        let mut out = given;
        for (f, v) in &t.set {
            out.insert(coll.wire(f).to_owned(), crate::action::caller_value(ctx, v));
        }
        out.insert(coll.wire(&t.field).to_owned(), J::String(t.to.clone()));
        Ok(J::Object(out))
    }

    /// Plinth's audit entry of a transition: who, what, the request, the state change and
    /// input (see [`AppService::audit_step`]).
    fn transition_audit(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        name: &str,
        t: &Transition,
        body: &J,
    ) -> Result<Option<plinth_store::Step>, CoreError> {
        self.audit_step(ctx, coll, id, name, || {
            let before = match t.from.as_slice() {
                [one] => J::String(one.clone()),
                _ => J::Null,
            };
            json!({ t.field.as_str(): { "from": before, "to": t.to }, "input": body })
        })
    }

    /// Why a transition did not happen: the record is not there for the caller (404; 401
    /// when anonymous), it is in another state (409), or the guard refused (403).
    async fn why_not(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        t: &Transition,
        name: &str,
    ) -> CoreError {
        let found = match self.view(ctx, coll, &id.to_string(), &[]).await {
            Ok(rec) => rec,
            Err(CoreError::NotFound(_)) if matches!(ctx.caller, Caller::Anonymous) => {
                return refuse_create(ctx)
            }
            Err(e) => return e,
        };
        let state = found
            .get(&t.field)
            .and_then(J::as_str)
            .unwrap_or_default()
            .to_owned();
        if !t.from.contains(&state) {
            return CoreError::Conflict(format!(
                "Cannot {name} a record whose {} is `{state}`",
                coll.wire(&t.field)
            ));
        }
        match ctx.caller {
            Caller::Anonymous => refuse_create(ctx),
            _ => CoreError::Forbidden(format!("Not allowed to {name} this record")),
        }
    }
}

fn invalid(field: &str, message: &str) -> CoreError {
    ValidationError {
        details: vec![FieldError::new(field, message)],
    }
    .into()
}
