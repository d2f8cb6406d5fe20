//! `GET {base}/{collection}/{id}`: one record.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id)): Path<(String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let rec = app.view(&ctx, coll, &id, &pairs).await?;
    if !coll.def.include.is_empty() {
        let lists = app.includes(&ctx, coll, &rec).await?;
        return Ok(respond::one_with(
            app.manifest().envelope,
            coll,
            &rec,
            &lists,
        ));
    }
    Ok(respond::one(
        app.manifest().envelope,
        coll,
        StatusCode::OK,
        &rec,
    ))
}
