//! De-duplicated creates: a create equal to a recent record returns that record instead
//! (CloudDrift's scanner reporting the same drift again).

use serde::{Deserialize, Serialize};

use crate::check::Checker;
use crate::model::{Collection, FieldType};

/// Which records count as the same, and for how long.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dedupe {
    /// Fields whose values together identify a record (null matches null).
    pub keys: Vec<String>,
    /// How far back an equal record counts, e.g. `24h` (`s`, `m`, `h`, `d`; at most `1d`).
    pub window: String,
}

impl Checker<'_> {
    /// Keys are real, comparable fields; the window is a duration; records carry
    /// `created_at`, which the window is measured on.
    pub(crate) fn dedupe(&mut self, cname: &str, coll: &Collection) {
        let Some(d) = &coll.dedupe else { return };
        let path = ["collections", cname, "dedupe"];
        if d.keys.is_empty() {
            self.error(&path, "list at least one key field");
        }
        for k in &d.keys {
            match coll.fields.get(k) {
                None => self.error(&path, format!("unknown key field `{k}`")),
                Some(f) if f.kind == FieldType::Json => {
                    self.error(&path, format!("`{k}` is json, which cannot be compared"))
                }
                Some(_) => {}
            }
        }
        if crate::window_secs(&d.window).is_none() {
            self.error(
                &path,
                "window is a whole number of s, m, h or d (e.g. 24h), at most 1d",
            );
        }
        if !coll.has_created_at() {
            self.error(
                &path,
                "needs `created_at` (timestamps) to measure the window on",
            );
        }
    }
}
