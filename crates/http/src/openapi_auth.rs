//! The sign-in endpoints (`auth/*`) in an app's OpenAPI document.

use plinth_manifest::{EnvelopeStyle, Manifest};
use serde_json::{json, Map, Value};

fn wrap(m: &Manifest, body: Value) -> Value {
    match m.envelope {
        EnvelopeStyle::Data => crate::openapi_envelope::data_envelope(body),
        EnvelopeStyle::Keyed | EnvelopeStyle::Bare => body,
    }
}

fn json_body(schema: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema}}})
}

fn string_props(names: &[&str]) -> Value {
    let props: Map<String, Value> = names
        .iter()
        .map(|n| ((*n).to_owned(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": props, "required": names})
}

/// Add the `auth/*` paths; `err` makes an error response in the app's error schema.
pub(crate) fn add_paths(m: &Manifest, paths: &mut Map<String, Value>, err: &dyn Fn(&str) -> Value) {
    let refresh = m.naming.apply("refresh_token");
    let user = if m.collections.contains_key(plinth_manifest::USERS) {
        json!({"$ref": "#/components/schemas/Users"})
    } else {
        json!({"type": "object"})
    };
    let signed_in = wrap(
        m,
        json!({"type": "object", "properties": {"user": user, "token": {"type": "string"}, refresh.clone(): {"type": "string"}}, "required": ["user", "token", refresh.clone()]}),
    );
    let ok = |code: &str, schema: &Value| json!({code: {"description": "OK", "content": {"application/json": {"schema": schema}}}});
    let with = |mut responses: Value, codes: &[(&str, &str)]| {
        for (code, desc) in codes {
            responses[*code] = err(desc);
        }
        responses
    };
    let bearer = json!([{"bearerAuth": []}]);
    let register_body = json!({"type": "object", "properties": {"email": {"type": "string", "format": "email"}, "password": {"type": "string", "minLength": 8, "maxLength": 128}}, "required": ["email", "password"], "description": "the user's fields in the app's naming, plus `password`"});
    let tag = json!(["auth"]);
    paths.insert("/auth/register".into(), json!({"post": {"operationId": "authRegister", "tags": tag, "requestBody": json_body(register_body), "responses": with(ok("201", &signed_in), &[("400", "Validation failed"), ("409", "Email taken")])}}));
    paths.insert("/auth/login".into(), json!({"post": {"operationId": "authLogin", "tags": tag, "requestBody": json_body(string_props(&["email", "password"])), "responses": with(ok("200", &signed_in), &[("400", "Missing fields"), ("401", "Invalid credentials or locked")])}}));
    paths.insert("/auth/refresh".into(), json!({"post": {"operationId": "authRefresh", "tags": tag, "requestBody": json_body(string_props(&[refresh.as_str()])), "responses": with(ok("200", &signed_in), &[("400", "Missing token"), ("401", "Invalid, used or expired token")])}}));
    let none = json!({"204": {"description": "Done"}});
    paths.insert("/auth/logout".into(), json!({"post": {"operationId": "authLogout", "tags": tag, "security": bearer, "responses": with(none.clone(), &[("401", "Not signed in")])}}));
    paths.insert("/auth/logout-all".into(), json!({"post": {"operationId": "authLogoutAll", "tags": tag, "security": bearer, "responses": with(none.clone(), &[("401", "Not signed in")])}}));
    let me = wrap(m, json!({"type": "object", "properties": {"user": user}}));
    paths.insert("/auth/me".into(), json!({"get": {"operationId": "authMe", "tags": tag, "security": bearer, "responses": with(ok("200", &me), &[("401", "Not signed in")])}}));
    let sessions = wrap(
        m,
        json!({"type": "object", "properties": {"sessions": {"type": "array", "items": {"type": "object"}}}}),
    );
    paths.insert("/auth/sessions".into(), json!({"get": {"operationId": "authSessions", "tags": tag, "security": bearer, "responses": with(ok("200", &sessions), &[("401", "Not signed in")])}}));
    paths.insert("/auth/sessions/{id}".into(), json!({"delete": {"operationId": "authRevokeSession", "tags": tag, "security": bearer, "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}], "responses": with(none.clone(), &[("401", "Not signed in"), ("404", "No such session")])}}));
    let (cur, new) = (
        m.naming.apply("current_password"),
        m.naming.apply("new_password"),
    );
    paths.insert("/auth/password".into(), json!({"post": {"operationId": "authPassword", "tags": tag, "security": bearer, "requestBody": json_body(string_props(&[cur.as_str(), new.as_str()])), "responses": with(none, &[("400", "Validation failed"), ("401", "Not signed in")])}}));
}
