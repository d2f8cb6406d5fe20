//! `POST {base}/{collection}/{id}/{transition}`: a named state transition (CloudDrift's
//! `drifts/:id/approve`), with its input fields as the body; and
//! `PATCH {base}/{collection}/{id}/{state field}`: move to the state the body names
//! (Sim-Flow's `requests/:id/status`). A named action answers both (`requests/:id/assign`).
//! An included list is reached the same way: `POST` creates a record under the parent
//! (`requests/:id/comments`), `GET` lists them.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_core::Created;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{JsonBody, MaybeJsonBody, QueryPairs, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id, action)): Path<(String, String, String)>,
    MaybeJsonBody(body): MaybeJsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    if coll.def.include.contains_key(&action) {
        let (child, created) = app.create_under(&ctx, coll, &id, &action, &body).await?;
        let (status, rec) = match created {
            Created::New(rec) => (StatusCode::CREATED, rec),
            Created::Existing(rec) => (StatusCode::OK, rec),
        };
        return Ok(respond::one(app.manifest().envelope, &child, status, &rec));
    }
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

/// `GET {base}/{collection}/{id}/{included}`: the records under record `id`.
pub(crate) async fn list_under(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id, child)): Path<(String, String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let (child, page) = app.list_under(&ctx, coll, &id, &child, &pairs).await?;
    Ok(respond::page(app.manifest().envelope, &child, &page))
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
