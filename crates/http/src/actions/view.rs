//! `GET {base}/{collection}/{id}`: one record.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::record_id;
use crate::respond;

pub(crate) async fn handle(
    app: App,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    collection(&app, &name)?;
    let id = record_id(&id)?;
    let rec = app
        .store
        .get(&name, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Record not found"))?;
    Ok(respond::one(&app.manifest, &name, StatusCode::OK, rec))
}
