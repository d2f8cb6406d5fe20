//! De-duplicated creates (`dedupe:`): inside the create's unit, a check for a recent
//! equal record that rolls the unit back when it finds one, behind a per-key lock on
//! PostgreSQL so that concurrent equal creates insert once.

use plinth_context::Ctx;
use plinth_manifest::Dedupe;
use plinth_records::{Record, Row, Value};
use plinth_store::WriteUnit;

use crate::access::{Access, Op};
use crate::read::{by_id, record_id};
use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// The steps that go before a de-duplicated insert of `row`.
    pub(crate) fn dedupe_steps(
        &self,
        coll: &CollectionHandle,
        d: &Dedupe,
        row: &Row,
        ctx: &Ctx,
        unit: &mut WriteUnit,
    ) {
        let keys: Vec<(String, Value)> = d
            .keys
            .iter()
            .map(|k| {
                let v = row.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                (k.clone(), v.unwrap_or(Value::Null))
            })
            .collect();
        let values: Vec<_> = keys.iter().map(|(_, v)| v.to_json()).collect();
        let lock = format!("{}:{}", coll.name, serde_json::Value::Array(values));
        if let Some(step) = self.store.lock_step(&lock) {
            unit.push(step);
        }
        let secs = plinth_manifest::window_secs(&d.window).unwrap_or(0);
        let since = ctx.now - chrono::TimeDelta::seconds(i64::try_from(secs).unwrap_or(0));
        unit.push(self.store.no_recent_step(&coll.table, &keys, since));
    }

    /// The recent equal record a create found, if the caller may view it; else a 409
    /// (telling them more would show a record they cannot see).
    pub(crate) async fn existing(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        found: Record,
    ) -> Result<Record, CoreError> {
        let conflict = || CoreError::Conflict("An equal record was created recently".into());
        match self.access(ctx, coll, Op::View, None).await? {
            Access::All => Ok(found),
            Access::Denied => Err(conflict()),
            Access::Only(rule) => {
                let id = record_id(found.id().unwrap_or_default())?;
                let seen = self
                    .store
                    .find(ctx, &coll.table, by_id(id, Some(rule)))
                    .await?;
                seen.ok_or_else(conflict)
            }
        }
    }
}
