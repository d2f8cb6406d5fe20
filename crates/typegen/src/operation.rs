//! What goes into an operation and what comes out: its parameters (the path item's and
//! its own), its request body's media type, and its responses (the success type, how to
//! read it, and the error types).

use serde_json::{json, Map, Value};

use crate::names::escape;
use crate::schema::{invalid, Schemas};
use crate::TypegenError;

/// `v`, or what its local `$ref` points at (following chains).
pub(crate) fn resolve<'a>(
    doc: &'a Value,
    v: &'a Value,
    at: &str,
) -> Result<&'a Value, TypegenError> {
    let mut cur = v;
    for _ in 0..16 {
        let Some(r) = cur.get("$ref") else {
            return Ok(cur);
        };
        let r = r
            .as_str()
            .ok_or_else(|| invalid(at, "`$ref` must be a string"))?;
        let Some(pointer) = r.strip_prefix('#') else {
            return Err(TypegenError::UnsupportedRef {
                at: at.to_owned(),
                reference: r.to_owned(),
            });
        };
        cur = doc
            .pointer(pointer)
            .ok_or_else(|| TypegenError::UnresolvedRef {
                at: at.to_owned(),
                reference: r.to_owned(),
            })?;
    }
    Err(invalid(at, "`$ref` chain too long (a cycle?)"))
}

/// Whether a media type is JSON (`application/json`, `application/problem+json`).
pub(crate) fn is_json(media: &str) -> bool {
    let m = media.split(';').next().unwrap_or_default().trim();
    m == "application/json" || m.ends_with("+json")
}

/// The media type of a content map to use: JSON first, then forms, then the first other.
fn pick_media(content: &Map<String, Value>) -> Option<&str> {
    let keys: Vec<&str> = content.keys().map(String::as_str).collect();
    keys.iter()
        .find(|m| is_json(m))
        .or_else(|| keys.iter().find(|m| **m == "multipart/form-data"))
        .or_else(|| {
            keys.iter()
                .find(|m| **m == "application/x-www-form-urlencoded")
        })
        .or_else(|| keys.iter().min())
        .copied()
}

/// A content map's chosen media type and its schema, if it has any entry.
fn content(holder: &Value) -> Option<(&str, Option<&Value>)> {
    let c = holder.get("content").and_then(Value::as_object)?;
    let media = pick_media(c)?;
    Some((media, c.get(media).and_then(|m| m.get("schema"))))
}

/// The type of a body of `media` (`schema`'s for JSON; the web platform's for others).
fn media_type(
    schemas: &Schemas,
    media: &str,
    schema: Option<&Value>,
    at: &str,
) -> Result<String, TypegenError> {
    Ok(match media {
        m if is_json(m) => match schema {
            Some(s) => schemas.ty(s, at, 0)?,
            None => "unknown".into(),
        },
        "multipart/form-data" => "FormData".into(),
        "application/x-www-form-urlencoded" => "URLSearchParams".into(),
        _ => "BodyInit".into(),
    })
}

/// One parameter: its name, where it goes (`path`, `query`, `header`, `cookie`), itself.
pub(crate) type Param<'a> = (&'a str, &'a str, &'a Value);

/// The parameters of `op`: the path item's, overridden by the operation's of the same
/// name and place.
pub(crate) fn parameters<'a>(
    doc: &'a Value,
    item: &'a Value,
    op: &'a Value,
    at: [&str; 2],
) -> Result<Vec<Param<'a>>, TypegenError> {
    let mut params: Vec<Param> = Vec::new();
    for (scope, src) in at.iter().zip([item, op]) {
        let Some(list) = src.get("parameters") else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| invalid(scope, "`parameters` must be an array"))?;
        for (i, p) in list.iter().enumerate() {
            let pat = format!("{scope}/parameters/{i}");
            let p = resolve(doc, p, &pat)?;
            let (Some(name), Some(place)) = (
                p.get("name").and_then(Value::as_str),
                p.get("in").and_then(Value::as_str),
            ) else {
                return Err(invalid(&pat, "a parameter needs `name` and `in`"));
            };
            params.retain(|(n, pl, _)| !(*n == name && *pl == place));
            params.push((name, place, p));
        }
    }
    Ok(params)
}

/// A parameter's schema (any value when it has none).
pub(crate) fn param_schema(p: &Value) -> Value {
    p.get("schema").cloned().unwrap_or(Value::Bool(true))
}

