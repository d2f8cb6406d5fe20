//! The `columns` form of a request: each column's name, type and the type's parameters.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::errors::SpecErrors;
use crate::params::{
    enum_values, instant, integer, not_after, number, ordered, probability, scaled_bounds,
};
use crate::parse::{two_years_before, whole_seconds_down, whole_seconds_up};
use crate::spec::{format_instant, Column, Kind, COLUMN_TYPES, MAX_COLUMNS};

/// Keys every column may have.
const COMMON_KEYS: &[&str] = &["name", "type", "nullable"];

/// The largest `words` of a `text` column.
const MAX_WORDS: i64 = 100;

/// The largest `decimals` of a `float` column.
const MAX_DECIMALS: i64 = 10;

/// Floats with `decimals` are drawn as integers scaled by 10^decimals; those must be exact.
const MAX_SCALED: f64 = 9_007_199_254_740_992.0; // 2^53

/// The parameters a column type takes besides the common keys.
fn type_keys(ty: &str) -> &'static [&'static str] {
    match ty {
        "int" => &["min", "max"],
        "float" => &["min", "max", "decimals"],
        "bool" => &["probability"],
        "text" => &["words"],
        "date" | "timestamp" => &["from", "to"],
        "enum" => &["values"],
        "sequence" => &["start"],
        _ => &[],
    }
}

/// Reads the `columns` array; problems go to `errs` with paths like `columns[2].type`.
/// `rows` (when valid) bounds `sequence` columns; `as_of` ends the default date window.
pub(crate) fn parse_columns(
    value: &Value,
    rows: Option<u64>,
    as_of: DateTime<Utc>,
    errs: &mut SpecErrors,
) -> Vec<Column> {
    let Some(list) = value.as_array() else {
        errs.push("columns", "must be an array of column objects");
        return Vec::new();
    };
    if list.is_empty() || list.len() > MAX_COLUMNS {
        errs.push(
            "columns",
            format!("must have from 1 to {MAX_COLUMNS} columns"),
        );
    }
    let mut out = Vec::with_capacity(list.len());
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut slots: HashMap<&'static str, usize> = HashMap::new();
    for (i, item) in list.iter().enumerate() {
        let path = format!("columns[{i}]");
        let Some(obj) = item.as_object() else {
            errs.push(path, "must be an object with `name` and `type`");
            continue;
        };
        let name = column_name(obj.get("name"), &path, i, &mut names, errs);
        let nullable = probability(obj, "nullable", &path, 0.0, errs);
        let types = COLUMN_TYPES.join(", ");
        let ty = match obj.get("type") {
            None => {
                errs.push(
                    format!("{path}.type"),
                    format!("is required; one of: {types}"),
                );
                None
            }
            Some(v) => {
                let found = COLUMN_TYPES.iter().find(|t| v.as_str() == Some(**t));
                if found.is_none() {
                    let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    errs.push(
                        format!("{path}.type"),
                        format!("unknown type `{shown}`; one of: {types}"),
                    );
                }
                found.copied()
            }
        };
        let Some(ty) = ty else { continue };
        let allowed = type_keys(ty);
        for key in obj.keys() {
            if !COMMON_KEYS.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
                let all: Vec<&str> = COMMON_KEYS.iter().chain(allowed).copied().collect();
                errs.push(
                    format!("{path}.{key}"),
                    format!("unknown key for type `{ty}`; allowed: {}", all.join(", ")),
                );
            }
        }
        let slot = slots.entry(ty).or_insert(0);
        let kind = column_kind(ty, obj, &path, *slot, rows, as_of, errs);
        *slot += 1;
        if let (Some(name), Some(kind), Some(nullable)) = (name, kind, nullable) {
            out.push(Column {
                name,
                kind,
                nullable,
            });
        }
    }
    out
}

/// The checked name of column `i`; names may not repeat, ignoring case.
fn column_name(
    value: Option<&Value>,
    path: &str,
    i: usize,
    seen: &mut HashMap<String, usize>,
    errs: &mut SpecErrors,
) -> Option<String> {
    let field = format!("{path}.name");
    let Some(value) = value else {
        errs.push(field, "is required");
        return None;
    };
    let name = value.as_str().filter(|n| valid_name(n));
    let Some(name) = name else {
        errs.push(
            field,
            "must start with a letter or `_` and hold only letters, digits and `_`, \
             at most 63 characters",
        );
        return None;
    };
    if let Some(first) = seen.get(&name.to_ascii_lowercase()) {
        errs.push(
            field,
            format!("duplicate column name `{name}` (also columns[{first}]; case is ignored)"),
        );
        return None;
    }
    seen.insert(name.to_ascii_lowercase(), i);
    Some(name.to_string())
}

