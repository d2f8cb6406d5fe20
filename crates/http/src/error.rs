//! The one error type of the HTTP layer and its one mapping to responses.
//!
//! Handlers return [`ApiError`]; its response carries the error as an extension, and the
//! app's render layer writes it in the app's wire style with the request id. Store and
//! validation errors are mapped here and nowhere else.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use plinth_core::CoreError;
use plinth_manifest::ErrorStyle;
use plinth_records::{FieldError, ValidationError};
use plinth_store::StoreError;
use serde_json::{json, Value};

/// Machine-readable error codes (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Input does not fit.
    Validation,
    /// No or bad credentials.
    Unauthenticated,
    /// Not allowed.
    Forbidden,
    /// No such route or record.
    NotFound,
    /// The route exists, the method does not.
    MethodNotAllowed,
    /// Unique or reference conflict.
    Conflict,
    /// Too many requests.
    RateLimited,
    /// Body over the limit.
    PayloadTooLarge,
    /// Body not JSON.
    UnsupportedMediaType,
    /// Our fault.
    Internal,
    /// A dependency is down.
    Unavailable,
}

impl ErrorCode {
    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "VALIDATION_ERROR",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Unavailable => "UNAVAILABLE",
        }
    }

    /// The HTTP status for the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Validation => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error answered to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// What kind of error.
    pub code: ErrorCode,
    /// For a person; never SQL or internals.
    pub message: String,
    /// Per-field problems.
    pub details: Vec<FieldError>,
    /// Status to answer with when it is not the code's usual one.
    pub status: Option<StatusCode>,
    /// Seconds for a `Retry-After` header (rate limits).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// The HTTP status answered.
    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// An error with a message and no details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: Vec::new(),
            status: None,
            retry_after: None,
        }
    }

    /// 404 for a missing record or route.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, what)
    }

    /// The error for a bare status from the framework (a rejection without our body).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => (ErrorCode::NotFound, "No such route"),
            StatusCode::METHOD_NOT_ALLOWED => (
                ErrorCode::MethodNotAllowed,
                "Method not allowed on this path",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                (ErrorCode::PayloadTooLarge, "The request body is too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                ErrorCode::UnsupportedMediaType,
                "Expected a request body with Content-Type: application/json",
            ),
            s if s.is_client_error() => (ErrorCode::Validation, "Malformed request"),
            StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::Unavailable, "Service unavailable"),
            _ => (ErrorCode::Internal, "Internal server error"),
        };
        // Keep the framework's status (e.g. 400 vs 422) rather than the code's default.
        let mut err = ApiError::new(code, message);
        err.status = Some(status);
        err
    }

    /// The error's JSON body in an app's style.
    pub fn body(&self, style: ErrorStyle, request_id: Option<&str>) -> Value {
        let details: Option<Value> = (!self.details.is_empty()).then(|| match style {
            ErrorStyle::Object => object_details(&self.details),
            ErrorStyle::String => json!(self.details),
        });
        match style {
            ErrorStyle::Object => {
                let mut error = json!({
                    "code": self.code.as_str(),
                    "message": self.message,
                    "timestamp": plinth_records::format_timestamp(&chrono::Utc::now()),
                    "requestId": request_id,
                });
                if let Some(d) = details {
                    error["details"] = d;
                }
                json!({"success": false, "error": error})
            }
            ErrorStyle::String => {
                let mut body = json!({
                    "success": false,
                    "error": self.message,
                    "code": self.code.as_str(),
                    "requestId": request_id,
                });
                if let Some(d) = details {
                    body["details"] = d;
                }
                body
            }
        }
    }

    /// Write the error in an app's style.
    pub fn render(&self, style: ErrorStyle, request_id: Option<&str>) -> Response {
        let body = self.body(style, request_id);
        let mut res = (self.status(), axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

/// The `object` style's `details`, an object as the seeds' error envelope has it, in the
/// shape of Zod's `flatten()` (what their TypeScript frontends already read): messages by
/// field (wire name or query parameter) under `fieldErrors`, and the body's own under
/// `formErrors`. Fields keep the order they were found in.
fn object_details(details: &[FieldError]) -> Value {
    let mut fields = serde_json::Map::new();
    let mut form = Vec::new();
    for d in details {
        if d.field.is_empty() {
            form.push(json!(d.message));
            continue;
        }
        let messages = fields.entry(d.field.clone()).or_insert_with(|| json!([]));
        if let Value::Array(list) = messages {
            list.push(json!(d.message));
        }
    }
    json!({"fieldErrors": fields, "formErrors": form})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The render layer turns this into the app's envelope; the status is set now so
        // that logs and metrics see it even before rendering.
        let mut res = self.status().into_response();
        res.extensions_mut().insert(self);
        res
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        let message = match e.details.as_slice() {
            [one] if one.field.is_empty() => one.message.clone(),
            [one] => format!("Validation failed: {} {}", one.field, one.message),
            _ => "Validation failed".to_owned(),
        };
        ApiError {
            code: ErrorCode::Validation,
            message,
            details: e.details,
            status: None,
            retry_after: None,
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Validation(v) => v.into(),
            CoreError::NotFound(msg) => ApiError::not_found(msg),
            CoreError::Unauthenticated(msg) => ApiError::new(ErrorCode::Unauthenticated, msg),
            CoreError::Forbidden(msg) => ApiError::new(ErrorCode::Forbidden, msg),
            CoreError::Conflict(msg) => ApiError::new(ErrorCode::Conflict, msg),
            CoreError::NotAllowed(msg) => ApiError::new(ErrorCode::MethodNotAllowed, msg),
            CoreError::Duplicate { fields } => ApiError {
                code: ErrorCode::Conflict,
                message: "A record with the same unique value already exists".into(),
                details: fields
                    .into_iter()
                    .map(|f| FieldError::new(f, "is already taken"))
                    .collect(),
                ..ApiError::new(ErrorCode::Conflict, "")
            },
            CoreError::InvalidReference { fields } => ApiError {
                code: ErrorCode::Validation,
                message: "A related record does not exist".into(),
                details: fields
                    .into_iter()
                    .map(|f| FieldError::new(f, "references a record that does not exist"))
                    .collect(),
                ..ApiError::new(ErrorCode::Validation, "")
            },
            CoreError::StillReferenced => ApiError::new(
                ErrorCode::Conflict,
                "The record is still referenced by other records",
            ),
            CoreError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(ErrorCode::RateLimited, "Too many requests; try again later")
            },
            CoreError::Store(StoreError::Unavailable(msg)) => {
                tracing::error!(error = %msg, "database unavailable");
                ApiError::new(ErrorCode::Unavailable, "The database is unavailable")
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(ErrorCode::Internal, "Internal server error")
            }
        }
    }
}
