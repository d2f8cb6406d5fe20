//! Triggers: what a create or an update of a record also does in its unit, when the record
//! satisfies `when`: insert a related record (`log`) and/or write a named event to the
//! outbox (`emit`) for realtime to publish after commit (docs/workflows.md).

use serde::{Deserialize, Serialize};

use crate::check::Checker;
use crate::model::{Collection, Manifest};
use crate::Log;

/// One trigger of `on_create` or `on_update`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// A rule on the record (the new one; after an update, as updated); absent: always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// A record to insert; values may also be `"@record.<field>"` of the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Log>,
    /// A named event to write to the outbox (`drift:created`), about the inserted record
    /// when there is a `log`, else about the record itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit: Option<String>,
    /// A job kind to enqueue in the same unit, its parameters `{collection, record_id}`
    /// (create triggers only; docs/jobs.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enqueue: Option<String>,
}

/// The `@` values a trigger's `when` may read (besides the record's fields).
pub const WHEN_VALUES: &[&str] = &["auth.id", "auth.role", "now"];

/// An event name: lowercase letters, digits and `_ . : -`, starting with a letter.
pub fn is_topic(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.:-".contains(c))
}

impl Checker<'_> {
    /// Each trigger does something, with a rule that parses and a log into real fields.
    pub(crate) fn triggers(&mut self, m: &Manifest, cname: &str, coll: &Collection) {
        let lists = [
            ("on_create", &coll.on_create),
            ("on_update", &coll.on_update),
        ];
        for (key, list) in lists {
            for (i, t) in list.iter().enumerate() {
                let n = i.to_string();
                let path = ["collections", cname, key, n.as_str()];
                if t.log.is_none() && t.emit.is_none() && t.enqueue.is_none() {
                    self.error(&path, "a trigger needs `log`, `emit` or `enqueue`");
                }
                if let Some(job) = &t.enqueue {
                    if key != "on_create" {
                        self.error(&path, "`enqueue` is for create triggers");
                    } else if !m.jobs.contains_key(job) {
                        self.error(&path, format!("unknown job `{job}`"));
                    }
                }
                self.log_each(m, &path, t.log.as_ref(), key == "on_create");
                self.topic(&path, t.emit.as_deref());
                if let Some(src) = t.when.as_deref().filter(|r| !r.trim().is_empty()) {
                    match plinth_rules::parse(src) {
                        Err(e) => self.error(&path, format!("invalid `when`: {e}")),
                        // Only these are given to a trigger's rule; another would read
                        // as absent on every write.
                        Ok(expr) => self.rule_values(m, coll, &path, &expr, Some(WHEN_VALUES)),
                    }
                }
            }
        }
    }

    /// An event name, if given, is well formed.
    pub(crate) fn topic(&mut self, path: &[&str], topic: Option<&str>) {
        if let Some(t) = topic.filter(|t| !is_topic(t)) {
            self.error(
                path,
                format!("event `{t}`: lowercase letters, digits and _ . : - (e.g. drift:created)"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    const BASE: &str = "name: t\ncollections:\n  items:\n    fields:\n      title: { type: text }\n    on_create:\n";

    #[test]
    fn a_when_reads_only_the_values_a_trigger_is_given() {
        for ok in [
            "title = \"x\"",
            "@auth.role = \"A\" && @auth.id != null",
            "@now != null",
        ] {
            let yaml = format!("{BASE}      - {{ when: '{ok}', emit: item:made }}\n");
            crate::parse(&yaml).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let yaml = format!("{BASE}      - {{ when: '@auth.team = \"x\"', emit: item:made }}\n");
        let err = crate::parse(&yaml)
            .expect_err("@auth.team is never given")
            .to_string();
        assert!(err.contains("reads @auth.team"), "{err}");
    }
}
