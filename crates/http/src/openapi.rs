//! The OpenAPI 3.1 document of an app, derived from its manifest.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::Json;
use plinth_manifest::{Collection, EnvelopeStyle, ErrorStyle, Field, FieldType, Manifest};
use serde_json::{json, Map, Value};

use crate::openapi_envelope::{data_envelope, keyed_envelope};

use plinth_core::{AppService, Limits};

/// `GET {base}/openapi.json`; the server URL is where the document was fetched from.
pub(crate) async fn serve(
    State(app): State<Arc<AppService>>,
    OriginalUri(uri): OriginalUri,
) -> Json<Value> {
    let server = uri.path().trim_end_matches("/openapi.json");
    Json(document(
        app.manifest(),
        if server.is_empty() { "/" } else { server },
        app.rate_limits(),
    ))
}

fn field_schema(field: &Field) -> Value {
    let mut s = match field.kind {
        FieldType::Text => json!({"type": "string"}),
        FieldType::Int => json!({"type": "integer", "format": "int64"}),
        FieldType::Float => json!({"type": "number"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Timestamp => json!({"type": "string", "format": "date-time"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Uuid | FieldType::Relation => json!({"type": "string", "format": "uuid"}),
        FieldType::Email => json!({"type": "string", "format": "email"}),
        FieldType::Url => json!({"type": "string", "format": "uri"}),
        FieldType::Enum => json!({"type": "string", "enum": field.values}),
        FieldType::Json => json!({}),
    };
    // Bounds on text-like fields are lengths (as the validator checks them), on numbers values.
    let text = matches!(
        field.kind,
        FieldType::Text | FieldType::Email | FieldType::Url
    );
    for (key, v) in [("min", field.min), ("max", field.max)] {
        let Some(v) = v else { continue };
        let name = match (key, text) {
            ("min", true) => "minLength",
            ("max", true) => "maxLength",
            ("min", false) => "minimum",
            _ => "maximum",
        };
        // JSON Schema wants integers for lengths; whole bounds are written as integers.
        s[name] = if v.fract() == 0.0 && v.abs() < 9.0e15 {
            json!(v as i64)
        } else {
            json!(v)
        };
    }
    if let Some(p) = &field.pattern {
        s["pattern"] = json!(p);
    }
    if let Some(d) = field.literal_default() {
        s["default"] = d.clone();
    }
    if !field.required && field.kind != FieldType::Json {
        let t = s["type"].clone();
        s["type"] = json!([t, "null"]);
        // JSON Schema checks `enum` too: without null in it, null would still be refused.
        if let Some(values) = s.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
    s
}

/// The record and input schemas of a collection, in the app's wire names.
fn schemas(m: &Manifest, name: &str, coll: &Collection) -> (Value, Value) {
    let mut props = Map::new();
    let mut input = Map::new();
    let mut required = vec![json!("id")];
    let mut input_required = Vec::new();
    props.insert(
        "id".into(),
        json!({"type": "string", "format": "uuid", "readOnly": true}),
    );
    for (fname, f) in coll.fields.iter().filter(|(_, f)| !f.hidden) {
        let wire = m.wire_name(coll, fname);
        props.insert(wire.clone(), field_schema(f));
        input.insert(wire.clone(), field_schema(f));
        required.push(json!(wire));
        if f.required && f.default.is_none() {
            input_required.push(json!(wire));
        }
    }
    for ts in ["created_at", "updated_at"] {
        let kept = if ts == "created_at" {
            coll.has_created_at()
        } else {
            coll.has_updated_at()
        };
        if kept {
            let wire = m.wire_name(coll, ts);
            props.insert(
                wire.clone(),
                json!({"type": "string", "format": "date-time", "readOnly": true}),
            );
            required.push(json!(wire));
        }
    }
    let record =
        json!({"type": "object", "title": name, "properties": props, "required": required});
    let input = json!({"type": "object", "properties": input, "required": input_required, "additionalProperties": false});
    (record, input)
}

fn pascal(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
        .collect()
}

fn error_schema(style: ErrorStyle) -> Value {
    let details = json!({"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}});
    let messages = json!({"type": "array", "items": {"type": "string"}});
    let flattened = json!({"type": "object", "properties": {
        "fieldErrors": {"type": "object", "additionalProperties": messages},
        "formErrors": messages}});
    match style {
        ErrorStyle::Object => {
            json!({"type": "object", "required": ["success", "error"], "properties": {
            "success": {"const": false},
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "details": flattened,
                "timestamp": {"type": "string", "format": "date-time"}, "requestId": {"type": ["string", "null"]}}}}})
        }
        ErrorStyle::String => {
            json!({"type": "object", "required": ["success", "error", "code"], "properties": {
            "success": {"const": false}, "error": {"type": "string"}, "code": {"type": "string"},
            "details": details, "requestId": {"type": ["string", "null"]}}})
        }
    }
}

fn envelope_one(m: &Manifest, name: &str, coll: &Collection, r: &Value) -> Value {
    match m.envelope {
        EnvelopeStyle::Data => data_envelope(r.clone()),
        EnvelopeStyle::Keyed => keyed_envelope(&coll.singular_name(name), r.clone()),
        EnvelopeStyle::Bare => r.clone(),
    }
}

fn envelope_list(m: &Manifest, name: &str, r: &Value) -> Value {
    let meta = json!({"type": "object", "required": ["total", "limit", "offset", "estimated"],
        "properties": {"total": {"type": ["integer", "null"]}, "limit": {"type": "integer"}, "offset": {"type": "integer"}, "estimated": {"type": "boolean"}}});
    let items = json!({"type": "array", "items": r});
    // Every page carries its meta (respond::page), so it is required like the items.
    let (mut env, key) = match m.envelope {
        EnvelopeStyle::Data => (data_envelope(items), "data"),
        EnvelopeStyle::Keyed => (keyed_envelope(name, items), name),
        EnvelopeStyle::Bare => (keyed_envelope("items", items), "items"),
    };
    env["properties"]["meta"] = meta;
    env["required"] = json!([key, "meta"]);
    if m.envelope == EnvelopeStyle::Data {
        env["required"] = json!(["success", "data", "meta"]);
    }
    env
}

/// Build the document; `server` is the URL prefix the paths are relative to, `limits` the
/// rate limits in force (their groups' operations can answer 429).
pub fn document(m: &Manifest, server: &str, limits: Limits) -> Value {
    let mut paths = Map::new();
    let mut components = Map::new();
    components.insert("Error".into(), error_schema(m.errors));
    let err = |desc: &str| json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    for (name, coll) in &m.collections {
        let (record, input) = schemas(m, name, coll);
        let t = pascal(name);
        components.insert(t.clone(), record);
        components.insert(format!("{t}Input"), input);
        let r = json!({"$ref": format!("#/components/schemas/{t}")});
        let body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{t}Input")}}}});
        let ok = |code: &str, schema: Value| json!({code: {"description": "OK", "content": {"application/json": {"schema": schema}}}});
        let mut list_params = vec![
            json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": plinth_records::MAX_LIMIT}}),
            json!({"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}),
            json!({"name": "sort", "in": "query", "description": "comma-separated fields, `-` for descending", "schema": {"type": "string"}}),
            json!({"name": "expand", "in": "query", "description": "relation fields to embed under `expand`, comma-separated", "schema": {"type": "string"}}),
            json!({"name": "count", "in": "query", "description": "how the total is found: exact, estimated (default; a statistic for unfiltered lists of large PostgreSQL tables) or none", "schema": {"type": "string", "enum": ["exact", "estimated", "none"]}}),
            json!({"name": "filter", "in": "query", "description": "expression, e.g. status = \"open\" && (hours >= 10 || title ~ \"vpn\")", "schema": {"type": "string"}}),
        ];
        for (fname, f) in coll
            .fields
            .iter()
            .filter(|(_, f)| f.kind != FieldType::Json && !f.hidden)
        {
            list_params.push(json!({"name": m.wire_name(coll, fname), "in": "query", "description": "equality filter", "schema": field_schema(f)}));
        }
        let mut list_responses = ok("200", envelope_list(m, name, &r));
        list_responses["400"] = err("Bad query");
        let mut create_responses = ok("201", envelope_one(m, name, coll, &r));
        create_responses["400"] = err("Validation failed");
        create_responses["409"] = err("Unique value taken");
        if coll.dedupe.is_some() {
            // A recent equal record is answered instead of creating another.
            create_responses["200"] = ok("200", envelope_one(m, name, coll, &r))["200"].clone();
        }
        let mut view_responses = ok("200", envelope_one(m, name, coll, &r));
        view_responses["404"] = err("Not found");
        view_responses["400"] = err("Bad query");
        let mut update_responses = view_responses.clone();
        update_responses["400"] = err("Validation failed");
        update_responses["409"] = err("Unique value taken");
        let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
        paths.insert(format!("/{name}"), json!({
            "get": {"operationId": format!("list{t}"), "tags": [name], "parameters": list_params, "responses": list_responses},
            "post": {"operationId": format!("create{t}"), "tags": [name], "requestBody": body, "responses": create_responses},
        }));
        paths.insert(format!("/{name}/{{id}}"), json!({
            "parameters": id_param,
            "get": {"operationId": format!("get{t}"), "tags": [name], "parameters": [{"name": "expand", "in": "query", "description": "relation fields to embed under `expand`, comma-separated", "schema": {"type": "string"}}], "responses": view_responses},
            "patch": {"operationId": format!("update{t}"), "tags": [name], "requestBody": body, "responses": update_responses},
            "delete": {"operationId": format!("delete{t}"), "tags": [name], "responses": {"204": {"description": "Deleted"}, "404": err("Not found"), "409": err("Still referenced")}},
        }));
        for (tname, tr) in &coll.transitions {
            let props: Map<String, Value> = tr
                .input
                .iter()
                .filter_map(|f| Some((m.wire_name(coll, f), field_schema(coll.fields.get(f)?))))
                .collect();
            let required: Vec<String> = tr.require.iter().map(|f| m.wire_name(coll, f)).collect();
            let input = json!({"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": props, "required": required, "additionalProperties": false}}}});
            let mut responses = view_responses.clone();
            for (code, desc) in [
                ("400", "Bad input"),
                ("401", "Not signed in"),
                ("403", "Not allowed"),
                ("409", "Not in a state it starts from"),
            ] {
                responses[code] = err(desc);
            }
            paths.insert(format!("/{name}/{{id}}/{tname}"), json!({
                "parameters": id_param,
                "post": {"operationId": format!("{tname}{t}"), "tags": [name], "description": format!("{} -> {}", tr.from.join(" | "), tr.to), "requestBody": input, "responses": responses.clone()},
            }));
            // PATCH {id}/{state field} {"<field>": "<state>"}: through whichever transition leads there.
            let field = m.wire_name(coll, &tr.field);
            let states: Vec<&String> = coll
                .transitions
                .values()
                .filter(|x| x.field == tr.field)
                .map(|x| &x.to)
                .collect();
            let body = json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {field.clone(): {"type": "string", "enum": states}}, "required": [field.clone()]}}}});
            let item = paths
                .entry(format!("/{name}/{{id}}/{field}"))
                .or_insert_with(|| json!({"parameters": id_param}));
            item["patch"] = json!({"operationId": format!("set{}{t}", pascal(&field)), "tags": [name], "description": "move to the state given, through the transition that leads there", "requestBody": body, "responses": responses});
        }
        for (aname, a) in &coll.actions {
            let props: Map<String, Value> = a
                .input
                .iter()
                .filter_map(|(key, f)| Some((key.clone(), field_schema(coll.fields.get(f)?))))
                .collect();
            let input = json!({"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": props, "required": a.require, "additionalProperties": false}}}});
            let mut responses = view_responses.clone();
            for (code, desc) in [
                ("400", "Bad input"),
                ("401", "Not signed in"),
                ("403", "Not allowed"),
                ("409", "Changed meanwhile"),
            ] {
                responses[code] = err(desc);
            }
            let op = |verb: &str| json!({"operationId": format!("{verb}{}{t}", pascal(aname)), "tags": [name], "requestBody": input, "responses": responses});
            paths.insert(
                format!("/{name}/{{id}}/{aname}"),
                json!({"parameters": id_param, "patch": op("patch"), "post": op("post")}),
            );
        }
    }
    add_nested_paths(m, &mut paths, &err);
    crate::openapi_auth::add_paths(m, &mut paths, &err);
    crate::openapi_aggregates::add_paths(m, &mut paths, &err);
    crate::openapi_jobs::add_paths(m, &mut paths, &err);
    // Any operation that takes a body can meet the body limit and the content-type check.
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter(|op| op.get("requestBody").is_some())
    {
        op["responses"]["413"] = err("Body too large");
        op["responses"]["415"] = err("Not JSON");
    }
    for (path, item) in paths.iter_mut() {
        let group = if crate::actions::AUTH_GROUP.contains(&path.as_str()) {
            limits.auth
        } else {
            limits.api
        };
        let Some(limit) = group else { continue };
        let item = item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut());
        for op in item.filter(|op| op.get("responses").is_some()) {
            let mut too_many = err(&format!(
                "Rate limited: more than {} requests in {} s",
                limit.max, limit.window_secs
            ));
            too_many["headers"] = json!({"Retry-After": {"description": "seconds until the window ends", "schema": {"type": "integer", "minimum": 1}}});
            op["responses"]["429"] = too_many;
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": m.name, "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": server}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "an access token from auth/login, or a service token (pst_...)"}}},
    })
}

