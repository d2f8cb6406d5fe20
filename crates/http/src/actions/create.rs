//! `POST {base}/{collection}`: create a record from a validated body.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_records::Mode;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::respond;

pub(crate) async fn handle(
    app: App,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let row = app.validator.record(&name, coll, &body, Mode::Create)?;
    let rec = app.store.create(&name, row).await?;
    Ok(respond::one(&app.manifest, &name, StatusCode::CREATED, rec))
}
