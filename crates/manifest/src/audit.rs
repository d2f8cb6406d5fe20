//! Checks of a collection's audit trail (`audit:`, a log written with every change) and of
//! append-only collections.

use crate::check::Checker;
use crate::model::{Collection, FieldType, Manifest};

impl Checker<'_> {
    /// The audit log names real fields; `@changes` goes into a json field.
    pub(crate) fn audit(&mut self, m: &Manifest, cname: &str, coll: &Collection) {
        let Some(log) = &coll.audit else { return };
        let path = ["collections", cname, "audit"];
        self.log(m, &path, Some(log));
        let Some(target) = m.collections.get(&log.collection) else {
            return;
        };
        if log.collection == cname {
            self.error(&path, "a collection cannot be its own audit trail");
        }
        for (f, v) in &log.fields {
            let (Some("@changes"), Some(field)) = (v.as_str(), target.fields.get(f)) else {
                continue;
            };
            if field.kind != FieldType::Json {
                self.error(
                    &path,
                    format!("`@changes` goes into a json field, not `{f}`"),
                );
            }
        }
    }
}
