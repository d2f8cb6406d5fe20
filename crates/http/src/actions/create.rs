//! `POST {base}/{collection}`: create a record.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

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
    let rec = app.create(&ctx, coll, &body).await?;
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::CREATED,
        &rec,
    ))
}
