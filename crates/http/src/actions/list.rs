//! `GET {base}/{collection}`: a page of records.

use axum::extract::Path;
use axum::response::Response;
use plinth_records::ListQuery;

use super::{collection, App};
use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::respond;

pub(crate) async fn handle(
    app: App,
    Path(name): Path<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, ApiError> {
    let coll = collection(&app, &name)?;
    let query = ListQuery::parse(&name, coll, &app.validator, &pairs)?;
    let mut page = app.store.list(&name, &query).await?;
    if !query.expand.is_empty() {
        app.store
            .expand(&name, &mut page.items, &query.expand)
            .await?;
    }
    Ok(respond::page(&app.manifest, &name, page))
}
