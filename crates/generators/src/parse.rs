//! From a request body to a [`GenSpec`]: every problem is collected, not only the first.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde_json::Value;

use crate::columns::parse_columns;
use crate::entities::entity_columns;
use crate::errors::SpecErrors;
use crate::rng::fresh_seed;
use crate::spec::{GenSpec, ENTITIES, MAX_ROWS};

/// The keys a request body may have.
const TOP_KEYS: &[&str] = &["entity", "columns", "rows", "seed", "as_of"];

/// Reads a `POST /generate` body: `{"entity": "users", "rows": 1000, "seed": 42}` or
/// `{"columns": [{"name": "score", "type": "int", "min": 0, "max": 100}], "rows": 10}`.
///
/// Without a `seed` a random one is chosen and kept in the spec ([`GenSpec::seed`],
/// [`GenSpec::to_json`]); with the same seed (and `as_of`) the rows are the same.
/// `as_of` (RFC 3339 or `YYYY-MM-DD`, default: the start of the current UTC day) is the
/// instant relative dates such as "created in the last two years" count back from.
pub fn parse(body: &Value) -> Result<GenSpec, SpecErrors> {
    let mut errs = SpecErrors::new();
    let Some(obj) = body.as_object() else {
        errs.push("body", "must be a JSON object");
        return Err(errs);
    };
    for key in obj.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            errs.push(
                key.clone(),
                format!("unknown key; allowed: {}", TOP_KEYS.join(", ")),
            );
        }
    }

    let rows = match obj.get("rows") {
        None | Some(Value::Null) => {
            errs.push(
                "rows",
                format!("is required: an integer from 1 to {MAX_ROWS}"),
            );
            None
        }
        Some(v) => match v.as_u64() {
            Some(n @ 1..=MAX_ROWS) => Some(n),
            _ => {
                errs.push("rows", format!("must be an integer from 1 to {MAX_ROWS}"));
                None
            }
        },
    };
    let seed = match obj.get("seed") {
        None | Some(Value::Null) => Some(fresh_seed()),
        Some(v) => {
            let seed = v.as_u64();
            if seed.is_none() {
                errs.push("seed", format!("must be an integer from 0 to {}", u64::MAX));
            }
            seed
        }
    };
    let as_of = match obj.get("as_of") {
        None | Some(Value::Null) => Some(start_of_today()),
        Some(v) => {
            let at = v.as_str().and_then(|s| parse_instant(s, false));
            if at.is_none() {
                errs.push(
                    "as_of",
                    "must be an RFC 3339 timestamp or a YYYY-MM-DD date",
                );
            }
            at.map(whole_seconds_down)
        }
    };
    let when = as_of.unwrap_or_else(start_of_today);

    let target = match (obj.get("entity"), obj.get("columns")) {
        (Some(entity), None) => {
            let name = entity.as_str().unwrap_or_default();
            match entity_columns(name, when) {
                Some(found) => Some(found),
                None => {
                    let shown = match entity {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    errs.push(
                        "entity",
                        format!("unknown entity `{shown}`; one of: {}", ENTITIES.join(", ")),
                    );
                    None
                }
            }
        }
        (None, Some(columns)) => Some((None, parse_columns(columns, rows, when, &mut errs))),
        (Some(_), Some(_)) => {
            errs.push("columns", "give either `entity` or `columns`, not both");
            None
        }
        (None, None) => {
            errs.push("body", "one of `entity` or `columns` is required");
            None
        }
    };

    match (target, rows, seed, as_of) {
        (Some((entity, columns)), Some(rows), Some(seed), Some(as_of)) if errs.is_empty() => {
            Ok(GenSpec {
                entity,
                columns,
                rows,
                seed,
                as_of,
            })
        }
        _ => Err(errs),
    }
}

/// An RFC 3339 timestamp, or a `YYYY-MM-DD` date read as the start of that UTC day (or,
/// with `end_of_day`, its last second).
pub(crate) fn parse_instant(text: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let time = if end_of_day {
        NaiveTime::from_hms_opt(23, 59, 59)?
    } else {
        NaiveTime::MIN
    };
    Some(date.and_time(time).and_utc())
}

/// `t` without its fraction of a second.
pub(crate) fn whole_seconds_down(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// `t` rounded up to a whole second.
pub(crate) fn whole_seconds_up(t: DateTime<Utc>) -> DateTime<Utc> {
    let down = whole_seconds_down(t);
    if down == t {
        t
    } else {
        DateTime::from_timestamp(t.timestamp() + 1, 0).unwrap_or(down)
    }
}

/// Midnight UTC today: the default `as_of`, so a request repeated on the same day with
/// the same seed gives the same rows even when it leaves `as_of` out.
fn start_of_today() -> DateTime<Utc> {
    Utc::now().date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// Two years before `t`: the default window of dates and timestamps.
pub(crate) fn two_years_before(t: DateTime<Utc>) -> DateTime<Utc> {
    t.checked_sub_days(Days::new(730)).unwrap_or(t)
}
