//! Request extractors whose rejections are [`ApiError`]s in the app's style.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use plinth_core::{AppService, Caller, Ctx};
use std::sync::Arc;

use crate::error::{ApiError, ErrorCode};

/// The error of a body that could not be read: too large (413), or broken off.
fn read_failed(e: BytesRejection) -> ApiError {
    match e {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::new(ErrorCode::PayloadTooLarge, "The request body is too large")
        }
        _ => ApiError::new(ErrorCode::Validation, "The request body could not be read"),
    }
}

/// A JSON request body: `application/json`, within the size limit, well-formed.
pub(crate) struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Expected a request body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(read_failed)?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::new(ErrorCode::Validation, format!("Malformed JSON: {e}")))
    }
}

/// A JSON body, or `null` when the request has none (actions whose input is optional).
pub(crate) struct MaybeJsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for MaybeJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(read_failed)?;
        // No body at all, even when a client library adds `Content-Type: application/json`
        // to every request: no input.
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeJsonBody(serde_json::Value::Null));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        JsonBody::from_request(req, state)
            .await
            .map(|JsonBody(v)| MaybeJsonBody(v))
    }
}

/// Query-string pairs in order (repeated keys kept).
pub(crate) struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| QueryPairs(q))
            .map_err(|_| ApiError::new(ErrorCode::Validation, "Malformed query string"))
    }
}

/// The request's [`Ctx`]: its request id (set by the request-id layer), the app, the
/// caller (anonymous until auth fills it in) and the clock reading for the request.
pub(crate) struct ReqCtx(pub Ctx);

/// A caller already authenticated by the rate limiter, so the token is checked once.
#[derive(Clone)]
pub(crate) struct Authenticated(pub Caller);

/// A context for the request with an anonymous caller.
pub(crate) fn anonymous_ctx(headers: &HeaderMap, app: &AppService) -> Ctx {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Ctx::new(app.name().clone(), request_id, Caller::Anonymous)
}

/// The caller the `Authorization` header names. A token that is present must be valid: a
/// bad one is a 401, never anonymous.
pub(crate) async fn caller(
    headers: &HeaderMap,
    app: &AppService,
    ctx: &Ctx,
) -> Result<Caller, ApiError> {
    let Some(v) = headers.get(AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let token = v
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "Authorization must be `Bearer <token>`",
            )
        })?;
    Ok(app.authenticate(ctx, token.trim()).await?)
}

impl FromRequestParts<Arc<AppService>> for ReqCtx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppService>,
    ) -> Result<Self, Self::Rejection> {
        let mut ctx = anonymous_ctx(&parts.headers, app);
        ctx.caller = match parts.extensions.remove::<Authenticated>() {
            Some(Authenticated(c)) => c,
            None => caller(&parts.headers, app, &ctx).await?,
        };
        Ok(ReqCtx(ctx))
    }
}
