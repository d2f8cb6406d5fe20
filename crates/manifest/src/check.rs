//! Parsing a manifest and checking what serde cannot: names, references, bounds.

use std::fmt;

use regex::Regex;

use crate::check_access::user_field;
use crate::locate::locate;
use crate::model::{FieldType, Manifest, OnDelete};
use crate::{RESERVED_COLLECTION_NAMES, RESERVED_FIELD_NAMES};

/// One problem in a manifest, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// Dotted key path, e.g. `collections.requests.fields.created_by.collection`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ => {}
        }
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Parse and check a manifest; every semantic error is reported, each with its location.
pub fn parse(src: &str) -> Result<Manifest, ManifestErrors> {
    let manifest: Manifest = serde_yaml::from_str(src).map_err(|e| {
        let loc = e.location();
        ManifestErrors(vec![ManifestError {
            path: String::new(),
            message: e.to_string(),
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
        }])
    })?;
    let mut checker = Checker {
        src,
        errors: Vec::new(),
    };
    checker.manifest(&manifest);
    if checker.errors.is_empty() {
        Ok(manifest)
    } else {
        Err(ManifestErrors(checker.errors))
    }
}

pub(crate) struct Checker<'a> {
    src: &'a str,
    errors: Vec<ManifestError>,
}

pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && name.len() <= 63
        // Index names join fields with `__`, so a name may not contain it.
        && !name.contains("__")
}

