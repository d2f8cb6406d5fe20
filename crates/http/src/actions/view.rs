//! `GET {base}/{collection}/{id}`: one record.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use plinth_records::{parse_expand, FieldError, ValidationError};

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::{record_id, QueryPairs};
use crate::respond;

pub(crate) async fn handle(
    app: App,
    Path((name, id)): Path<(String, String)>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let mut expand = Vec::new();
    let mut details = Vec::new();
    for (key, raw) in &pairs {
        match key.as_str() {
            "expand" => match parse_expand(coll, raw) {
                Ok(e) => expand = e,
                Err(e) => details.push(e),
            },
            other => details.push(FieldError::new(other, "is not a query parameter here")),
        }
    }
    if !details.is_empty() {
        return Err(ValidationError { details }.into());
    }
    let id = record_id(&id)?;
    let rec = app
        .store
        .get(&name, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Record not found"))?;
    let mut recs = [rec];
    if !expand.is_empty() {
        app.store.expand(&name, &mut recs, &expand).await?;
    }
    let [rec] = recs;
    Ok(respond::one(&app.manifest, &name, StatusCode::OK, rec))
}
