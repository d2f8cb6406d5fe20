//! De-duplicated creates (`dedupe:`): the create's unit is refused when a recent record
//! has equal keys (the store's `dedupe` says how, per database), and the caller gets that
//! record instead, if they may see it.

use plinth_context::Ctx;
use plinth_manifest::Dedupe;
use plinth_records::{Record, Row, Value};
use plinth_store::RecentEqual;
use uuid::Uuid;

use crate::access::{Access, Op};
use crate::read::by_id;
use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// What a create of `row` into a de-duplicated collection compares: its key values
    /// and the start of the window.
    pub(crate) fn recent_equal(
        &self,
        coll: &CollectionHandle,
        d: &Dedupe,
        row: &Row,
        ctx: &Ctx,
    ) -> RecentEqual {
        let keys: Vec<(String, Value)> = d
            .keys
            .iter()
            .map(|k| {
                let v = row.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                (k.clone(), v.unwrap_or(Value::Null))
            })
            .collect();
        let values: Vec<_> = keys.iter().map(|(_, v)| v.to_json()).collect();
        // The same text `Display` gives, written without the formatter (it showed in profiles).
        let values = serde_json::to_string(&values).unwrap_or_default();
        let lock = [coll.name.as_str(), ":", &values].concat();
        let secs = plinth_manifest::window_secs(&d.window).unwrap_or(0);
        let since = ctx.now - chrono::TimeDelta::seconds(i64::try_from(secs).unwrap_or(0));
        RecentEqual { keys, since, lock }
    }

    /// The recent equal record `id` a create found, if the caller may view it; else a 409
    /// (telling them more would show a record they cannot see, and a record deleted since
    /// is no longer there to give).
    pub(crate) async fn existing(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: Uuid,
    ) -> Result<Record, CoreError> {
        let conflict = || CoreError::Conflict("An equal record was created recently".into());
        let rule = match self.access(ctx, coll, Op::View, None).await? {
            Access::All => None,
            Access::Denied => return Err(conflict()),
            Access::Only(rule) => Some(rule),
        };
        let seen = self.store.find(ctx, &coll.table, by_id(id, rule)).await?;
        seen.ok_or_else(conflict)
    }
}
