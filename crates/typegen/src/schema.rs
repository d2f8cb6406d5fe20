//! JSON Schemas (OpenAPI 3.0 and 3.1 flavours) as TypeScript types, and the declarations
//! of the document's component schemas.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::names::{comment_text, escape, property, string_literal, type_name, Names};
use crate::TypegenError;

const REF_PREFIX: &str = "#/components/schemas/";

/// The document's component schemas and the TypeScript names they were given.
pub(crate) struct Schemas<'a> {
    /// `components.schemas`, by name (sorted, so output does not depend on key order).
    components: BTreeMap<&'a str, &'a Value>,
    /// Component name → TypeScript name.
    names: BTreeMap<&'a str, String>,
}

/// An error about the part of the document at `at`.
pub(crate) fn invalid(at: &str, what: &str) -> TypegenError {
    TypegenError::Invalid {
        at: at.to_owned(),
        what: what.to_owned(),
    }
}

/// Members joined by `sep` (` | ` or ` & `), duplicates dropped. In a union `unknown`
/// swallows the rest; in an intersection it adds nothing, and members with operators of
/// their own are parenthesised (harmless where not needed, and always correct).
fn join(members: Vec<String>, sep: &str) -> String {
    let union = sep == " | ";
    let mut seen: Vec<String> = Vec::new();
    for m in members {
        if !seen.contains(&m) && (union || m != "unknown") {
            seen.push(m);
        }
    }
    if seen.is_empty() {
        return "unknown".into();
    }
    if union && seen.iter().any(|m| m == "unknown") {
        return "unknown".into();
    }
    if seen.len() == 1 {
        return seen.remove(0);
    }
    seen.into_iter()
        .map(
            |m| match !union && (m.contains(" | ") || m.contains(" & ")) {
                true => format!("({m})"),
                false => m,
            },
        )
        .collect::<Vec<_>>()
        .join(sep)
}

