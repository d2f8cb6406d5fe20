//! `DELETE {base}/{collection}/{id}`: remove a record (204, no body).

use axum::extract::Path;
use axum::http::StatusCode;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::record_id;

pub(crate) async fn handle(
    app: App,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    collection(&app, &name)?;
    let id = record_id(&id)?;
    if app.store.delete(&name, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("Record not found"))
    }
}
