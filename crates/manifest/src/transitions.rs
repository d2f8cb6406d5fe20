//! State machines: named transitions of a collection's state field, each an endpoint
//! (`POST {base}/{collection}/{id}/{name}`) that moves a record from one of `from` to `to`
//! when its guard rule allows, setting the fields it names (docs/workflows.md).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::check::{is_identifier, Checker};
use crate::model::{Collection, FieldType, Manifest};

/// One named transition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The state field (default `status`).
    #[serde(default = "status")]
    pub field: String,
    /// The states it may start from.
    pub from: Vec<String>,
    /// The state it ends in.
    pub to: String,
    /// Who may make it: a rule on the record, as in `rules:`; absent: admins and services
    /// only; `''`: anyone who may see the record.
    #[serde(default)]
    pub rule: Option<String>,
    /// Fields the client may send with it (wire names as stored names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<String>,
    /// Of those, the ones it must send (a rejection's reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    /// Fields it sets: a literal, `"@auth.id"`, `"@now"` or `"@request_id"`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, serde_json::Value>,
    /// A record to insert with the change (an activity entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Log>,
    /// A named event written to the outbox with the change (`drift:approved`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit: Option<String>,
}

/// A record a transition or action inserts in the same unit: values are literals,
/// `"@id"` (the changed record's id), `"@auth.id"`, `"@now"`, `"@request_id"` or `"@input"`
/// (the body sent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// The collection to insert into.
    pub collection: String,
    /// Its fields.
    pub fields: IndexMap<String, serde_json::Value>,
    /// Insert one record for each record of this collection (create triggers only), with
    /// `"@each.<field>"` values: CloudDrift's alert for every user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
}

fn status() -> String {
    "status".to_owned()
}

/// A named action: an endpoint (`PATCH` or `POST {base}/{collection}/{id}/{name}`) that
/// sets fields from its input, the caller and a related record, when its rule allows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Who may: a rule on the record; absent: admins and services only.
    #[serde(default)]
    pub rule: Option<String>,
    /// Input names, as the client sends them, and the field each sets
    /// (`engineerId: assigned_to`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: IndexMap<String, String>,
    /// Input names the client must send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    /// Fields it sets: a literal, `"@auth.id"`, `"@now"` or `"@request_id"`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub set: IndexMap<String, serde_json::Value>,
    /// Fields copied from a related record in the same unit, after the rest is set
    /// (`assigned_to_name: assigned_to.name`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub copy: IndexMap<String, String>,
    /// A record to insert with the change (an activity entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<Log>,
    /// A named event written to the outbox with the change (`drift:approved`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit: Option<String>,
}

