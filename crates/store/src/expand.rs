//! `expand=`: embed the records that relation fields point at, under `expand.<field>`,
//! with one `id IN (...)` query per field (not one per record).

use std::collections::HashMap;

use plinth_records::Value;
use sea_query::{Alias, Expr, ExprTrait};
use uuid::Uuid;

use crate::crud::Record;
use crate::{Store, StoreError};

/// Ids per query; well under SQLite's and PostgreSQL's parameter limits.
const CHUNK: usize = 500;

impl Store {
    /// Attach `expand: {field: record}` to each record for the relation `fields`.
    pub async fn expand(
        &self,
        collection: &str,
        records: &mut [Record],
        fields: &[String],
    ) -> Result<(), StoreError> {
        let table = self.table(collection)?;
        for field in fields {
            let Some((_, target)) = table.relations.iter().find(|(f, _)| f == field) else {
                return Err(StoreError::UnknownCollection(format!(
                    "{collection}.{field}"
                )));
            };
            let target_table = self.table(target)?;
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
                let db = &self.inner.db;
                for rec in db.query(db.build(&q), target_table.columns.clone()).await? {
                    if let Some(id) = rec.get("id").and_then(|v| v.as_str()).map(str::to_owned) {
                        found.insert(id, rec);
                    }
                }
            }
            for rec in records.iter_mut() {
                let Some(target) = rec
                    .get(field)
                    .and_then(|v| v.as_str())
                    .and_then(|id| found.get(id))
                else {
                    continue;
                };
                let target = serde_json::Value::Object(target.clone());
                let slot = rec
                    .entry("expand")
                    .or_insert_with(|| serde_json::Value::Object(Record::new()));
                if let Some(map) = slot.as_object_mut() {
                    map.insert(field.clone(), target);
                }
            }
        }
        Ok(())
    }
}