/// `GET` and `POST {collection}/{id}/{included}`: the records under a record.
fn add_nested_paths(m: &Manifest, paths: &mut Map<String, Value>, err: &dyn Fn(&str) -> Value) {
    for (name, coll) in &m.collections {
        for child in coll.include.keys() {
            let Some(c) = m.collections.get(child) else {
                continue;
            };
            let t = pascal(child);
            let r = json!({"$ref": format!("#/components/schemas/{t}")});
            let ok = |code: &str, schema: Value| json!({code: {"description": "OK", "content": {"application/json": {"schema": schema}}}});
            let mut list = ok("200", envelope_list(m, child, &r));
            list["400"] = err("Bad query");
            list["404"] = err("No such parent record");
            let mut create = ok("201", envelope_one(m, child, c, &r));
            create["400"] = err("Validation failed");
            create["401"] = err("Not signed in");
            create["403"] = err("Not allowed");
            create["404"] = err("No such parent record");
            let body = json!({"required": false, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{t}Input")}}}});
            let params = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
            paths.insert(format!("/{name}/{{id}}/{child}"), json!({
                "parameters": params,
                "get": {"operationId": format!("list{t}Of{}", pascal(name)), "tags": [name], "responses": list},
                "post": {"operationId": format!("create{t}Of{}", pascal(name)), "tags": [name], "description": "the relation to the parent is set from the path", "requestBody": body, "responses": create},
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_enums_admit_null_in_both_keywords() {
        let src = "name: t\nbase: /api\ncollections:\n  notes:\n    fields:\n      \
                   level: { type: enum, values: [low, high] }\n      \
                   kind: { type: enum, values: [a, b], required: true }\n    \
                   rules: { list: '', view: '', create: '', update: '', delete: '' }\n";
        let m = plinth_manifest::parse(src).expect("manifest");
        let doc = document(&m, "/api", Limits::default());
        let props = &doc["components"]["schemas"]["NotesInput"]["properties"];
        assert_eq!(props["level"]["type"], json!(["string", "null"]));
        assert_eq!(props["level"]["enum"], json!(["low", "high", null]));
        assert_eq!(props["kind"]["enum"], json!(["a", "b"]));
    }
}
