//! Reads: a page of records, one record; both with `expand=`.

use plinth_context::Ctx;
use plinth_records::{FieldError, Filter, ListQuery, Record, ValidationError, Value};
use plinth_store::{Page, Total};
use uuid::Uuid;

use crate::access::{Access, Op};
use crate::{AppService, CollectionHandle, CoreError};

/// A record id from a client; anything not a UUID cannot name a record, so it is a 404.
pub(crate) fn record_id(raw: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(raw).map_err(|_| CoreError::NotFound("Record not found".into()))
}

/// `id = <id>`, and the rule's filter when there is one.
pub(crate) fn by_id(id: Uuid, rule: Option<Filter>) -> Filter {
    let id = Filter::eq("id", Value::Uuid(id));
    match rule {
        Some(rule) => Filter::And(vec![id, rule]),
        None => id,
    }
}

impl AppService {
    /// The relation fields to expand, each with the target's view rule for this caller; a
    /// target the caller may not view at all is left out (its records are never embedded).
    async fn expandable(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        fields: &[String],
    ) -> Result<Vec<(String, Option<Filter>)>, CoreError> {
        let mut out = Vec::with_capacity(fields.len());
        for field in fields {
            let target = coll
                .table
                .relations()
                .iter()
                .find(|(f, _)| f == field)
                .and_then(|(_, t)| self.any_collection(t));
            let Some(target) = target else { continue };
            match self.access(ctx, target, Op::View, None).await? {
                Access::All => out.push((field.clone(), None)),
                Access::Only(rule) => out.push((field.clone(), Some(rule))),
                Access::Denied => {}
            }
        }
        Ok(out)
    }

    /// A page of records for query-string pairs (`limit`, `sort`, `filter`, equality
    /// filters, `expand`), in wire names.
    pub async fn list(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        query: &[(String, String)],
    ) -> Result<Page, CoreError> {
        let mut q = ListQuery::parse(&coll.name, &coll.def, &self.validator, query)?;
        match self.access(ctx, coll, Op::List, None).await? {
            Access::All => {}
            // A denied list is an empty one, not an error (the caller may see none).
            Access::Denied => {
                return Ok(Page {
                    items: Vec::new(),
                    total: Some(Total {
                        count: 0,
                        estimated: false,
                    }),
                    limit: q.limit,
                    offset: q.offset,
                })
            }
            Access::Only(rule) => {
                q.filter = Some(match q.filter.take() {
                    Some(asked) => Filter::And(vec![asked, rule]),
                    None => rule,
                });
            }
        }
        let mut page = self.store.list(ctx, &coll.table, &q).await?;
        if !q.expand.is_empty() {
            let fields = self.expandable(ctx, coll, &q.expand).await?;
            self.store
                .expand(ctx, &coll.table, &mut page.items, &fields)
                .await?;
        }
        Ok(page)
    }

    /// Whether the caller may list any record of `coll` at all (realtime's delete events,
    /// whose record is gone).
    pub async fn may_list(&self, ctx: &Ctx, coll: &CollectionHandle) -> Result<bool, CoreError> {
        Ok(!matches!(
            self.access(ctx, coll, Op::List, None).await?,
            Access::Denied
        ))
    }

    /// One record by id (text: anything not a UUID names no record); `query` may hold
    /// `expand` only.
    pub async fn view(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        query: &[(String, String)],
    ) -> Result<Record, CoreError> {
        let mut expand = Vec::new();
        let mut details = Vec::new();
        for (key, raw) in query {
            match key.as_str() {
                "expand" => match self.validator.expand(&coll.name, &coll.def, raw) {
                    Ok(e) => expand = e,
                    Err(e) => details.push(e),
                },
                other => details.push(FieldError::new(other, "is not a query parameter here")),
            }
        }
        if !details.is_empty() {
            return Err(ValidationError { details }.into());
        }
        let id = record_id(id)?;
        let found = match self.access(ctx, coll, Op::View, None).await? {
            Access::All => self.store.get(ctx, &coll.table, id).await?,
            // A record the caller may not see is a record that is not there.
            Access::Denied => None,
            Access::Only(rule) => {
                self.store
                    .find(ctx, &coll.table, by_id(id, Some(rule)))
                    .await?
            }
        };
        let rec = found.ok_or_else(|| CoreError::NotFound("Record not found".into()))?;
        let mut recs = [rec];
        if !expand.is_empty() {
            let fields = self.expandable(ctx, coll, &expand).await?;
            self.store
                .expand(ctx, &coll.table, &mut recs, &fields)
                .await?;
        }
        let [rec] = recs;
        Ok(rec)
    }

    /// The related lists a view of `rec` carries (`include:`), each as the caller may list
    /// it, oldest first: `(collection, records)`.
    pub async fn includes(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        rec: &Record,
    ) -> Result<Vec<(String, Vec<Record>)>, CoreError> {
        let id = rec.id().unwrap_or_default().to_owned();
        let mut out = Vec::with_capacity(coll.def.include.len());
        for (name, field) in &coll.def.include {
            let Some(other) = self.collection(name) else {
                continue;
            };
            let query = [
                (other.wire(field).to_owned(), id.clone()),
                ("limit".to_owned(), plinth_records::MAX_LIMIT.to_string()),
                ("sort".to_owned(), "id".to_owned()),
            ];
            out.push((name.clone(), self.list(ctx, other, &query).await?.items));
        }
        Ok(out)
    }
}
