//! `DELETE {base}/{collection}/{id}`: remove a record (204, no body).

use axum::extract::Path;
use axum::http::StatusCode;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::ReqCtx;

pub(crate) async fn handle(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let coll = collection(&app, &name)?;
    app.delete(&ctx, coll, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
