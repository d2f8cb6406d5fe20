//! `expand=`: embed the records that relation fields point at, under `expand.<field>`,
//! with one `id IN (...)` query per field (not one per record).

use std::collections::HashMap;

use plinth_context::Ctx;
use plinth_records::{Filter, Record, Value};
use sea_query::{Alias, Expr, ExprTrait};
use uuid::Uuid;

use crate::table::Table;
use crate::{Store, StoreError};

/// Ids per query; well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 500;

impl Store {
    /// Embed, in each record, the records its relation `fields` point at; a field's filter
    /// (the target's view rule) limits which may be embedded.
    pub async fn expand(
        &self,
        ctx: &Ctx,
        table: &Table,
        records: &mut [Record],
        fields: &[(String, Option<Filter>)],
    ) -> Result<(), StoreError> {
        for (field, only) in fields {
            let Some((_, target)) = table.relations.iter().find(|(f, _)| f == field) else {
                return Err(StoreError::UnknownCollection(format!(
                    "{}.{field}",
                    table.name
                )));
            };
            let target_table = self
                .table(target)
                .ok_or_else(|| StoreError::UnknownCollection(target.clone()))?;
            let mut ids: Vec<Uuid> = records
                .iter()
                .filter_map(|r| r.get(field).and_then(|v| v.as_str()))
                .filter_map(|s| Uuid::parse_str(s).ok())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let mut found: HashMap<String, Record> = HashMap::new();
            for chunk in ids.chunks(CHUNK) {
                let values = chunk
                    .iter()
                    .map(|id| self.bind(target_table, "id", &Value::Uuid(*id)));
                let mut q = Self::select_all_of(target_table);
                q.and_where(Expr::col(Alias::new("id")).is_in(values));
                if let Some(f) = only {
                    q.cond_where(self.condition(target_table, f));
                }
                let db = &self.inner.db;
                let rows = db.query(db.build(&q), target_table.shape.clone()).await;
                for rec in rows.inspect_err(
                    |e| tracing::warn!(request_id = %ctx.request_id, error = %e, "expand failed"),
                )? {
                    if let Some(id) = rec.id().map(str::to_owned) {
                        found.insert(id, rec);
                    }
                }
            }
            for rec in records.iter_mut() {
                let related = rec
                    .get(field)
                    .and_then(|v| v.as_str())
                    .and_then(|id| found.get(id))
                    .cloned();
                if let Some(related) = related {
                    rec.set_expand(field, related);
                }
            }
        }
        Ok(())
    }
}
