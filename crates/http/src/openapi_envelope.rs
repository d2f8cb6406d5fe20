//! The success envelopes' schemas, shared by every part of an app's OpenAPI document.

use serde_json::{json, Value};

/// `{"success": true, "data": body}`: every key required, as every such response has them
/// (a generated client then needs no `?.` to reach the data).
pub(crate) fn data_envelope(body: Value) -> Value {
    json!({"type": "object", "required": ["success", "data"],
        "properties": {"success": {"const": true}, "data": body}})
}

/// `{key: body}` (keyed envelopes), the key required.
pub(crate) fn keyed_envelope(key: &str, body: Value) -> Value {
    json!({"type": "object", "required": [key], "properties": {key: body}})
}
