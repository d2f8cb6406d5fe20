//! Named aggregates (`GET {base}/{path}`) in an app's OpenAPI document.

use plinth_manifest::{EnvelopeStyle, FieldType, Manifest, MeasureFn};
use serde_json::{json, Map, Value};

/// A JSON schema of a parameter or output value of `kind`.
fn scalar(kind: FieldType) -> Value {
    match kind {
        FieldType::Int => json!({"type": "integer"}),
        FieldType::Float => json!({"type": "number"}),
        FieldType::Bool => json!({"type": "boolean"}),
        _ => json!({"type": "string"}),
    }
}

/// Add one GET path per aggregate; `err` makes an error response in the app's style.
pub(crate) fn add_paths(m: &Manifest, paths: &mut Map<String, Value>, err: &dyn Fn(&str) -> Value) {
    for (name, agg) in &m.aggregates {
        let params: Vec<Value> = agg
            .params
            .iter()
            .map(|(p, def)| {
                let schema = match def.kind {
                    FieldType::Enum => json!({"type": "string", "enum": def.values}),
                    FieldType::Timestamp => json!({"type": "string", "description": "an RFC 3339 timestamp or a date (YYYY-MM-DD, midnight UTC)"}),
                    k => scalar(k),
                };
                let mut param = json!({"name": p, "in": "query", "schema": schema});
                if let Some(d) = &def.default {
                    param["description"] = json!(format!("default: {d}"));
                }
                param
            })
            .collect();
        let mut props = Map::new();
        let coll = agg.collection.as_deref().and_then(|c| m.collections.get(c));
        if let Some(b) = &agg.bucket {
            props.insert(
                m.naming.apply(&b.name),
                json!({"type": "string", "format": "date"}),
            );
        }
        for g in &agg.group {
            let kind = coll
                .and_then(|c| c.fields.get(g))
                .map_or(FieldType::Text, |f| f.kind);
            let wire = coll.map_or_else(|| g.clone(), |c| m.wire_name(c, g));
            props.insert(wire, json!({"anyOf": [scalar(kind), {"type": "null"}]}));
        }
        for (mname, measure) in &agg.measures {
            let schema = match measure.function().map(|f| f.0) {
                Some(MeasureFn::Count) => json!({"type": "integer"}),
                Some(MeasureFn::Sum) => json!({"type": "number"}),
                _ => json!({"type": ["number", "string", "null"]}),
            };
            props.insert(m.naming.apply(mname), schema);
        }
        let object = json!({"type": "object", "properties": props});
        let body = match agg.grouped() {
            true => json!({"type": "array", "items": object}),
            false => object,
        };
        let body = match m.envelope {
            EnvelopeStyle::Data => crate::openapi_envelope::data_envelope(body),
            EnvelopeStyle::Keyed => crate::openapi_envelope::keyed_envelope(name, body),
            EnvelopeStyle::Bare => body,
        };
        let op = json!({
            "operationId": plinth_manifest::camel_case(&format!("aggregate_{name}")),
            "tags": ["aggregates"],
            "description": "measures over the records the caller may list",
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": body}}},
                "400": err("Bad parameter"),
            },
        });
        paths.insert(format!("/{}", agg.path), json!({"get": op}));
    }
}
