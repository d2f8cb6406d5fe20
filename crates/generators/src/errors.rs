//! The problems found in a request, each with the field it is about.

use serde_json::{json, Value};

/// Everything wrong with a request: one `(field path, message)` pair per problem, e.g.
/// `("columns[2].type", "unknown type `foo`; one of: ...")`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid generation request: {}", self.summary())]
pub struct SpecErrors {
    errors: Vec<(String, String)>,
}

impl SpecErrors {
    /// The problems, in the order they were found.
    pub fn errors(&self) -> &[(String, String)] {
        &self.errors
    }

    /// The message for a field path, if that field has a problem.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The problems as JSON for a 400 response: `[{"field": ..., "message": ...}, ...]`.
    pub fn to_json(&self) -> Value {
        self.errors
            .iter()
            .map(|(field, message)| json!({ "field": field, "message": message }))
            .collect()
    }

    /// `field: message; field: message`.
    fn summary(&self) -> String {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(f, m)| format!("{f}: {m}"))
            .collect();
        parts.join("; ")
    }

    pub(crate) fn new() -> Self {
        SpecErrors { errors: Vec::new() }
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push((field.into(), message.into()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}
