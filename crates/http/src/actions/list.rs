//! `GET {base}/{collection}`: a page of records.

use axum::extract::Path;
use axum::response::Response;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path(name): Path<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let page = app.list(&ctx, coll, &pairs).await?;
    Ok(respond::page(app.manifest().envelope, coll, &page))
}
