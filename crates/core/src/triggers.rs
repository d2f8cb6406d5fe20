//! Triggers and events in a write unit: `on_create` and `on_update` triggers insert related
//! records (`log`) and write named events to the outbox (`emit`), and transitions and
//! actions emit theirs, all in the change's own unit. Realtime publishes outbox events after
//! commit, so a rolled-back change never announces anything.

use std::borrow::Cow;

use plinth_context::Ctx;
use plinth_manifest::Trigger;
use plinth_records::{format_timestamp, Filter, Mode, Row};
use plinth_store::{Step, StoreError, WriteUnit};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::action::caller_value;
use crate::{AppService, CollectionHandle, CoreError};

/// The outbox system collection.
const OUTBOX: &str = "_plinth_outbox";

/// A trigger's `when`, parsed at open, and compiled then too when it reads no `@` value
/// (most compare the record's own fields), so a write does not compile it again.
#[derive(Debug)]
pub(crate) struct When {
    expr: plinth_rules::Expr,
    fixed: Option<Filter>,
}

/// Each trigger's `when` of collection `name` (`None`: always).
pub(crate) fn parse_when(
    validator: &plinth_records::Validator,
    name: &str,
    coll: &plinth_manifest::Collection,
    list: &[Trigger],
) -> Vec<Option<When>> {
    list.iter()
        .map(|t| {
            let expr = t
                .when
                .as_deref()
                .filter(|w| !w.trim().is_empty())
                .and_then(|w| plinth_rules::parse(w).ok())?;
            let fixed = expr
                .context_names()
                .is_empty()
                .then(|| validator.rule(name, coll, &expr, &|_| None).ok())
                .flatten();
            Some(When { expr, fixed })
        })
        .collect()
}

impl AppService {
    /// The outbox row of event `topic` about record `id` of `collection`.
    fn event_row(
        &self,
        topic: &str,
        collection: &str,
        id: Uuid,
        ctx: &Ctx,
    ) -> Result<Row, CoreError> {
        let outbox = self.outbox()?;
        let entry = json!({"topic": topic, "collection": collection, "record_id": id.to_string(),
            "payload": {"request_id": ctx.request_id}});
        Ok(self
            .validator
            .record(OUTBOX, &outbox.def, &entry, Mode::Create)?)
    }

    fn outbox(&self) -> Result<&std::sync::Arc<CollectionHandle>, CoreError> {
        self.collection_or_err(OUTBOX)
    }

    /// A step writing event `topic` about record `id` of `collection` to the outbox.
    pub(crate) fn emit_step(
        &self,
        ctx: &Ctx,
        topic: &str,
        collection: &str,
        id: Uuid,
    ) -> Result<Step, CoreError> {
        let row = self.event_row(topic, collection, id, ctx)?;
        // Its output is the row as written here: the event is published from it after the
        // commit, and on PostgreSQL the insert rides in the change's own statement.
        Ok(self
            .store
            .insert_echo_step(&self.outbox()?.table, Uuid::now_v7(), &row, ctx.now)?)
    }

    /// A create trigger that fired: its log and its event (about each logged record when
    /// there is a log). A log with `each` inserts one record per record of that collection
    /// as it is when the unit is built (one read before the unit: a record added
    /// meanwhile gets none).
    pub(crate) async fn create_trigger_steps(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        t: &Trigger,
        id: Uuid,
        body: &J,
        unit: &mut WriteUnit,
    ) -> Result<(), CoreError> {
        if let Some(kind) = &t.enqueue {
            let job = crate::jobs::NewJob {
                kind: kind.clone(),
                params: json!({"collection": coll.name, "record_id": id.to_string()}),
                ..Default::default()
            };
            self.enqueue_into(ctx, job, unit)?;
        }
        let Some(log) = &t.log else {
            if let Some(topic) = &t.emit {
                unit.push(self.emit_step(ctx, topic, &coll.name, id)?);
            }
            return Ok(());
        };
        let each = match &log.each {
            None => vec![None],
            Some(name) => {
                let each = self.collection_or_err(name)?;
                let fields: Vec<String> = log
                    .fields
                    .values()
                    .filter_map(|v| v.as_str()?.strip_prefix("@each.").map(str::to_owned))
                    .collect();
                let rows = self.store.scan(ctx, &each.table, &fields).await?;
                rows.iter()
                    .map(|r| Some(serde_json::to_value(r).unwrap_or_default()))
                    .collect()
            }
        };
        for one in &each {
            let (step, logged) = self.log_step_for(ctx, log, id, body, one.as_ref())?;
            unit.push(step);
            if let Some(topic) = &t.emit {
                unit.push(self.emit_step(ctx, topic, &log.collection, logged)?);
            }
        }
        Ok(())
    }

