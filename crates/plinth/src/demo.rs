//! Demo data: `apps/<name>/demo.yaml` loaded into an app whose collections are all empty.
//!
//! The file maps collection names to lists of records. A record may carry `_ref: name`, and
//! any string `@name` elsewhere is replaced by that record's id, so demo records can point
//! at each other. Records go through the same validation and write path as API calls.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use indexmap::IndexMap;
use plinth_records::{ListQuery, Mode, Validator};
use plinth_store::Store;
use serde_json::Value;

/// Parse a demo file: collection name to records, in file order.
pub fn parse(src: &str) -> Result<IndexMap<String, Vec<Value>>> {
    serde_yaml::from_str(src).context("demo data is not a map of collection to record list")
}

fn substitute(v: &mut Value, refs: &HashMap<String, String>) -> Result<()> {
    match v {
        Value::String(s) if s.starts_with('@') => {
            let id = refs
                .get(&s[1..])
                .ok_or_else(|| anyhow!("demo data: unknown reference {s}"))?;
            *s = id.clone();
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| substitute(i, refs))?,
        Value::Object(map) => map.values_mut().try_for_each(|i| substitute(i, refs))?,
        _ => {}
    }
    Ok(())
}

/// Load `src` into `store` if every collection is empty; the number of records written.
pub async fn load_if_empty(store: &Store, src: &str) -> Result<usize> {
    let manifest = store.manifest().clone();
    let validator = Validator::new(&manifest);
    for (name, coll) in &manifest.collections {
        let probe = ListQuery::parse(name, coll, &validator, &[("limit".into(), "1".into())])
            .map_err(|e| anyhow!("{e:?}"))?;
        if store.list(name, &probe).await?.total > 0 {
            return Ok(0);
        }
    }
    let data = parse(src)?;
    let mut refs = HashMap::new();
    let mut written = 0;
    for (name, records) in data {
        let Some(coll) = manifest.collection(&name) else {
            bail!("demo data names unknown collection `{name}`");
        };
        for mut rec in records {
            let label = rec
                .as_object_mut()
                .and_then(|o| o.remove("_ref"))
                .and_then(|r| r.as_str().map(str::to_owned));
            substitute(&mut rec, &refs)?;
            let row = validator
                .record(&name, coll, &rec, Mode::Create)
                .map_err(|e| anyhow!("demo record in `{name}` is invalid: {:?}", e.details))?;
            let saved = store.create(&name, row).await?;
            if let (Some(label), Some(Value::String(id))) = (label, saved.get("id")) {
                refs.insert(label, id.clone());
            }
            written += 1;
        }
    }
    Ok(written)
}
