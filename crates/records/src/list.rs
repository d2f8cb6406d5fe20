//! List queries: paging, sorting and equality filters parsed from a query string.

use plinth_manifest::{Collection, FieldType};
use uuid::Uuid;

use crate::{FieldError, Filter, ValidationError, Validator, Value};

/// Page size when the client names none.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 500;

/// How a list's total is found (`count=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TotalMode {
    /// Always `COUNT(*)`.
    Exact,
    /// Exact, except an unfiltered list of a large PostgreSQL table, which reports the
    /// table's live-row statistic (marked `estimated`).
    #[default]
    Estimated,
    /// No total (`meta.total` is null).
    Skip,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// Column name.
    pub field: String,
    /// Descending order.
    pub desc: bool,
}

/// A parsed list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
    /// Sort keys, most significant first; `id` always ends the list so pages are stable
    /// (alone, descending, when the client names no sort: newest first).
    pub sort: Vec<SortKey>,
    /// Equality filters (`?status=open`), all must hold.
    pub equals: Vec<(String, Value)>,
    /// A `filter=` expression, which must hold too.
    pub filter: Option<Filter>,
    /// Relation fields whose records are embedded under `expand`.
    pub expand: Vec<String>,
    /// How the total is found.
    pub total: TotalMode,
}

impl Validator {
    /// Parse `expand=a,b` (wire names): each must be a relation field of `coll`; the
    /// stored names.
    pub fn expand(
        &self,
        cname: &str,
        coll: &Collection,
        raw: &str,
    ) -> Result<Vec<String>, FieldError> {
        let mut out: Vec<String> = Vec::new();
        for wire in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let name = self.field_name(cname, wire).unwrap_or_default();
            match coll.fields.get(name) {
                Some(f) if f.kind == FieldType::Relation => {
                    if !out.iter().any(|o| o == name) {
                        out.push(name.to_owned());
                    }
                }
                _ => {
                    return Err(FieldError::new(
                        "expand",
                        format!("`{wire}` is not a relation field"),
                    ))
                }
            }
        }
        Ok(out)
    }
}

impl ListQuery {
    /// Parse query-string pairs for `coll`; unknown parameters and bad values are errors.
    pub fn parse(
        cname: &str,
        coll: &Collection,
        validator: &Validator,
        pairs: &[(String, String)],
    ) -> Result<Self, ValidationError> {
        let mut details = Vec::new();
        let mut q = ListQuery {
            limit: DEFAULT_LIMIT,
            offset: 0,
            sort: Vec::new(),
            equals: Vec::new(),
            filter: None,
            expand: Vec::new(),
            total: TotalMode::default(),
        };
        for (key, raw) in pairs {
            match key.as_str() {
                "limit" => match raw.parse::<u32>() {
                    Ok(n) if (1..=MAX_LIMIT).contains(&n) => q.limit = n,
                    _ => details.push(FieldError::new(
                        "limit",
                        format!("must be an integer from 1 to {MAX_LIMIT}"),
                    )),
                },
                "offset" => match raw.parse::<u64>() {
                    Ok(n) if n <= i64::MAX as u64 => q.offset = n,
                    _ => details.push(FieldError::new("offset", "must be a non-negative integer")),
                },
                "sort" => {
                    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        let (wire, desc) = match part.strip_prefix('-') {
                            Some(f) => (f, true),
                            None => (part.strip_prefix('+').unwrap_or(part), false),
                        };
                        let field = validator.field_name(cname, wire).unwrap_or_default();
                        if sortable(coll, field) {
                            q.sort.push(SortKey {
                                field: field.to_owned(),
                                desc,
                            });
                        } else {
                            details
                                .push(FieldError::new("sort", format!("cannot sort by `{wire}`")));
                        }
                    }
                }
                "filter" => match plinth_rules::parse(raw)
                    .map_err(|e| e.to_string())
                    .and_then(|expr| validator.filter(cname, coll, &expr))
                {
                    Ok(f) => q.filter = Some(f),
                    Err(msg) => details.push(FieldError::new("filter", msg)),
                },
                "count" => match raw.as_str() {
                    "exact" => q.total = TotalMode::Exact,
                    "estimated" => q.total = TotalMode::Estimated,
                    "none" => q.total = TotalMode::Skip,
                    _ => details.push(FieldError::new("count", "must be exact, estimated or none")),
                },
                "expand" => match validator.expand(cname, coll, raw) {
                    Ok(e) => q.expand = e,
                    Err(e) => details.push(e),
                },
                "id" => match Uuid::parse_str(raw) {
                    Ok(u) => q.equals.push(("id".to_owned(), Value::Uuid(u))),
                    Err(_) => details.push(FieldError::new("id", "must be a UUID")),
                },
                wire => match validator
                    .field_name(cname, wire)
                    .and_then(|name| coll.fields.get_key_value(name))
                {
                    Some((name, field)) => match validator.query_value(cname, name, field, raw) {
                        Ok(v) => q.equals.push((name.clone(), v)),
                        Err(msg) => details.push(FieldError::new(wire, msg)),
                    },
                    None => details.push(FieldError::new(
                        wire,
                        "is not a query parameter or field of this collection",
                    )),
                },
            }
        }
        // Ids are UUIDv7, so id order is creation order: with no sort given, `-id` is newest
        // first and the primary key index serves it without a sort step.
        if !q.sort.iter().any(|k| k.field == "id") {
            let desc = q.sort.first().is_none_or(|k| k.desc);
            q.sort.push(SortKey {
                field: "id".to_owned(),
                desc,
            });
        }
        if details.is_empty() {
            Ok(q)
        } else {
            Err(ValidationError { details })
        }
    }
}

fn sortable(coll: &Collection, field: &str) -> bool {
    match field {
        "id" => true,
        "created_at" => coll.has_created_at(),
        "updated_at" => coll.has_updated_at(),
        f => coll
            .fields
            .get(f)
            .is_some_and(|d| d.kind != FieldType::Json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &[(&str, &str)]) -> Vec<(String, String)> {
        q.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parses_paging_sort_and_filters() {
        let m = plinth_manifest::parse(
            "name: t\ncollections:\n  items:\n    fields:\n      title: { type: text }\n      n: { type: int }\n      meta: { type: json }\n",
        )
        .expect("manifest");
        let coll = &m.collections["items"];
        let v = Validator::new(&m);
        let q = ListQuery::parse(
            "items",
            coll,
            &v,
            &pairs(&[("limit", "20"), ("sort", "-n,title"), ("n", "4")]),
        )
        .expect("valid");
        assert_eq!(q.limit, 20);
        assert_eq!(q.sort.len(), 3);
        assert!(q.sort[0].desc && q.sort[0].field == "n");
        assert_eq!(q.sort[2].field, "id");
        assert_eq!(q.equals, vec![("n".into(), Value::Int(4))]);
        let default = ListQuery::parse("items", coll, &v, &[]).expect("valid");
        assert_eq!(
            default.sort,
            vec![SortKey {
                field: "id".into(),
                desc: true
            }]
        );
        assert_eq!((default.limit, default.offset), (DEFAULT_LIMIT, 0));

        let err = ListQuery::parse(
            "items",
            coll,
            &v,
            &pairs(&[("limit", "0"), ("sort", "meta"), ("n", "x"), ("bogus", "1")]),
        )
        .expect_err("invalid");
        let fields: Vec<_> = err.details.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["limit", "sort", "n", "bogus"]);
    }
}
