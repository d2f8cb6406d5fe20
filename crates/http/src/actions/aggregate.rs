//! `GET {base}/{path}` of a named aggregate: an object of measures or a list of groups.

use axum::response::Response;

use super::App;
use crate::error::ApiError;
use crate::extract::{QueryPairs, ReqCtx};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    QueryPairs(pairs): QueryPairs,
    path: &str,
) -> Result<Response, ApiError> {
    let value = app.aggregate(&ctx, path, &pairs).await?;
    let key = app.aggregate_name(path).unwrap_or(path);
    Ok(respond::value(app.manifest().envelope, key, &value))
}