    /// The steps of `coll`'s update triggers for record `id`, to follow its update in the
    /// unit: each inserts only if the record, as updated, satisfies the trigger's `when`.
    pub(crate) fn update_trigger_steps(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
        unit: &mut WriteUnit,
    ) -> Result<(), CoreError> {
        for (t, when) in coll.def.on_update.iter().zip(&coll.update_triggers) {
            let cond = match when {
                None => None,
                Some(when) => {
                    let filter = self.when_filter(ctx, coll, when, "on_update")?;
                    match filter.as_ref() {
                        Filter::Const(false) => continue,
                        Filter::Const(true) => None,
                        _ => Some(filter),
                    }
                }
            };
            let mut about = (coll.name.as_str(), id);
            if let Some(log) = &t.log {
                let target = self.collection_or_err(&log.collection)?;
                let mut consts = Map::new();
                let mut columns = Vec::new();
                for (f, v) in &log.fields {
                    match v.as_str() {
                        Some(s) if s.starts_with("@record.") => {
                            columns.push((f.clone(), s["@record.".len()..].to_owned()));
                        }
                        Some("@id") => {
                            consts.insert(target.wire(f).to_owned(), J::String(id.to_string()));
                        }
                        _ => {
                            consts.insert(target.wire(f).to_owned(), caller_value(ctx, v));
                        }
                    }
                }
                // Fields read from the record are not in `consts`: checked as a partial row,
                // the database enforces the rest.
                let row = self.validator.record(
                    &target.name,
                    &target.def,
                    &J::Object(consts),
                    Mode::Update,
                )?;
                let logged = Uuid::now_v7();
                let step = self.store.insert_from_step(
                    &target.table,
                    logged,
                    &row,
                    &columns,
                    &coll.table,
                    id,
                    cond.as_deref(),
                    ctx.now,
                )?;
                unit.push(step.quiet());
                about = (log.collection.as_str(), logged);
            }
            if let Some(topic) = &t.emit {
                let row = self.event_row(topic, about.0, about.1, ctx)?;
                unit.push(self.store.insert_from_step(
                    &self.outbox()?.table,
                    Uuid::now_v7(),
                    &row,
                    &[],
                    &coll.table,
                    id,
                    cond.as_deref(),
                    ctx.now,
                )?);
            }
        }
        Ok(())
    }

    /// A trigger's `when` (of `kind`, for errors) with the caller's values and `@now` put
    /// in (`plinth_manifest::WHEN_VALUES`, which the manifest check holds it to); compiled
    /// at open when it reads none of them.
    pub(crate) fn when_filter<'w>(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        when: &'w When,
        kind: &str,
    ) -> Result<Cow<'w, Filter>, CoreError> {
        if let Some(fixed) = &when.fixed {
            return Ok(Cow::Borrowed(fixed));
        }
        let (id, role) = crate::access::caller_values(ctx);
        let now = format_timestamp(&ctx.now);
        let vars = |name: &str| match name {
            "auth.id" => Some(id.clone()),
            "auth.role" => Some(role.clone()),
            "now" => Some(J::String(now.clone())),
            _ => None,
        };
        self.validator
            .rule(&coll.name, &coll.def, &when.expr, &vars)
            .map(Cow::Owned)
            .map_err(|e| {
                CoreError::Store(StoreError::Config(format!(
                    "{kind} of `{}`: {e}",
                    coll.name
                )))
            })
    }
}