/// The query parameters as one object schema, each described by its parameter's
/// description; and whether any is required.
pub(crate) fn query_schema(params: &[Param]) -> (Value, bool) {
    let mut props = Map::new();
    let mut required = Vec::new();
    for (name, _, p) in params.iter().filter(|(_, place, _)| *place == "query") {
        let mut s = param_schema(p);
        if let (Some(o), Some(d)) = (s.as_object_mut(), p.get("description")) {
            if !o.contains_key("$ref") && !o.contains_key("description") {
                o.insert("description".into(), d.clone());
            }
        }
        props.insert((*name).to_owned(), s);
        if p.get("required") == Some(&Value::Bool(true)) {
            required.push(json!(name));
        }
    }
    let any_required = !required.is_empty();
    (
        json!({"type": "object", "properties": props, "required": required}),
        any_required,
    )
}

/// An operation's request body.
pub(crate) struct Body<'a> {
    /// Its media type.
    pub(crate) media: &'a str,
    /// Its schema (JSON bodies).
    pub(crate) schema: Option<&'a Value>,
    /// Its type when it is not JSON with a schema (`FormData`, ...).
    pub(crate) platform_type: String,
    /// Whether the operation needs one.
    pub(crate) required: bool,
    /// Where its schema is.
    pub(crate) at: String,
}

/// The request body of `op`, if it has one with content.
pub(crate) fn body<'a>(
    doc: &'a Value,
    schemas: &Schemas,
    op: &'a Value,
    at: &str,
) -> Result<Option<Body<'a>>, TypegenError> {
    let Some(rb) = op.get("requestBody") else {
        return Ok(None);
    };
    let rat = format!("{at}/requestBody");
    let rb = resolve(doc, rb, &rat)?;
    let Some((media, schema)) = content(rb) else {
        return Ok(None);
    };
    let at = format!("{rat}/content/{}/schema", escape(media));
    Ok(Some(Body {
        media,
        schema: schema.filter(|_| is_json(media)),
        platform_type: media_type(schemas, media, schema, &at)?,
        required: rb.get("required") == Some(&Value::Bool(true)),
        at,
    }))
}

/// What an operation answers.
pub(crate) struct Responses {
    /// The success type (a union when several 2xx answers differ).
    pub(crate) result: String,
    /// How to read a success: `json`, `blob` or `none`.
    pub(crate) kind: &'static str,
    /// The documented error statuses, in order.
    pub(crate) failures: Vec<String>,
    /// The types of the JSON error bodies.
    pub(crate) errors: Vec<String>,
}

/// The responses of `op` (at `at`).
pub(crate) fn responses(
    doc: &Value,
    schemas: &Schemas,
    op: &Value,
    at: &str,
) -> Result<Responses, TypegenError> {
    let rat = format!("{at}/responses");
    let none = Map::new();
    let responses = match op.get("responses") {
        None => &none,
        Some(Value::Object(r)) => r,
        Some(_) => return Err(invalid(&rat, "must be an object")),
    };
    let (mut json_ok, mut other_ok, mut empty) = (Vec::new(), false, false);
    let (mut failures, mut errors) = (Vec::new(), Vec::new());
    let mut codes: Vec<&String> = responses.keys().collect();
    codes.sort();
    for code in codes {
        let cat = format!("{rat}/{}", escape(code));
        let r = resolve(doc, &responses[code], &cat)?;
        let picked = content(r);
        let json_type = match picked {
            Some((media, schema)) if is_json(media) => {
                let sat = format!("{cat}/content/{}/schema", escape(media));
                Some(media_type(schemas, media, schema, &sat)?)
            }
            _ => None,
        };
        if code.starts_with('2') {
            match (picked, json_type) {
                (_, Some(t)) => json_ok.push(t),
                (Some(_), None) => other_ok = true,
                (None, _) => empty = true,
            }
        } else {
            failures.push(code.clone());
            errors.extend(json_type);
        }
    }
    let (mut types, kind) = if !json_ok.is_empty() {
        (json_ok, "json")
    } else if other_ok {
        (vec!["Blob".to_owned()], "blob")
    } else if empty {
        (vec!["void".to_owned()], "none")
    } else {
        // Nothing documented: whatever JSON comes.
        (vec!["unknown".to_owned()], "json")
    };
    if empty && kind != "none" {
        types.push("undefined".into());
    }
    let mut unique: Vec<String> = Vec::new();
    for t in types {
        if !unique.contains(&t) {
            unique.push(t);
        }
    }
    Ok(Responses {
        result: unique.join(" | "),
        kind,
        failures,
        errors,
    })
}
