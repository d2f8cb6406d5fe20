//! The job API under `{base}/_jobs` (admins and service tokens; docs/jobs.md): list with
//! the usual filters, one job, cancel, retry.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_core::jobs::JOBS;
use plinth_core::{AppService, CollectionHandle};
use uuid::Uuid;

use super::App;
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};
use crate::respond;

fn queue(app: &AppService) -> Result<&CollectionHandle, ApiError> {
    app.any_collection(JOBS)
        .map(|c| &**c)
        .ok_or_else(|| ApiError::not_found("No such route"))
}

fn job_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found("Job not found"))
}

/// `GET {base}/_jobs?status=failed&kind=export`.
pub(crate) async fn list(
    app: App,
    ReqCtx(ctx): ReqCtx,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = queue(&app)?;
    app.require_job_admin(&ctx).await?;
    let page = app.list(&ctx, coll, &pairs).await?;
    Ok(respond::page(app.manifest().envelope, coll, &page))
}

/// `GET {base}/_jobs/{id}`.
pub(crate) async fn view(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path(id): Path<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = queue(&app)?;
    app.require_job_admin(&ctx).await?;
    let rec = app.view(&ctx, coll, &id, &pairs).await?;
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &rec,
    ))
}

/// `POST {base}/_jobs/{id}/cancel|retry`.
pub(crate) async fn act(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let coll = queue(&app)?;
    let id = job_id(&id)?;
    let job = match action.as_str() {
        "cancel" => app.cancel_job(&ctx, id).await?,
        "retry" => app.retry_job(&ctx, id).await?,
        _ => return Err(ApiError::not_found("No such route")),
    };
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &job.record,
    ))
}