impl Checker<'_> {
    pub(crate) fn error(&mut self, path: &[&str], message: impl Into<String>) {
        let pos = locate(self.src, path);
        self.errors.push(ManifestError {
            path: path.join("."),
            message: message.into(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
        });
    }

    fn manifest(&mut self, m: &Manifest) {
        self.roles(m);
        self.aggregates(m);
        self.jobs(m);
        if !is_identifier(&m.name) {
            self.error(
                &["name"],
                "must be lowercase letters, digits and _ (starting with a letter)",
            );
        }
        if !m.base.starts_with('/')
            || m.base.contains("//")
            || m.base.contains(['{', '}', ':', '*'])
        {
            self.error(
                &["base"],
                "must be a plain path starting with / (e.g. /api)",
            );
        }
        for (group, limit) in m.rate_limits.iter().flat_map(|r| r.groups()) {
            if let Some(p) = limit.as_ref().and_then(crate::RateLimit::problem) {
                self.error(&["rate_limits", group], p);
            }
        }
        for (name, coll) in &m.collections {
            let cpath = ["collections", name.as_str()];
            if !is_identifier(name) {
                self.error(
                    &cpath,
                    "collection names are lowercase letters, digits and _",
                );
            }
            if RESERVED_COLLECTION_NAMES.contains(&name.as_str()) || name.starts_with("_plinth") {
                self.error(&cpath, format!("`{name}` is reserved"));
            }
            if coll.fields.is_empty() {
                self.error(&cpath, "a collection needs at least one field");
            }
            for (fname, field) in &coll.fields {
                let fpath = ["collections", name.as_str(), "fields", fname.as_str()];
                self.field(m, &fpath, field);
            }
            self.wire_names(m, name, coll);
            self.transitions(m, name, coll);
            self.actions(m, name, coll);
            self.triggers(m, name, coll);
            self.dedupe(name, coll);
            self.copies(m, coll, &["collections", name.as_str(), "copy"], &coll.copy);
            self.audit(m, name, coll);
            for (other, field) in &coll.include {
                let points_here = m
                    .collections
                    .get(other)
                    .and_then(|c| c.fields.get(field))
                    .is_some_and(|f| f.collection.as_deref() == Some(name.as_str()));
                if coll.transitions.contains_key(other) || coll.actions.contains_key(other) {
                    self.error(
                        &["collections", name.as_str(), "include", other.as_str()],
                        format!("`{other}` is also a transition or action of `{name}`"),
                    );
                }
                if !points_here {
                    self.error(
                        &["collections", name.as_str(), "include", other.as_str()],
                        format!("`{other}.{field}` is not a relation to `{name}`"),
                    );
                }
            }
            self.rules(m, name, coll);
            for (i, index) in coll.indexes.iter().enumerate() {
                let ipath = ["collections", name.as_str(), "indexes"];
                if index.fields.is_empty() {
                    self.error(&ipath, format!("index {i} lists no fields"));
                }
                for f in &index.fields {
                    let system = f == "id"
                        || (f == "created_at" && coll.has_created_at())
                        || (f == "updated_at" && coll.has_updated_at());
                    if !system && !coll.fields.contains_key(f) {
                        self.error(&ipath, format!("index {i} names unknown field `{f}`"));
                    }
                }
                if index.unique && !index.only.is_empty() {
                    self.error(
                        &ipath,
                        format!("index {i}: a unique index cannot have `where`"),
                    );
                }
                for (f, v) in &index.only {
                    let field = coll.fields.get(f);
                    match field.map(|x| x.kind) {
                        Some(crate::FieldType::Text) => {}
                        Some(crate::FieldType::Enum)
                            if field
                                .and_then(|x| x.values.as_ref())
                                .is_some_and(|vs| vs.contains(v)) => {}
                        Some(crate::FieldType::Enum) => {
                            self.error(&ipath, format!("index {i}: `{v}` is not a value of `{f}`"))
                        }
                        _ => self.error(
                            &ipath,
                            format!("index {i}: `where` names `{f}`, not a text or enum field"),
                        ),
                    }
                }
            }
        }
    }

    /// Wire names (naming plus `wire:`) must be plain identifiers, unique in a collection.
    fn wire_names(&mut self, m: &Manifest, name: &str, coll: &crate::Collection) {
        let mut seen: Vec<(String, String)> = Vec::new();
        let system = ["id", "created_at", "updated_at"];
        let names = system
            .iter()
            .map(|s| (*s).to_owned())
            .chain(coll.fields.keys().cloned());
        for fname in names {
            let wire = m.wire_name(coll, &fname);
            let path = ["collections", name, "fields", fname.as_str(), "wire"];
            let valid = wire.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && wire.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && wire.len() <= 63;
            if !valid {
                self.error(&path, "wire names are ASCII letters, digits and _");
            }
            if let Some((other, _)) = seen.iter().find(|(_, w)| *w == wire) {
                self.error(
                    &path,
                    format!("wire name `{wire}` is also the wire name of `{other}`"),
                );
            }
            seen.push((fname, wire));
        }
    }

    fn field(&mut self, m: &Manifest, path: &[&str; 4], field: &crate::Field) {
        let fname = path[3];
        let at = |key: &'static str| [path[0], path[1], path[2], path[3], key];
        if !is_identifier(fname) {
            self.error(path, "field names are lowercase letters, digits and _");
        }
        if RESERVED_FIELD_NAMES.contains(&fname) {
            self.error(
                path,
                format!("`{fname}` is reserved (system column or query word)"),
            );
        }
        let kind = field.kind;
        if kind == FieldType::Enum {
            match &field.values {
                Some(v) if !v.is_empty() => {}
                _ => self.error(path, "an enum needs a non-empty `values` list"),
            }
        } else if field.values.is_some() {
            self.error(&at("values"), "`values` is only for enum fields");
        }
        if kind == FieldType::Relation {
            match &field.collection {
                None => self.error(path, "a relation needs `collection`"),
                Some(target) if !m.collections.contains_key(target) => self.error(
                    &at("collection"),
                    format!("relation to unknown collection `{target}`"),
                ),
                Some(_) => {}
            }
            if field.on_delete == Some(OnDelete::SetNull) && field.required {
                self.error(
                    &at("on_delete"),
                    "set_null cannot apply to a required field",
                );
            }
        } else {
            if field.collection.is_some() {
                self.error(
                    &at("collection"),
                    "`collection` is only for relation fields",
                );
            }
            if field.on_delete.is_some() {
                self.error(&at("on_delete"), "`on_delete` is only for relation fields");
            }
        }
        let bounded = matches!(
            kind,
            FieldType::Text | FieldType::Email | FieldType::Url | FieldType::Int | FieldType::Float
        );
        for (key, v) in [("min", field.min), ("max", field.max)] {
            if v.is_some() && !bounded {
                self.error(
                    &at(key),
                    format!("`{key}` is only for text, email, url, int and float fields"),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (field.min, field.max) {
            if lo > hi {
                self.error(&at("min"), format!("min ({lo}) is greater than max ({hi})"));
            }
        }
        if let Some(p) = &field.pattern {
            if kind != FieldType::Text {
                self.error(&at("pattern"), "`pattern` is only for text fields");
            } else if let Err(e) = Regex::new(p) {
                self.error(&at("pattern"), format!("invalid regular expression: {e}"));
            }
        }
        if field.readonly && field.required && field.default.is_none() {
            self.error(
                &at("readonly"),
                "a required readonly field needs a default (clients cannot send it)",
            );
        }
        if let Some(c) = field.caller_default() {
            let fits = match c {
                "auth.id" => matches!(
                    kind,
                    FieldType::Relation | FieldType::Uuid | FieldType::Text
                ),
                "auth.role" => matches!(kind, FieldType::Text | FieldType::Enum),
                other => {
                    kind == FieldType::Text
                        && other
                            .strip_prefix("auth.")
                            .is_some_and(|f| user_field(m, f))
                }
            };
            if !fits {
                self.error(
                    &at("default"),
                    format!("`@{c}` cannot fill a {} field (defaults from the caller: @auth.id for relation, uuid or text; @auth.role for text or enum; @auth.<field of users> for text)", kind.as_str()),
                );
            }
        } else if let Some(d) = &field.default {
            if !default_fits(kind, field, d) {
                self.error(
                    &at("default"),
                    format!("default does not fit a {} field", kind.as_str()),
                );
            }
        }
    }
}

fn default_fits(kind: FieldType, field: &crate::Field, d: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (kind, d) {
        (_, V::Null) => !field.required,
        (FieldType::Json, _) => true,
        (FieldType::Int, V::Number(n)) => n.is_i64(),
        (FieldType::Float, V::Number(_)) => true,
        (FieldType::Bool, V::Bool(_)) => true,
        (FieldType::Enum, V::String(s)) => field.values.as_ref().is_some_and(|v| v.contains(s)),
        (
            FieldType::Text
            | FieldType::Email
            | FieldType::Url
            | FieldType::Timestamp
            | FieldType::Date
            | FieldType::Uuid,
            V::String(_),
        ) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_a_valid_manifest() {
        let m = parse(
            "name: shop\nbase: /api\ncollections:\n  items:\n    fields:\n      title: { type: text, required: true, max: 10 }\n",
        )
        .expect("valid");
        assert_eq!(m.base, "/api");
        assert!(m.collections["items"].fields["title"].required);
    }

    #[test]
    fn partial_indexes_name_a_text_or_enum_field_and_one_of_its_values() {
        let with = |cond: &str, unique: bool| {
            parse(&format!(
                "name: q\ncollections:\n  jobs:\n    fields:\n      \
                 status: {{ type: enum, values: [pending, done] }}\n      n: {{ type: int }}\n    \
                 indexes:\n      - {{ fields: [n], unique: {unique}, where: {cond} }}\n"
            ))
        };
        let m = with("{ status: pending }", false).expect("valid");
        let only = &m.collections["jobs"].indexes[0].only;
        assert_eq!(only.get("status").map(String::as_str), Some("pending"));
        let messages = |cond: &str, unique: bool| -> String {
            let err = with(cond, unique).expect_err("refused");
            err.0
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(messages("{ status: gone }", false).contains("`gone` is not a value of `status`"));
        assert!(messages("{ n: '1' }", false).contains("not a text or enum field"));
        assert!(messages("{ nope: x }", false).contains("not a text or enum field"));
        assert!(messages("{ status: pending }", true).contains("cannot have `where`"));
    }

    #[test]
    fn unknown_keys_are_errors_with_location() {
        let err = parse("name: shop\ncollections:\n  items:\n    fields:\n      title: { type: text, colour: red }\n")
            .expect_err("unknown key");
        let e = &err.0[0];
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(e.line, Some(5));
    }

    #[test]
    fn wire_names_follow_naming_and_must_not_clash() {
        let m = parse("name: shop\nnaming: camel\ncollections:\n  items:\n    fields:\n      first_name: { type: text }\n      wizard_step: { type: int, wire: wizard_step }\n")
            .expect("valid");
        let items = &m.collections["items"];
        assert_eq!(m.wire_name(items, "first_name"), "firstName");
        assert_eq!(m.wire_name(items, "created_at"), "createdAt");
        assert_eq!(m.wire_name(items, "wizard_step"), "wizard_step");
        let err = parse("name: shop\ncollections:\n  items:\n    fields:\n      a: { type: text, wire: b }\n      b: { type: text }\n      c: { type: text, wire: 'x-y' }\n")
            .expect_err("clash");
        let msgs: Vec<_> = err.0.iter().map(|e| e.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("also the wire name of `a`")),
            "{err}"
        );
        assert!(msgs.iter().any(|m| m.contains("ASCII letters")), "{err}");
    }

    #[test]
    fn reports_every_semantic_error_with_its_line() {
        let src = "name: shop\ncollections:\n  items:\n    fields:\n      owner:\n        type: relation\n        collection: people\n      size: { type: int, min: 5, max: 1 }\n      kind: { type: enum }\n";
        let err = parse(src).expect_err("bad refs");
        let lines: Vec<_> = err.0.iter().map(|e| (e.path.as_str(), e.line)).collect();
        assert!(
            lines.contains(&("collections.items.fields.owner.collection", Some(7))),
            "{err}"
        );
        assert!(
            lines.contains(&("collections.items.fields.size.min", Some(8))),
            "{err}"
        );
        assert!(
            lines.contains(&("collections.items.fields.kind", Some(9))),
            "{err}"
        );
    }
}