/// `^[A-Za-z_][A-Za-z0-9_]{0,62}$`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The kind of a column of type `ty`, from its parameters.
fn column_kind(
    ty: &str,
    obj: &Map<String, Value>,
    path: &str,
    slot: usize,
    rows: Option<u64>,
    as_of: DateTime<Utc>,
    errs: &mut SpecErrors,
) -> Option<Kind> {
    Some(match ty {
        "uuid" => Kind::Uuid,
        "int" => {
            let min = integer(obj, "min", path, 0, i64::MIN, i64::MAX, errs);
            let max = integer(obj, "max", path, 100, i64::MIN, i64::MAX, errs);
            let (min, max) = ordered(min?, max?, path, errs)?;
            Kind::Int { min, max }
        }
        "float" => {
            let min = number(obj, "min", path, 0.0, errs);
            let max = number(obj, "max", path, 1.0, errs);
            let decimals = match obj.get("decimals") {
                None | Some(Value::Null) => Some(None),
                Some(_) => {
                    integer(obj, "decimals", path, 0, 0, MAX_DECIMALS, errs).map(|d| Some(d as u32))
                }
            };
            let (min, max) = ordered(min?, max?, path, errs)?;
            let decimals = decimals?;
            if let Some(d) = decimals {
                let scale = 10f64.powi(d as i32);
                if min.abs() * scale > MAX_SCALED || max.abs() * scale > MAX_SCALED {
                    errs.push(
                        format!("{path}.decimals"),
                        "min and max times 10^decimals must lie within ±2^53",
                    );
                    return None;
                }
                let (lo, hi) = scaled_bounds(min, max, d);
                if lo > hi {
                    errs.push(
                        format!("{path}.decimals"),
                        format!("no number with {d} decimals lies between min and max"),
                    );
                    return None;
                }
            }
            Kind::Float { min, max, decimals }
        }
        "bool" => Kind::Bool {
            probability: probability(obj, "probability", path, 0.5, errs)?,
        },
        "text" => Kind::Text {
            words: integer(obj, "words", path, 3, 1, MAX_WORDS, errs)? as u32,
        },
        "name" => Kind::Name { slot },
        "first_name" => Kind::FirstName { slot },
        "last_name" => Kind::LastName { slot },
        "email" => Kind::Email { slot, unique: true },
        "city" => Kind::City { slot },
        "country" => Kind::Country { slot },
        "company" => Kind::Company,
        "date" => {
            let (from, to) = (
                instant(obj, "from", path, false, errs),
                instant(obj, "to", path, false, errs),
            );
            let to = to?.unwrap_or(as_of);
            let from = from?.unwrap_or_else(|| two_years_before(to));
            let (from, to): (NaiveDate, NaiveDate) = (from.date_naive(), to.date_naive());
            not_after(from, to, &to.format("%Y-%m-%d").to_string(), path, errs)?;
            Kind::Date { from, to }
        }
        "timestamp" => {
            let (from, to) = (
                instant(obj, "from", path, false, errs),
                instant(obj, "to", path, true, errs),
            );
            let to = to?.unwrap_or(as_of);
            let from = from?.unwrap_or_else(|| two_years_before(to));
            let (from, to) = (whole_seconds_up(from), whole_seconds_down(to));
            not_after(from, to, &format_instant(&to), path, errs)?;
            Kind::Timestamp { from, to }
        }
        "enum" => Kind::Enum {
            values: enum_values(obj.get("values"), path, errs)?,
        },
        "sequence" => {
            let start = integer(obj, "start", path, 1, i64::MIN, i64::MAX, errs)?;
            let last = rows.and_then(|n| start.checked_add(i64::try_from(n - 1).ok()?));
            if rows.is_some() && last.is_none() {
                errs.push(
                    format!("{path}.start"),
                    "is too large: the sequence would pass the largest 64-bit integer",
                );
                return None;
            }
            Kind::Sequence { start }
        }
        _ => return None,
    })
}
