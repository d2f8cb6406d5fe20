//! `POST {base}/{collection}/{id}/{transition}`: a named state transition (CloudDrift's
//! `drifts/:id/approve`), with its input fields as the body; and
//! `PATCH {base}/{collection}/{id}/{state field}`: move to the state the body names
//! (Sim-Flow's `requests/:id/status`). A named action answers both (`requests/:id/assign`).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{JsonBody, MaybeJsonBody, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id, action)): Path<(String, String, String)>,
    MaybeJsonBody(body): MaybeJsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let rec = if coll.def.actions.contains_key(&action) {
        app.action(&ctx, coll, &id, &action, &body).await?
    } else {
        app.transition(&ctx, coll, &id, &action, &body).await?
    };
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &rec,
    ))
}

pub(crate) async fn set_state(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id, field)): Path<(String, String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let rec = if coll.def.actions.contains_key(&field) {
        app.action(&ctx, coll, &id, &field, &body).await?
    } else {
        app.move_state(&ctx, coll, &id, &field, &body).await?
    };
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &rec,
    ))
}