/// Whether `t` is one name (`string`, `Users`), fit to take `[]` without parentheses.
fn is_atom(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A JSON value as a TypeScript literal type (`"open"`, `3`, `true`, `null`).
fn literal(v: &Value, at: &str) -> Result<String, TypegenError> {
    match v {
        Value::String(s) => Ok(string_literal(s)),
        Value::Number(_) | Value::Bool(_) | Value::Null => Ok(v.to_string()),
        _ => Err(invalid(at, "enum and const values must be scalars")),
    }
}

/// `/** text */` on its own line at `pad`, when the schema has a description.
pub(crate) fn doc_line(schema: &Value, pad: &str) -> String {
    match schema.get("description").and_then(Value::as_str) {
        Some(d) if !d.trim().is_empty() => format!("{pad}/** {} */\n", comment_text(d)),
        _ => String::new(),
    }
}

impl<'a> Schemas<'a> {
    /// Name every component schema of `doc`, claiming the names in `names`.
    pub(crate) fn new(doc: &'a Value, names: &mut Names) -> Result<Self, TypegenError> {
        let components: BTreeMap<&str, &Value> = match doc.pointer("/components/schemas") {
            None => BTreeMap::new(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            Some(_) => return Err(invalid("/components/schemas", "must be an object")),
        };
        let names = components
            .keys()
            .map(|k| (*k, names.claim(&type_name(k))))
            .collect();
        Ok(Schemas { components, names })
    }

    /// `export interface` / `export type` for every component schema, in name order.
    pub(crate) fn declarations(&self) -> Result<String, TypegenError> {
        let mut out = String::new();
        for (key, schema) in &self.components {
            let name = self.names.get(key).map_or("", String::as_str);
            let at = format!("/components/schemas/{}", escape(key));
            out.push_str(&self.declare(name, schema, &at)?);
            out.push('\n');
        }
        Ok(out)
    }

    /// One exported declaration of `schema` as `name`: an interface for a plain object,
    /// else a type alias.
    pub(crate) fn declare(
        &self,
        name: &str,
        schema: &Value,
        at: &str,
    ) -> Result<String, TypegenError> {
        let doc = doc_line(schema, "");
        let plain_object = schema.as_object().is_some_and(|o| {
            let typed = match o.get("type") {
                Some(t) => t == "object",
                None => o.contains_key("properties"),
            };
            typed
                && o.get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty())
                && !["$ref", "allOf", "oneOf", "anyOf", "enum", "const"]
                    .iter()
                    .any(|k| o.contains_key(*k))
                && o.get("nullable") != Some(&Value::Bool(true))
        });
        match schema.as_object() {
            Some(o) if plain_object => Ok(format!(
                "{doc}export interface {name} {}\n",
                self.object(o, at, 0)?
            )),
            _ => Ok(format!(
                "{doc}export type {name} = {};\n",
                self.ty(schema, at, 0)?
            )),
        }
    }

    /// The TypeScript name of the component a `$ref` points at.
    fn reference(&self, r: &Value, at: &str) -> Result<String, TypegenError> {
        let r = r
            .as_str()
            .ok_or_else(|| invalid(at, "`$ref` must be a string"))?;
        let Some(key) = r.strip_prefix(REF_PREFIX) else {
            return Err(TypegenError::UnsupportedRef {
                at: at.to_owned(),
                reference: r.to_owned(),
            });
        };
        let key = key.replace("~1", "/").replace("~0", "~");
        self.names
            .get(key.as_str())
            .cloned()
            .ok_or_else(|| TypegenError::UnresolvedRef {
                at: at.to_owned(),
                reference: r.to_owned(),
            })
    }

    /// `schema` as a TypeScript type; nested object types are laid out at `indent`.
    pub(crate) fn ty(
        &self,
        schema: &Value,
        at: &str,
        indent: usize,
    ) -> Result<String, TypegenError> {
        let o = match schema {
            Value::Bool(true) => return Ok("unknown".into()),
            Value::Bool(false) => return Ok("never".into()),
            Value::Object(o) => o,
            _ => return Err(invalid(at, "a schema must be an object or a boolean")),
        };
        let types: Vec<&str> = match o.get("type") {
            None => Vec::new(),
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            Some(_) => {
                return Err(invalid(
                    at,
                    "`type` must be a string or an array of strings",
                ))
            }
        };
        // 3.0's `nullable: true`, or 3.1's `"null"` among the types. With `enum` or `const`
        // the null is kept too: documents (Plinth's among them) mean an optional enum field.
        let nullable = o.get("nullable") == Some(&Value::Bool(true)) || types.contains(&"null");
        let mut members = Vec::new();
        if let Some(r) = o.get("$ref") {
            members.push(self.reference(r, &format!("{at}/$ref"))?);
        } else if let Some(c) = o.get("const") {
            members.push(literal(c, &format!("{at}/const"))?);
        } else if let Some(e) = o.get("enum") {
            let values = e
                .as_array()
                .ok_or_else(|| invalid(at, "`enum` must be an array"))?;
            for v in values {
                members.push(literal(v, &format!("{at}/enum"))?);
            }
            if values.is_empty() {
                members.push("never".into());
            }
        } else if !types.is_empty() {
            for t in types.iter().filter(|t| **t != "null") {
                members.push(match *t {
                    "string" if o.get("format") == Some(&Value::from("binary")) => "Blob".into(),
                    "string" => "string".into(),
                    "integer" | "number" => "number".into(),
                    "boolean" => "boolean".into(),
                    "array" => self.array(o, at, indent)?,
                    "object" => self.object(o, at, indent)?,
                    other => return Err(invalid(at, &format!("unknown type `{other}`"))),
                });
            }
        } else if o.contains_key("properties") || o.contains_key("additionalProperties") {
            members.push(self.object(o, at, indent)?);
        } else if o.contains_key("items") {
            members.push(self.array(o, at, indent)?);
        }
        let mut parts = Vec::new();
        if !members.is_empty() {
            parts.push(join(members, " | "));
        }
        if let Some(all) = self.list(o, "allOf", at, indent)? {
            parts.push(join(all, " & "));
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(any) = self.list(o, key, at, indent)? {
                parts.push(join(any, " | "));
            }
        }
        let base = match parts.len() {
            0 if nullable => return Ok("null".into()),
            0 => return Ok("unknown".into()),
            _ => join(parts, " & "),
        };
        Ok(if nullable {
            join(vec![base, "null".into()], " | ")
        } else {
            base
        })
    }

    /// The types of the schemas under `o[key]` (`allOf`, `oneOf`, `anyOf`), if present.
    fn list(
        &self,
        o: &Map<String, Value>,
        key: &str,
        at: &str,
        indent: usize,
    ) -> Result<Option<Vec<String>>, TypegenError> {
        let Some(v) = o.get(key) else { return Ok(None) };
        let items = v
            .as_array()
            .ok_or_else(|| invalid(at, &format!("`{key}` must be an array")))?;
        let types = items
            .iter()
            .enumerate()
            .map(|(i, s)| self.ty(s, &format!("{at}/{key}/{i}"), indent))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!types.is_empty()).then_some(types))
    }

    /// An array type: `T[]`, or `Array<A | B>` when the item type has operators.
    fn array(
        &self,
        o: &Map<String, Value>,
        at: &str,
        indent: usize,
    ) -> Result<String, TypegenError> {
        let item = match o.get("items") {
            Some(items) => self.ty(items, &format!("{at}/items"), indent)?,
            None => "unknown".into(),
        };
        Ok(match is_atom(&item) {
            true => format!("{item}[]"),
            false => format!("Array<{item}>"),
        })
    }

    /// An object type: a literal with its properties (optional unless `required`), or a
    /// `Record` when it has none.
    pub(crate) fn object(
        &self,
        o: &Map<String, Value>,
        at: &str,
        indent: usize,
    ) -> Result<String, TypegenError> {
        let none = Map::new();
        let props = match o.get("properties") {
            None => &none,
            Some(Value::Object(p)) => p,
            Some(_) => return Err(invalid(at, "`properties` must be an object")),
        };
        let extra = match o.get("additionalProperties") {
            None => None,
            Some(Value::Bool(false)) => Some("never".to_owned()),
            Some(s) => Some(self.ty(s, &format!("{at}/additionalProperties"), indent)?),
        };
        if props.is_empty() {
            return Ok(format!(
                "Record<string, {}>",
                extra.as_deref().unwrap_or("unknown")
            ));
        }
        let required: Vec<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let pad = "  ".repeat(indent + 1);
        let mut out = String::from("{\n");
        for (name, schema) in props {
            let at = format!("{at}/properties/{}", escape(name));
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            out.push_str(&doc_line(schema, &pad));
            out.push_str(&format!(
                "{pad}{}{optional}: {};\n",
                property(name),
                self.ty(schema, &at, indent + 1)?
            ));
        }
        // Other keys may hold anything the listed ones may, so the index signature is wide.
        if extra.as_deref().is_some_and(|e| e != "never") {
            out.push_str(&format!("{pad}[key: string]: unknown;\n"));
        }
        out.push_str(&"  ".repeat(indent));
        out.push('}');
        Ok(out)
    }
}
