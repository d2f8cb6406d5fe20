//! Writes: each builds one write unit and applies it, so a record change and everything
//! that must commit with it (audit, jobs, outbox, later) commit together or not at all.

use plinth_context::Ctx;
use plinth_records::{Mode, Record, Row, Value};
use plinth_store::{StepOut, StoreError, WriteUnit};
use serde_json::Value as J;
use uuid::Uuid;

use crate::access::{refuse_create, Access, Op};
use crate::read::{by_id, record_id};
use crate::{AppService, CollectionHandle, CoreError};

/// What a create did.
#[derive(Debug)]
pub enum Created {
    /// Inserted this record.
    New(Record),
    /// Found this recent equal record (`dedupe:`) and inserted nothing.
    Existing(Record),
}

impl Created {
    /// The record made or found.
    pub fn into_record(self) -> Record {
        match self {
            Created::New(r) | Created::Existing(r) => r,
        }
    }
}

impl AppService {
    /// Validate `body` (wire names) and create a record (or find its recent equal).
    pub async fn create(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        body: &J,
    ) -> Result<Record, CoreError> {
        self.insert(ctx, coll, body).await.map(Created::into_record)
    }

    /// Validate `body` (wire names) and insert a record, unless the collection dedupes
    /// and a recent equal record exists: then that one, if the caller may view it.
    pub async fn insert(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        body: &J,
    ) -> Result<Created, CoreError> {
        let sent = body;
        refuse_readonly(ctx, coll, body)?;
        let reads_user = coll.def.fields.iter().any(|(name, f)| {
            f.caller_default().is_some_and(crate::access::reads_user)
                && body.get(coll.wire(name)).is_none()
        });
        let user = match reads_user {
            true => self.caller_user(ctx).await?,
            false => None,
        };
        let body = with_caller_defaults(ctx, coll, body, user.as_ref())?;
        let row = self
            .validator
            .record(&coll.name, &coll.def, &body, Mode::Create)?;
        match self.access(ctx, coll, Op::Create, Some(sent)).await? {
            Access::All => {}
            Access::Denied => return Err(refuse_create(ctx)),
            // The candidate is checked before it is written (it has no row to select yet).
            Access::Only(rule) => {
                let get = |f: &str| row.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone());
                let rule = self.settle(ctx, rule, &get).await?;
                if !rule.matches(&get) {
                    return Err(refuse_create(ctx));
                }
            }
        }
        let id = Uuid::now_v7();
        let mut unit = WriteUnit::new();
        let inserts = match &coll.def.dedupe {
            Some(d) => {
                let check = self.recent_equal(coll, d, &row, ctx);
                let table = &coll.table;
                self.store
                    .deduped_insert_steps(table, id, &row, ctx.now, &check)?
            }
            None => vec![self.store.insert_step(&coll.table, id, &row, ctx.now)?],
        };
        // The last of them inserts and returns the record.
        let mut at = 0;
        for step in inserts {
            at = unit.push(step);
        }
        if !coll.def.copy.is_empty() {
            // Read from the related record inside the unit; this step returns the record.
            let copies = self.copies(coll, &coll.def.copy)?;
            at = unit.push(self.store.copy_related_step(&coll.table, id, &copies));
        }
        for (t, when) in coll.def.on_create.iter().zip(&coll.triggers) {
            if self.triggered(ctx, coll, when.as_ref(), &row)? {
                self.create_trigger_steps(ctx, coll, t, id, &body, &mut unit)
                    .await?;
            }
        }
        unit.extend(self.audit_write(ctx, coll, id, "create", Some(&row))?);
        match self.apply_writes(ctx, coll, unit, &row).await {
            Ok(outs) => {
                let rec = returned(outs, at)?;
                self.announce_record(&coll.name, &rec, crate::RecordOp::Created);
                if coll.def.on_create.iter().any(|t| t.enqueue.is_some()) {
                    self.wake_workers();
                }
                Ok(Created::New(rec))
            }
            Err(CoreError::Store(StoreError::Found(existing))) => self
                .existing(ctx, coll, existing)
                .await
                .map(Created::Existing),
            Err(e) => Err(e),
        }
    }

    /// Whether a create trigger's `when` (`None`: always) holds for the new record `row`.
    fn triggered(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        when: Option<&crate::triggers::When>,
        row: &Row,
    ) -> Result<bool, CoreError> {
        let Some(when) = when else {
            return Ok(true);
        };
        let when = self.when_filter(ctx, coll, when, "on_create")?;
        let get = |f: &str| row.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone());
        Ok(when.matches(&get))
    }

    /// Validate `body` (wire names, partial) and change record `id`.
    pub async fn update(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        body: &J,
    ) -> Result<Record, CoreError> {
        let id = record_id(id)?;
        self.refuse_append_only(ctx, coll)?;
        refuse_readonly(ctx, coll, body)?;
        let row = self
            .validator
            .record(&coll.name, &coll.def, body, Mode::Update)?;
        let step = match self.access(ctx, coll, Op::Update, Some(body)).await? {
            Access::All => self.store.update_step(&coll.table, id, &row, ctx.now),
            // A record the caller may not change is, to them, not there.
            Access::Denied => return Err(CoreError::NotFound("Record not found".into())),
            Access::Only(rule) if row.is_empty() => {
                // Nothing to set: answer the record if the rule lets the caller at it.
                return self
                    .store
                    .find(ctx, &coll.table, by_id(id, Some(rule)))
                    .await?
                    .ok_or_else(|| CoreError::NotFound("Record not found".into()));
            }
            Access::Only(rule) => self
                .store
                .update_record_step(&coll.table, id, Some(rule), &row, ctx.now)
                .expect_one(plinth_store::Miss::NotFound),
        };
        let mut unit = WriteUnit::new();
        unit.extend(self.audit_write(ctx, coll, id, "update", Some(&row))?);
        let at = unit.push(step);
        self.update_trigger_steps(ctx, coll, id, &mut unit)?;
        let outs = self.apply_writes(ctx, coll, unit, &row).await?;
        let rec = returned(outs, at)?;
        self.announce_record(&coll.name, &rec, crate::RecordOp::Updated);
        Ok(rec)
    }

    /// Delete record `id`.
    pub async fn delete(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
    ) -> Result<(), CoreError> {
        let id = record_id(id)?;
        self.refuse_append_only(ctx, coll)?;
        let step = match self.access(ctx, coll, Op::Delete, None).await? {
            Access::All => self.store.delete_step(&coll.table, id),
            Access::Denied => return Err(CoreError::NotFound("Record not found".into())),
            Access::Only(rule) => self
                .store
                .delete_where_step(&coll.table, &by_id(id, Some(rule)))
                .expect_one(plinth_store::Miss::NotFound),
        };
        let mut unit = WriteUnit::new();
        unit.extend(self.audit_write(ctx, coll, id, "delete", None)?);
        unit.push(step);
        match self.commit(ctx, unit).await {
            Err(StoreError::InvalidReference { .. }) => Err(CoreError::StillReferenced),
            Err(e) => Err(CoreError::from(e)),
            Ok(_) => {
                self.announce(&coll.name, id, crate::RecordOp::Deleted);
                Ok(())
            }
        }
    }

    /// Apply a unit that writes `row` into `coll`; store conflicts come back in wire names.
    pub(crate) async fn apply_writes(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        unit: WriteUnit,
        row: &Row,
    ) -> Result<Vec<StepOut>, CoreError> {
        match self.commit(ctx, unit).await {
            Ok(outs) => Ok(outs),
            Err(StoreError::Conflict { fields }) => Err(CoreError::Duplicate {
                fields: fields.iter().map(|f| coll.wire(f).to_owned()).collect(),
            }),
            Err(StoreError::InvalidReference { .. }) => {
                Err(self.missing_references(ctx, coll, row).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// After a foreign-key failure, find which relation fields point at nothing, so the
    /// client is told which field is wrong. Runs only on that error path.
    async fn missing_references(&self, ctx: &Ctx, coll: &CollectionHandle, row: &Row) -> CoreError {
        let mut fields = Vec::new();
        for (field, target) in coll.table.relations() {
            let Some((_, Value::Uuid(id))) = row.iter().find(|(f, _)| f == field) else {
                continue;
            };
            let Some(target) = self.any_collection(target) else {
                continue;
            };
            match self.store.get(ctx, &target.table, *id).await {
                Ok(None) => fields.push(coll.wire(field).to_owned()),
                Ok(Some(_)) => {}
                Err(e) => return e.into(),
            }
        }
        CoreError::InvalidReference { fields }
    }
}

/// Fill fields whose default comes from the caller (`default: "@auth.id"`) when the body
/// leaves them out. An anonymous caller cannot fill a required one: sign in first.
/// Refuse a body that sets a `readonly` field, unless Plinth itself writes (demo data,
/// workflows, the CLI).
fn refuse_readonly(ctx: &Ctx, coll: &CollectionHandle, body: &J) -> Result<(), CoreError> {
    if matches!(ctx.caller, plinth_context::Caller::System) {
        return Ok(());
    }
    let details: Vec<plinth_records::FieldError> = coll
        .def
        .fields
        .iter()
        .filter(|(name, f)| f.readonly && body.get(coll.wire(name)).is_some())
        .map(|(name, _)| {
            plinth_records::FieldError::new(coll.wire(name), "is set by the server, not by clients")
        })
        .collect();
    if details.is_empty() {
        Ok(())
    } else {
        Err(plinth_records::ValidationError { details }.into())
    }
}

/// Fill absent fields whose default comes from the caller (`@auth.id`, `@auth.role`,
/// `@auth.<field>` from `user`, the caller's user record in wire names).
fn with_caller_defaults<'a>(
    ctx: &Ctx,
    coll: &CollectionHandle,
    body: &'a J,
    user: Option<&J>,
) -> Result<std::borrow::Cow<'a, J>, CoreError> {
    use plinth_context::Caller;
    let wanted: Vec<_> = coll
        .def
        .fields
        .iter()
        .filter_map(|(name, f)| f.caller_default().map(|c| (coll.wire(name), f.required, c)))
        .filter(|(wire, _, _)| body.get(*wire).is_none())
        .collect();
    let (false, Some(given)) = (wanted.is_empty(), body.as_object()) else {
        return Ok(std::borrow::Cow::Borrowed(body));
    };
    let mut filled = given.clone();
    for (wire, required, source) in wanted {
        let value = match (source, &ctx.caller) {
            ("auth.id", Caller::User { id, .. }) => J::String(id.to_string()),
            ("auth.role", Caller::User { role, .. } | Caller::Service { role, .. }) => {
                J::String(role.clone())
            }
            (_, Caller::Anonymous) if required => {
                return Err(CoreError::Unauthenticated("Sign in first".into()))
            }
            (field, Caller::User { .. }) if crate::access::reads_user(field) => {
                match user.and_then(|u| u.get(&field["auth.".len()..])) {
                    Some(v) if !v.is_null() => v.clone(),
                    _ => continue,
                }
            }
            // Nothing to fill from: validation says what is missing.
            _ => continue,
        };
        filled.insert(wire.to_owned(), value);
    }
    Ok(std::borrow::Cow::Owned(J::Object(filled)))
}

/// The record a step read back.
fn returned(outs: Vec<StepOut>, at: usize) -> Result<Record, CoreError> {
    outs.into_iter()
        .nth(at)
        .and_then(StepOut::into_record)
        .ok_or_else(|| CoreError::Store(StoreError::Database("a write returned no row".into())))
}