impl Checker<'_> {
    /// A log names a collection and its fields.
    pub(crate) fn log(&mut self, m: &Manifest, path: &[&str], log: Option<&Log>) {
        self.log_each(m, path, log, false);
    }

    /// A log, which may insert one record per record of another collection (`each`) when
    /// `each_ok` (create triggers).
    pub(crate) fn log_each(
        &mut self,
        m: &Manifest,
        path: &[&str],
        log: Option<&Log>,
        each_ok: bool,
    ) {
        let Some(log) = log else { return };
        match (&log.each, each_ok) {
            (Some(_), false) => self.error(path, "`each` is for create triggers only"),
            (Some(each), true) => {
                let coll = m.collections.get(each);
                if coll.is_none() {
                    self.error(path, format!("each: unknown collection `{each}`"));
                }
                for v in log.fields.values().filter_map(|v| v.as_str()) {
                    let Some(f) = v.strip_prefix("@each.") else {
                        continue;
                    };
                    if f != "id" && !coll.is_some_and(|c| c.fields.contains_key(f)) {
                        self.error(path, format!("`{v}` is not a field of `{each}`"));
                    }
                }
            }
            (None, _) => {}
        }
        let Some(target) = m.collections.get(&log.collection) else {
            self.error(
                path,
                format!("log into unknown collection `{}`", log.collection),
            );
            return;
        };
        for f in log.fields.keys() {
            if !target.fields.contains_key(f) {
                self.error(
                    path,
                    format!("log: `{f}` is not a field of `{}`", log.collection),
                );
            }
        }
    }

    /// Actions set real fields, copy from real relations, and read only known values.
    pub(crate) fn actions(&mut self, m: &Manifest, cname: &str, coll: &Collection) {
        for (aname, a) in &coll.actions {
            let path = ["collections", cname, "actions", aname.as_str()];
            self.log(m, &path, a.log.as_ref());
            self.topic(&path, a.emit.as_deref());
            // A path segment, not SQL: `mark-read` is fine.
            if !is_identifier(&aname.replace('-', "_")) || coll.transitions.contains_key(aname) {
                self.error(
                    &path,
                    "action names are lowercase letters, digits, _ and -, unlike any transition",
                );
            }
            for f in a.input.values().chain(a.set.keys()).chain(a.copy.keys()) {
                if !coll.fields.contains_key(f) {
                    self.error(&path, format!("`{f}` is not a field of `{cname}`"));
                }
            }
            for r in &a.require {
                if !a.input.contains_key(r) {
                    self.error(&path, format!("required `{r}` must be an input"));
                }
            }
            self.copies(m, coll, &path, &a.copy);
            if let Some(src) = a.rule.as_deref().filter(|r| !r.trim().is_empty()) {
                match plinth_rules::parse(src) {
                    Err(e) => self.error(&path, format!("invalid rule: {e}")),
                    Ok(expr) => self.rule_values(m, coll, &path, &expr, None),
                }
            }
        }
    }

    /// Copies (`field: relation.field`) read a field of a relation's collection.
    pub(crate) fn copies(
        &mut self,
        m: &Manifest,
        coll: &Collection,
        path: &[&str],
        copy: &IndexMap<String, String>,
    ) {
        for (f, src) in copy {
            let target = src.split_once('.').and_then(|(rel, sub)| {
                let t = coll.fields.get(rel)?;
                let tc = m.collections.get(t.collection.as_deref()?)?;
                (t.kind == FieldType::Relation && (tc.fields.contains_key(sub) || sub == "id"))
                    .then_some(())
            });
            if !coll.fields.contains_key(f) || target.is_none() {
                self.error(
                    path,
                    format!("`{f}`: `{src}` is not <relation>.<field of its collection>"),
                );
            }
        }
    }

    /// Transitions name real fields and states, and their rules only known values.
    pub(crate) fn transitions(&mut self, m: &Manifest, cname: &str, coll: &Collection) {
        for (tname, t) in &coll.transitions {
            let path = ["collections", cname, "transitions", tname.as_str()];
            self.log(m, &path, t.log.as_ref());
            self.topic(&path, t.emit.as_deref());
            if !is_identifier(tname) {
                self.error(
                    &path,
                    "transition names are lowercase letters, digits and _",
                );
            }
            let Some(state) = coll.fields.get(&t.field) else {
                self.error(&path, format!("unknown state field `{}`", t.field));
                continue;
            };
            if !matches!(state.kind, FieldType::Text | FieldType::Enum) {
                self.error(
                    &path,
                    format!("state field `{}` must be text or enum", t.field),
                );
            }
            if t.from.is_empty() {
                self.error(&path, "`from` lists no state");
            }
            if let Some(values) = &state.values {
                for s in t.from.iter().chain([&t.to]) {
                    if !values.contains(s) {
                        self.error(&path, format!("`{s}` is not a value of `{}`", t.field));
                    }
                }
            }
            for f in t.input.iter().chain(&t.require).chain(t.set.keys()) {
                if !coll.fields.contains_key(f) || *f == t.field {
                    self.error(&path, format!("`{f}` is not a field it can set"));
                }
            }
            for f in &t.require {
                if !t.input.contains(f) {
                    self.error(&path, format!("required `{f}` must be listed in `input`"));
                }
            }
            for (f, v) in &t.set {
                if let Some(s) = v.as_str().and_then(|s| s.strip_prefix('@')) {
                    if !matches!(s, "auth.id" | "now") {
                        self.error(
                            &path,
                            format!("`{f}`: set knows @auth.id and @now, not @{s}"),
                        );
                    }
                }
            }
            if let Some(src) = t.rule.as_deref().filter(|r| !r.trim().is_empty()) {
                match plinth_rules::parse(src) {
                    Err(e) => self.error(&path, format!("invalid rule: {e}")),
                    Ok(expr) => self.rule_values(m, coll, &path, &expr, None),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    const BASE: &str = "name: t\ncollections:\n  items:\n    fields:\n      status: { type: enum, values: [open, done], required: true, default: open }\n      note: { type: text }\n      by: { type: uuid }\n    transitions:\n";

    #[test]
    fn transitions_name_real_fields_and_states() {
        let ok = crate::parse(&format!("{BASE}      finish: {{ from: [open], to: done, rule: '@auth.id != null', input: [note], require: [note], set: {{ by: '@auth.id' }} }}\n"))
            .expect("valid");
        let t = &ok.collections["items"].transitions["finish"];
        assert_eq!((t.field.as_str(), t.to.as_str()), ("status", "done"));
        for (bad, msg) in [
            (
                "finish: { field: nope, from: [open], to: done }",
                "unknown state field",
            ),
            (
                "finish: { from: [open], to: closed }",
                "`closed` is not a value",
            ),
            ("finish: { from: [], to: done }", "no state"),
            (
                "finish: { from: [open], to: done, set: { by: '@auth.role' } }",
                "not @auth.role",
            ),
            (
                "finish: { from: [open], to: done, require: [note] }",
                "listed in `input`",
            ),
            (
                "finish: { from: [open], to: done, input: [status] }",
                "not a field it can set",
            ),
            (
                "finish: { from: [open], to: done, rule: 'note = @auth.nope' }",
                "unknown @auth.nope",
            ),
        ] {
            let err = crate::parse(&format!("{BASE}      {bad}\n")).expect_err(bad);
            assert!(err.to_string().contains(msg), "{bad}: {err}");
        }
    }

    #[test]
    fn actions_set_real_fields_and_copy_through_relations() {
        let base = "name: t\ncollections:\n  users:\n    fields:\n      name: { type: text }\n  items:\n    fields:\n      owner: { type: relation, collection: users }\n      owner_name: { type: text }\n      hours: { type: int }\n    actions:\n";
        let ok = crate::parse(&format!("{base}      assign: {{ input: {{ ownerId: owner, h: hours }}, require: [ownerId], copy: {{ owner_name: owner.name }} }}\n"))
            .expect("valid");
        assert_eq!(
            ok.collections["items"].actions["assign"].input["ownerId"],
            "owner"
        );
        for (bad, msg) in [
            ("assign: { input: { x: nope } }", "`nope` is not a field"),
            (
                "assign: { input: { h: hours }, require: [x] }",
                "must be an input",
            ),
            (
                "assign: { copy: { owner_name: hours.name } }",
                "is not <relation>",
            ),
            (
                "assign: { copy: { owner_name: owner.nope } }",
                "is not <relation>",
            ),
        ] {
            let err = crate::parse(&format!("{base}      {bad}\n")).expect_err(bad);
            assert!(err.to_string().contains(msg), "{bad}: {err}");
        }
    }
}
