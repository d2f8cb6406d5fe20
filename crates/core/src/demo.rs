//! Demo data: `apps/<name>/demo.yaml` loaded into an app whose collections are all empty,
//! as one write unit: all of it or nothing.
//!
//! The file maps collection names to lists of records. A record may carry `_ref: name`, and
//! any string `@name` elsewhere is replaced by that record's id, so demo records can point
//! at each other. Records go through the same validation and statements as API writes.

use std::collections::HashMap;

use indexmap::IndexMap;
use plinth_context::Ctx;
use plinth_records::{ListQuery, Mode};
use plinth_store::WriteUnit;
use serde_json::Value;
use uuid::Uuid;

use crate::{AppService, CoreError};

/// Why demo data could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The file is not a map of collection to record list.
    #[error("demo data is not a map of collection to record list: {0}")]
    Format(String),
    /// The file names a collection the app does not have.
    #[error("demo data names unknown collection `{0}`")]
    UnknownCollection(String),
    /// `@name` names no `_ref`.
    #[error("demo data: unknown reference @{0}")]
    UnknownReference(String),
    /// A record does not validate.
    #[error("demo record in `{collection}` is invalid: {details}")]
    Invalid {
        /// The collection.
        collection: String,
        /// The field errors, as text.
        details: String,
    },
    /// Reading or writing failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

fn substitute(v: &mut Value, refs: &HashMap<String, Uuid>) -> Result<(), DemoError> {
    match v {
        Value::String(s) if s.starts_with('@') => {
            let id = refs
                .get(&s[1..])
                .ok_or_else(|| DemoError::UnknownReference(s[1..].to_owned()))?;
            *s = id.to_string();
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| substitute(i, refs))?,
        Value::Object(map) => map.values_mut().try_for_each(|i| substitute(i, refs))?,
        _ => {}
    }
    Ok(())
}

impl AppService {
    /// Load demo data `src` if every collection is empty; the number of records written.
    pub async fn load_demo_if_empty(&self, ctx: &Ctx, src: &str) -> Result<usize, DemoError> {
        let probe = [("limit".to_owned(), "1".to_owned())];
        for coll in self.collections() {
            let q = ListQuery::parse(&coll.name, &coll.def, &self.validator, &probe)
                .map_err(CoreError::from)?;
            let page = self
                .store
                .list(ctx, &coll.table, &q)
                .await
                .map_err(CoreError::from)?;
            if !page.items.is_empty() {
                return Ok(0);
            }
        }
        let data: IndexMap<String, Vec<Value>> =
            serde_yaml::from_str(src).map_err(|e| DemoError::Format(e.to_string()))?;
        // Ids are chosen here, before anything is written, so references resolve in the
        // unit itself.
        let mut refs = HashMap::new();
        let mut unit = WriteUnit::new();
        for (name, records) in data {
            // Users may be given even when the app does not serve its users collection.
            let coll = self
                .any_collection(&name)
                .filter(|c| c.public || name == plinth_manifest::USERS)
                .ok_or_else(|| DemoError::UnknownCollection(name.clone()))?;
            for mut rec in records {
                let id = Uuid::now_v7();
                if let Some(label) = rec
                    .as_object_mut()
                    .and_then(|o| o.remove("_ref"))
                    .and_then(|r| r.as_str().map(str::to_owned))
                {
                    refs.insert(label, id);
                }
                substitute(&mut rec, &refs)?;
                // Demo users may carry a `password`, stored hashed like a registration's.
                let password = (coll.name == plinth_manifest::USERS)
                    .then(|| rec.as_object_mut().and_then(|o| o.remove("password")))
                    .flatten();
                let mut row = self
                    .validator
                    .record(&coll.name, &coll.def, &rec, Mode::Create)
                    .map_err(|e| DemoError::Invalid {
                        collection: name.clone(),
                        details: format!("{:?}", e.details),
                    })?;
                if let Some(p) = password {
                    let hash = p
                        .as_str()
                        .map(|p| self.hash_password(p))
                        .transpose()
                        .map_err(|e| DemoError::Format(e.to_string()))?
                        .ok_or_else(|| {
                            DemoError::Format("a demo password must be a string".into())
                        })?;
                    row.push((
                        "password_hash".to_owned(),
                        plinth_records::Value::Text(hash),
                    ));
                }
                unit.push(
                    self.store
                        .insert_step(&coll.table, id, &row, ctx.now)
                        .map_err(CoreError::from)?,
                );
            }
        }
        let written = unit.len();
        self.store.apply(ctx, unit).await.map_err(CoreError::from)?;
        Ok(written)
    }
}
