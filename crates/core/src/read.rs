//! Reads: a page of records, one record; both with `expand=`.

use plinth_context::Ctx;
use plinth_records::{FieldError, ListQuery, Record, ValidationError};
use plinth_store::Page;
use uuid::Uuid;

/// A record id from a client; anything not a UUID cannot name a record, so it is a 404.
pub(crate) fn record_id(raw: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(raw).map_err(|_| CoreError::NotFound("Record not found".into()))
}

use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// A page of records for query-string pairs (`limit`, `sort`, `filter`, equality
    /// filters, `expand`), in wire names.
    pub async fn list(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        query: &[(String, String)],
    ) -> Result<Page, CoreError> {
        let q = ListQuery::parse(&coll.name, &coll.def, &self.validator, query)?;
        let mut page = self.store.list(ctx, &coll.table, &q).await?;
        if !q.expand.is_empty() {
            self.store
                .expand(ctx, &coll.table, &mut page.items, &q.expand)
                .await?;
        }
        Ok(page)
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
        let rec = self
            .store
            .get(ctx, &coll.table, id)
            .await?
            .ok_or_else(|| CoreError::NotFound("Record not found".into()))?;
        let mut recs = [rec];
        if !expand.is_empty() {
            self.store
                .expand(ctx, &coll.table, &mut recs, &expand)
                .await?;
        }
        let [rec] = recs;
        Ok(rec)
    }
}
