//! Success envelopes in the app's style (DESIGN.md): `data`, `keyed` or `bare`. Records are
//! serialised straight into the response body: no intermediate JSON tree.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use plinth_core::{CollectionHandle, Page, Record};
use plinth_manifest::EnvelopeStyle;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// Paging facts of a list.
#[derive(serde::Serialize)]
struct Meta {
    total: Option<u64>,
    limit: u32,
    offset: u64,
    /// Present (true) only when the total is a statistic rather than a count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    estimated: bool,
}

/// `{"success": true, "data": ..., "meta"?: ...}`
#[derive(serde::Serialize)]
struct Data<'a, T: Serialize + ?Sized> {
    success: bool,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<Meta>,
}

/// `{<key>: ..., "meta"?: ...}` (keyed) or `{"items": ..., "meta": ...}` (bare lists).
struct Keyed<'a, T: Serialize + ?Sized> {
    key: &'a str,
    value: &'a T,
    meta: Option<Meta>,
}

impl<T: Serialize + ?Sized> Serialize for Keyed<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(self.key, self.value)?;
        if let Some(meta) = &self.meta {
            map.serialize_entry("meta", meta)?;
        }
        map.end()
    }
}

/// One record with related lists (`include:`): keyed beside the record
/// (`{request, comments}`), else as extra keys of the record itself.
pub(crate) fn one_with(
    style: EnvelopeStyle,
    coll: &CollectionHandle,
    rec: &Record,
    includes: &[(String, Vec<Record>)],
) -> Response {
    let lists = includes
        .iter()
        .map(|(name, recs)| (name.clone(), serde_json::to_value(recs).unwrap_or_default()));
    let mut body = serde_json::Map::new();
    match style {
        EnvelopeStyle::Keyed => {
            body.insert(
                coll.singular.clone(),
                serde_json::to_value(rec).unwrap_or_default(),
            );
            body.extend(lists);
        }
        EnvelopeStyle::Data | EnvelopeStyle::Bare => {
            if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(rec) {
                body = fields;
            }
            body.extend(lists);
        }
    }
    let body = serde_json::Value::Object(body);
    match style {
        EnvelopeStyle::Data => Json(Data {
            success: true,
            data: &body,
            meta: None,
        })
        .into_response(),
        _ => Json(body).into_response(),
    }
}

/// A computed value (an aggregate): in `data`, under `key` (keyed), or as is.
pub(crate) fn value(style: EnvelopeStyle, key: &str, value: &serde_json::Value) -> Response {
    match style {
        EnvelopeStyle::Data => Json(Data {
            success: true,
            data: value,
            meta: None,
        })
        .into_response(),
        EnvelopeStyle::Keyed => Json(Keyed {
            key,
            value,
            meta: None,
        })
        .into_response(),
        EnvelopeStyle::Bare => Json(value).into_response(),
    }
}

/// One record, e.g. after view, create or update.
pub(crate) fn one(
    style: EnvelopeStyle,
    coll: &CollectionHandle,
    status: StatusCode,
    rec: &Record,
) -> Response {
    match style {
        EnvelopeStyle::Data => (
            status,
            Json(Data {
                success: true,
                data: rec,
                meta: None,
            }),
        )
            .into_response(),
        EnvelopeStyle::Keyed => (
            status,
            Json(Keyed {
                key: &coll.singular,
                value: rec,
                meta: None,
            }),
        )
            .into_response(),
        EnvelopeStyle::Bare => (status, Json(rec)).into_response(),
    }
}

/// A page of records with its paging meta.
pub(crate) fn page(style: EnvelopeStyle, coll: &CollectionHandle, page: &Page) -> Response {
    let meta = Some(Meta {
        total: page.total.map(|t| t.count),
        limit: page.limit,
        offset: page.offset,
        estimated: page.total.is_some_and(|t| t.estimated),
    });
    let items = page.items.as_slice();
    match style {
        EnvelopeStyle::Data => Json(Data {
            success: true,
            data: items,
            meta,
        })
        .into_response(),
        EnvelopeStyle::Keyed => Json(Keyed {
            key: &coll.name,
            value: items,
            meta,
        })
        .into_response(),
        EnvelopeStyle::Bare => Json(Keyed {
            key: "items",
            value: items,
            meta,
        })
        .into_response(),
    }
}
