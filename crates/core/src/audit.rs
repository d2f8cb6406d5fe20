//! Audit trails. A collection's own (`audit:`): a record in the declared collection with
//! every change made through the app service, in the change's unit. `@changes` holds
//! `{"before": {...}, "after": {...}}`: the values the change replaces, read by the
//! database inside the unit, and the values it writes. Plinth's own (`_plinth_audit`): an
//! entry for each transition or action of a collection without a trail of its own.

use plinth_context::{Caller, Ctx};
use plinth_records::{Mode, Row, Value};
use plinth_store::Step;
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::action::caller_value;
use crate::{AppService, CollectionHandle, CoreError};

/// The audit trail of transitions and actions of collections without their own (`audit:`).
const AUDIT: &str = "_plinth_audit";

impl AppService {
    /// An entry of Plinth's audit trail (`_plinth_audit`) of a transition or action, to
    /// commit with the change it tells of. None when the collection keeps its own trail
    /// (`audit:`): that entry already records the same change (who, the action, the fields
    /// before and after, the request if mapped), and one change gets one entry.
    pub(crate) fn audit_step(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        name: &str,
        changes: impl FnOnce() -> J,
    ) -> Result<Option<plinth_store::Step>, CoreError> {
        if coll.def.audit.is_some() {
            return Ok(None);
        }
        let changes = changes();
        let audit = self.collection_or_err(AUDIT)?;
        let (kind, actor) = match &ctx.caller {
            Caller::User { id, .. } => ("user", J::String(id.to_string())),
            Caller::Service { id, .. } => ("service", J::String(id.to_string())),
            Caller::System => ("system", J::Null),
            Caller::Anonymous => ("anonymous", J::Null),
        };
        let entry = json!({
            "collection": coll.name,
            "record_id": id.to_string(),
            "action": name,
            "actor_kind": kind,
            "actor_id": actor,
            "request_id": ctx.request_id.to_string(),
            "changes": changes,
        });
        let row = self
            .validator
            .record(AUDIT, &audit.def, &entry, Mode::Create)?;
        Ok(Some(
            self.store
                .insert_step(&audit.table, Uuid::now_v7(), &row, ctx.now)?
                .quiet(),
        ))
    }

    /// The audit record of `action` on record `id` of `coll`, if it keeps a trail.
    /// `before`: the fields whose current values the entry records (None for a create,
    /// which replaces nothing); `after`: what the change writes.
    pub(crate) fn audit_entry(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        action: &str,
        before: Option<Vec<String>>,
        mut after: J,
    ) -> Result<Option<Step>, CoreError> {
        let Some(log) = &coll.def.audit else {
            return Ok(None);
        };
        let target = self.collection_or_err(&log.collection)?;
        let mut fields = Map::new();
        let mut changes_field = None;
        for (f, v) in &log.fields {
            let value = match v.as_str() {
                Some("@id") => J::String(id.to_string()),
                Some("@action") => J::String(action.to_owned()),
                Some("@changes") => {
                    // An object stands in so that validation passes a required field (the
                    // manifest puts `@changes` into a json field, which takes any object).
                    // The value itself is written by the database from the row it reads
                    // (a change) or put in after validation (a create): it can be large
                    // (json fields), and validating it would only copy it.
                    changes_field = Some(f.clone());
                    J::Object(Map::new())
                }
                _ => caller_value(ctx, v),
            };
            fields.insert(target.wire(f).to_owned(), value);
        }
        let mut row =
            self.validator
                .record(&target.name, &target.def, &J::Object(fields), Mode::Create)?;
        let new_id = Uuid::now_v7();
        match (before, changes_field) {
            (Some(before), Some(changes)) => {
                row.retain(|(f, _)| *f != changes);
                let step = self.store.snapshot_step(
                    &target.table,
                    new_id,
                    &row,
                    &changes,
                    &coll.table,
                    id,
                    &before,
                    &after,
                    ctx.now,
                )?;
                Ok(Some(step.quiet()))
            }
            (before, changes) => {
                // A create's entry holds the new values as they are (moved, not copied).
                let slot = changes
                    .filter(|_| before.is_none())
                    .and_then(|c| row.iter_mut().find(|(f, _)| *f == c));
                if let Some((_, value)) = slot {
                    *value = Value::Json(J::Object(Map::from_iter([
                        ("before".to_owned(), J::Null),
                        ("after".to_owned(), std::mem::take(&mut after)),
                    ])));
                }
                Ok(Some(
                    self.store
                        .insert_step(&target.table, new_id, &row, ctx.now)?
                        .quiet(),
                ))
            }
        }
    }

    /// The audit record of a create (`before`: nothing), a change (the fields of `row`)
    /// or a delete (`row` None: every field), hidden fields left out.
    pub(crate) fn audit_write(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        action: &str,
        row: Option<&Row>,
    ) -> Result<Option<Step>, CoreError> {
        if coll.def.audit.is_none() {
            return Ok(None);
        }
        let hidden = |f: &str| coll.def.fields.get(f).is_some_and(|d| d.hidden);
        let Some(row) = row else {
            let all = coll
                .def
                .fields
                .keys()
                .filter(|f| !hidden(f))
                .cloned()
                .collect();
            return self.audit_entry(ctx, coll, id, action, Some(all), J::Null);
        };
        let visible = || row.iter().filter(|(f, _)| !hidden(f));
        let before = match action {
            "create" => None,
            _ => Some(visible().map(|(f, _)| f.clone()).collect()),
        };
        let after = visible().map(|(f, v)| (f.clone(), v.to_json())).collect();
        self.audit_entry(ctx, coll, id, action, before, J::Object(after))
    }

    /// Refuse changing or deleting a record of an append-only collection, except by
    /// Plinth itself.
    pub(crate) fn refuse_append_only(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
    ) -> Result<(), CoreError> {
        match coll.def.append_only && !matches!(ctx.caller, Caller::System) {
            true => Err(CoreError::NotAllowed(format!(
                "Records of `{}` are never changed or deleted",
                coll.name
            ))),
            false => Ok(()),
        }
    }
}
