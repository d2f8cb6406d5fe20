//! `PATCH {base}/{collection}/{id}`: change the fields given, leave the rest.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_records::Mode;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{record_id, JsonBody};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    Path((name, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let id = record_id(&id)?;
    let row = app.validator.record(&name, coll, &body, Mode::Update)?;
    let rec = app
        .store
        .update(&name, id, row)
        .await?
        .ok_or_else(|| ApiError::not_found("Record not found"))?;
    Ok(respond::one(&app.manifest, &name, StatusCode::OK, rec))
}
