//! Reference documents generated from the code, so they cannot drift from it:
//! `docs/config.md` from the configuration types (their doc comments and defaults, through
//! their JSON Schema). `crates/plinth/tests/reference_docs.rs` fails when a committed copy
//! differs from what this renders (`UPDATE_REFERENCE=1` rewrites it).

use serde_json::Value;

use crate::config::Config;

/// One configuration key, flattened: `jobs.lease_secs`.
struct Key {
    path: String,
    ty: String,
    default: Option<Value>,
    doc: String,
}

/// `docs/config.md`: every key with its environment variable, type, default and meaning.
pub fn config_markdown() -> String {
    let schema = serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default();
    let mut keys = Vec::new();
    walk(&schema, &schema, "", None, &mut keys);
    let mut out = String::from(
        "# Configuration reference\n\n\
         Generated from the configuration types (`crates/plinth/src/config.rs`) by\n\
         `crates/plinth/src/reference.rs`; do not edit by hand (`UPDATE_REFERENCE=1 cargo test\n\
         -p plinth --test reference_docs` rewrites it).\n\n\
         Loaded once: built-in defaults, then `plinth.toml` (or `--config`/`PLINTH_CONFIG`), then\n\
         `PLINTH_*` environment variables; env wins. Nested keys use `__` in env names; lists\n\
         are written like TOML (`PLINTH_CORS_ORIGINS='[\"https://a.example\"]'`). Unknown keys\n\
         are errors. `<name>` is an app's name (`simflow`, ...). Secrets are never printed.\n\n\
         | key | env | type | default | meaning |\n|---|---|---|---|---|\n",
    );
    for k in keys {
        let env = format!("PLINTH_{}", k.path.replace('.', "__").to_uppercase());
        let default = match &k.default {
            None | Some(Value::Null) => "unset".to_owned(),
            Some(v) => format!("`{v}`"),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            k.path,
            env,
            k.ty,
            default,
            k.doc.replace('\n', " ").replace('|', "\\|")
        ));
    }
    out
}

/// The schema `s` points at (following a `$ref` into `$defs`).
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root["$defs"].get(name))
            .unwrap_or(s),
        None => s,
    }
}

/// `s` without its `null` alternative (an `Option`), and whether it had one.
fn non_null<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        if let Some(one) = alts.iter().find(|a| a.get("type") != Some(&"null".into())) {
            return resolve(root, one);
        }
    }
    resolve(root, s)
}

fn type_name(root: &Value, s: &Value) -> String {
    let s = non_null(root, s);
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        return names.join(" \\| ");
    }
    if let Some(values) = s.get("oneOf").and_then(Value::as_array) {
        let names: Vec<String> = values
            .iter()
            .filter_map(|v| v.get("const"))
            .map(|v| format!("`{v}`"))
            .collect();
        if !names.is_empty() {
            return names.join(" \\| ");
        }
    }
    let base = match &s["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("any")
            .to_owned(),
        _ => "any".to_owned(),
    };
    match base.as_str() {
        "array" => format!("list of {}", type_name(root, &s["items"])),
        "integer" | "number" => "number".to_owned(),
        other => other.to_owned(),
    }
}

fn walk(root: &Value, s: &Value, prefix: &str, default: Option<&Value>, out: &mut Vec<Key>) {
    let s = non_null(root, s);
    let Some(props) = s.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, p) in props {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let inner = non_null(root, p);
        let doc = p
            .get("description")
            .or_else(|| inner.get("description"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        // A key's default: its own, else the one its parent's default gives it.
        let own = p
            .get("default")
            .or_else(|| default.and_then(|d| d.get(name)));
        if inner.get("properties").is_some() {
            walk(root, inner, &path, own, out);
        } else if let Some(map) = inner.get("additionalProperties").filter(|m| m.is_object()) {
            // Per-app tables: `apps.<name>.…`.
            walk(root, map, &format!("{path}.<name>"), None, out);
        } else {
            out.push(Key {
                path,
                ty: type_name(root, p),
                default: own.cloned(),
                doc,
            });
        }
    }
}
