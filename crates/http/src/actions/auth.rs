//! `{base}/auth/*`: register, login, refresh, logout, me.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use plinth_core::SignedIn;
use plinth_manifest::EnvelopeStyle;
use serde_json::{json, Map, Value};

use super::App;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{JsonBody, ReqCtx};

/// `{user, token, refreshToken}` (the refresh key in the app's naming) in the app's envelope.
fn signed_in(app: &App, status: StatusCode, s: SignedIn) -> Result<Response, ApiError> {
    let m = app.manifest();
    let mut body = Map::new();
    body.insert("user".into(), s.user.to_json());
    body.insert("token".into(), Value::String(s.token));
    body.insert(
        m.naming.apply("refresh_token"),
        Value::String(s.refresh_token),
    );
    Ok(envelope(m.envelope, status, Value::Object(body)))
}

fn envelope(style: EnvelopeStyle, status: StatusCode, body: Value) -> Response {
    let body = match style {
        EnvelopeStyle::Data => json!({"success": true, "data": body}),
        EnvelopeStyle::Keyed | EnvelopeStyle::Bare => body,
    };
    (status, Json(body)).into_response()
}

/// `POST auth/register`: create a user and sign it in (201).
pub(crate) async fn register(
    app: App,
    ReqCtx(ctx): ReqCtx,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let s = app.register(&ctx, &body).await?;
    signed_in(&app, StatusCode::CREATED, s)
}

/// `POST auth/login`.
pub(crate) async fn login(
    app: App,
    ReqCtx(ctx): ReqCtx,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let s = app.login(&ctx, &body).await?;
    signed_in(&app, StatusCode::OK, s)
}

/// `POST auth/refresh` with `{refreshToken}` (or `refresh_token`, per the app's naming).
pub(crate) async fn refresh(
    app: App,
    ReqCtx(ctx): ReqCtx,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = app.manifest().naming.apply("refresh_token");
    let token = body
        .get(&key)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::new(ErrorCode::Validation, format!("`{key}` is required")))?;
    let s = app.refresh(&ctx, token).await?;
    signed_in(&app, StatusCode::OK, s)
}

/// `POST auth/logout`: revoke the caller's session (204).
pub(crate) async fn logout(app: App, ReqCtx(ctx): ReqCtx) -> Result<StatusCode, ApiError> {
    app.logout(&ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET auth/me`: the caller's user record.
pub(crate) async fn me(app: App, ReqCtx(ctx): ReqCtx) -> Result<Response, ApiError> {
    let user = app.me(&ctx).await?;
    let mut body = Map::new();
    body.insert("user".into(), user.to_json());
    Ok(envelope(
        app.manifest().envelope,
        StatusCode::OK,
        Value::Object(body),
    ))
}

/// `POST auth/logout-all`: revoke every session of the caller (204).
pub(crate) async fn logout_all(app: App, ReqCtx(ctx): ReqCtx) -> Result<StatusCode, ApiError> {
    app.logout_all(&ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET auth/sessions`: the caller's live sessions.
pub(crate) async fn sessions(app: App, ReqCtx(ctx): ReqCtx) -> Result<Response, ApiError> {
    let list = app.list_sessions(&ctx).await?;
    let items: Vec<Value> = list.iter().map(plinth_core::Record::to_json).collect();
    let mut body = Map::new();
    body.insert("sessions".into(), Value::Array(items));
    Ok(envelope(
        app.manifest().envelope,
        StatusCode::OK,
        Value::Object(body),
    ))
}

/// `DELETE auth/sessions/{id}`: revoke one of the caller's sessions (204).
pub(crate) async fn revoke_session(
    app: App,
    ReqCtx(ctx): ReqCtx,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    app.revoke_session(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST auth/password`: change the caller's password; other sessions are revoked (204).
pub(crate) async fn password(
    app: App,
    ReqCtx(ctx): ReqCtx,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    app.change_password(&ctx, &body).await?;
    Ok(StatusCode::NO_CONTENT)
}
