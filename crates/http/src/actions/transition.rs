//! `POST {base}/{collection}/{id}/{transition}`: a named state transition (CloudDrift's
//! `drifts/:id/approve`), with its input fields as the body.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{MaybeJsonBody, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id, action)): Path<(String, String, String)>,
    MaybeJsonBody(body): MaybeJsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let rec = app.transition(&ctx, coll, &id, &action, &body).await?;
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &rec,
    ))
}
