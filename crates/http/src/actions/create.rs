//! `POST {base}/{collection}`: create a record (201), or for a collection that dedupes,
//! answer a recent equal record (200) and create nothing.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_core::Created;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{JsonBody, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let (status, rec) = match app.insert(&ctx, coll, &body).await? {
        Created::New(rec) => (StatusCode::CREATED, rec),
        Created::Existing(rec) => (StatusCode::OK, rec),
    };
    Ok(respond::one(app.manifest().envelope, coll, status, &rec))
}
