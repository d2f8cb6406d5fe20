//! Reading one column parameter: each helper reports its own problem to `errs` and
//! returns `None` for an invalid value.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::errors::SpecErrors;
use crate::parse::parse_instant;

/// The `values` of an `enum` column: a non-empty array of strings.
pub(crate) fn enum_values(
    value: Option<&Value>,
    path: &str,
    errs: &mut SpecErrors,
) -> Option<Vec<String>> {
    let field = format!("{path}.values");
    let list = value.and_then(Value::as_array).filter(|l| !l.is_empty());
    let Some(list) = list else {
        errs.push(field, "is required: a non-empty array of strings");
        return None;
    };
    let mut values = Vec::with_capacity(list.len());
    for (j, v) in list.iter().enumerate() {
        match v.as_str() {
            Some(s) => values.push(s.to_string()),
            None => errs.push(format!("{field}[{j}]"), "must be a string"),
        }
    }
    (values.len() == list.len()).then_some(values)
}

/// `(min, max)`, or an error on `max` when it is below `min`.
pub(crate) fn ordered<T: PartialOrd + std::fmt::Display>(
    min: T,
    max: T,
    path: &str,
    errs: &mut SpecErrors,
) -> Option<(T, T)> {
    if max < min {
        errs.push(
            format!("{path}.max"),
            format!("must not be less than min ({min})"),
        );
        return None;
    }
    Some((min, max))
}

/// Checks `from <= to`; the error names `to` as `shown`.
pub(crate) fn not_after<T: PartialOrd>(
    from: T,
    to: T,
    shown: &str,
    path: &str,
    errs: &mut SpecErrors,
) -> Option<()> {
    if from > to {
        errs.push(
            format!("{path}.from"),
            format!("must not be after to ({shown})"),
        );
        return None;
    }
    Some(())
}

/// Integer parameter `key` in `lo..=hi`, `default` when absent.
pub(crate) fn integer(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    default: i64,
    lo: i64,
    hi: i64,
    errs: &mut SpecErrors,
) -> Option<i64> {
    match obj.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(v) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => Some(n),
            _ => {
                let message = if (lo, hi) == (i64::MIN, i64::MAX) {
                    "must be a 64-bit integer".to_string()
                } else {
                    format!("must be an integer from {lo} to {hi}")
                };
                errs.push(format!("{path}.{key}"), message);
                None
            }
        },
    }
}

/// Number parameter `key`, `default` when absent.
pub(crate) fn number(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    default: f64,
    errs: &mut SpecErrors,
) -> Option<f64> {
    match obj.get(key) {
        None | Some(Value::Null) => Some(default),
        Some(v) => {
            let n = v.as_f64();
            if n.is_none() {
                errs.push(format!("{path}.{key}"), "must be a number");
            }
            n
        }
    }
}

/// Probability parameter `key` in `0..=1`, `default` when absent.
pub(crate) fn probability(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    default: f64,
    errs: &mut SpecErrors,
) -> Option<f64> {
    let p = number(obj, key, path, default, errs)?;
    if !(0.0..=1.0).contains(&p) {
        errs.push(format!("{path}.{key}"), "must be a number from 0 to 1");
        return None;
    }
    Some(p)
}

/// Date parameter `key` (RFC 3339 or `YYYY-MM-DD`): `Some(None)` when absent, `None` when
/// invalid. A bare date as `to` of a timestamp means that day's last second.
pub(crate) fn instant(
    obj: &Map<String, Value>,
    key: &str,
    path: &str,
    end_of_day: bool,
    errs: &mut SpecErrors,
) -> Option<Option<DateTime<Utc>>> {
    match obj.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(v) => {
            let t = v.as_str().and_then(|s| parse_instant(s, end_of_day));
            if t.is_none() {
                errs.push(
                    format!("{path}.{key}"),
                    "must be an RFC 3339 timestamp or a YYYY-MM-DD date",
                );
            }
            t.map(Some)
        }
    }
}

/// The integers `lo..=hi` that, divided by 10^decimals, lie in `min..=max` (a bound within
/// a rounding error of a whole step counts as on it).
pub(crate) fn scaled_bounds(min: f64, max: f64, decimals: u32) -> (i64, i64) {
    let scale = 10f64.powi(decimals as i32);
    let snap = |x: f64, up: bool| {
        let r = x.round();
        if (x - r).abs() <= 1e-9 * x.abs().max(1.0) {
            r
        } else if up {
            x.ceil()
        } else {
            x.floor()
        }
    };
    (
        snap(min * scale, true) as i64,
        snap(max * scale, false) as i64,
    )
}
