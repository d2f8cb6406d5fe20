//! Success envelopes in the app's style (DESIGN.md): `data`, `keyed` or `bare`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use plinth_manifest::{EnvelopeStyle, Manifest};
use plinth_store::{Page, Record};
use serde_json::{json, Value};

/// One record, e.g. after view, create or update.
pub(crate) fn one(
    manifest: &Manifest,
    collection: &str,
    status: StatusCode,
    rec: Record,
) -> Response {
    let body = match manifest.envelope {
        EnvelopeStyle::Data => json!({"success": true, "data": rec}),
        EnvelopeStyle::Keyed => {
            let key = manifest
                .collection(collection)
                .map_or_else(|| collection.to_owned(), |c| c.singular_name(collection));
            json!({ key: rec })
        }
        EnvelopeStyle::Bare => Value::Object(rec),
    };
    (status, Json(body)).into_response()
}

/// A page of records with its paging meta.
pub(crate) fn page(manifest: &Manifest, collection: &str, page: Page) -> Response {
    let meta = json!({"total": page.total, "limit": page.limit, "offset": page.offset});
    let body = match manifest.envelope {
        EnvelopeStyle::Data => json!({"success": true, "data": page.items, "meta": meta}),
        EnvelopeStyle::Keyed => json!({ collection: page.items, "meta": meta }),
        EnvelopeStyle::Bare => json!({"items": page.items, "meta": meta}),
    };
    (StatusCode::OK, Json(body)).into_response()
}
