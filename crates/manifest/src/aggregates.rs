//! Named aggregates: read-only endpoints that count, sum, average or bound a collection's
//! records, whole or grouped by fields and time buckets (CloudDrift's dashboard summary
//! and cost trend). The store compiles them to SQL; the caller's list rules still apply.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::check::{is_identifier, Checker};
use crate::model::{FieldType, Manifest};

/// `GET {base}/{path}`: measures over records, optionally grouped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    /// The route below the app's base, e.g. `metrics/summary`.
    pub path: String,
    /// The collection measures read unless they name their own (required when grouped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
    /// A rule every measured record must satisfy; may read `@request.query.<param>`.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Fields to group by (one output row per distinct combination).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<String>,
    /// A time bucket to group by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<Bucket>,
    /// Query parameters, by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub params: IndexMap<String, Param>,
    /// Output values, by name.
    pub measures: IndexMap<String, Measure>,
}

impl Aggregate {
    /// Whether the answer is a list of groups rather than one object.
    pub fn grouped(&self) -> bool {
        !self.group.is_empty() || self.bucket.is_some()
    }
}

/// Records grouped by the start of the day, week (Monday) or month of a timestamp, in UTC.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bucket {
    /// A timestamp field (or `created_at`).
    pub field: String,
    /// `day`, `week`, `month`, or `@request.query.<param>` naming an enum parameter of those.
    pub by: String,
    /// The output key of the bucket's start date (default `period`).
    #[serde(default = "period", rename = "as")]
    pub name: String,
}

fn period() -> String {
    "period".to_owned()
}

/// The sizes of time buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSize {
    /// From midnight UTC.
    Day,
    /// From Monday.
    Week,
    /// From the first of the month.
    Month,
}

impl BucketSize {
    /// The size a word names.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "day" => Some(BucketSize::Day),
            "week" => Some(BucketSize::Week),
            "month" => Some(BucketSize::Month),
            _ => None,
        }
    }
}

/// One output value: exactly one function with its argument, and an optional condition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// Count records of this collection (`*`: the aggregate's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    /// Sum of a number field: `field` or `collection.field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// Average of a number field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg: Option<String>,
    /// Smallest value of a number or timestamp field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
    /// Largest value of a number or timestamp field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<String>,
    /// Only records satisfying this rule count towards the measure.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// The functions of a measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureFn {
    /// Number of records.
    Count,
    /// Sum (0 when none).
    Sum,
    /// Average (null when none).
    Avg,
    /// Smallest (null when none).
    Min,
    /// Largest (null when none).
    Max,
}

impl Measure {
    /// The function and its argument; `None` unless exactly one is given.
    pub fn function(&self) -> Option<(MeasureFn, &str)> {
        let all = [
            (MeasureFn::Count, &self.count),
            (MeasureFn::Sum, &self.sum),
            (MeasureFn::Avg, &self.avg),
            (MeasureFn::Min, &self.min),
            (MeasureFn::Max, &self.max),
        ];
        let mut given = all
            .into_iter()
            .filter_map(|(f, a)| a.as_deref().map(|a| (f, a)));
        match (given.next(), given.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// The collection measured and the field (none for a count), given the aggregate's
    /// default collection.
    pub fn target<'a>(&'a self, default: Option<&'a str>) -> Option<(&'a str, Option<&'a str>)> {
        let (f, arg) = self.function()?;
        if f == MeasureFn::Count {
            return match arg {
                "*" => default.map(|c| (c, None)),
                c => Some((c, None)),
            };
        }
        match arg.split_once('.') {
            Some((c, field)) => Some((c, Some(field))),
            None => default.map(|c| (c, Some(arg))),
        }
    }
}

/// A query parameter of an aggregate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// `timestamp`, `enum`, `text`, `int` or `float`.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// An enum's values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Used when the query leaves the parameter out: a value, or for a timestamp `now`,
    /// `now-30d` (units `m`, `h`, `d`, `w`). No default: the parameter is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A relative time: `now`, `now-30d`, `now+2h`, as seconds from now.
pub fn relative_secs(s: &str) -> Option<i64> {
    let rest = s.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match rest.as_bytes()[0] {
        b'-' => (-1, &rest[1..]),
        b'+' => (1, &rest[1..]),
        _ => return None,
    };
    let unit = match rest.chars().last()? {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    let n: i64 = rest[..rest.len() - 1].parse().ok()?;
    Some(sign * n.checked_mul(unit)?)
}

impl Checker<'_> {
    /// Each aggregate reads real collections and fields, with known parameters.
    pub(crate) fn aggregates(&mut self, m: &Manifest) {
        let mut paths: Vec<&str> = Vec::new();
        for (name, agg) in &m.aggregates {
            let path = ["aggregates", name.as_str()];
            self.aggregate_path(m, &path, &agg.path, &mut paths);
            let default = agg.collection.as_deref();
            if let Some(c) = default.filter(|c| !m.collections.contains_key(*c)) {
                self.error(&path, format!("unknown collection `{c}`"));
            }
            if agg.grouped() && default.is_none() {
                self.error(&path, "a grouped aggregate needs `collection`");
            }
            for (pname, p) in &agg.params {
                self.param(&["aggregates", name, "params", pname], pname, p);
            }
            if agg.measures.is_empty() {
                self.error(&path, "an aggregate needs at least one measure");
            }
            for (mname, measure) in &agg.measures {
                self.measure(m, agg, &["aggregates", name, "measures", mname], measure);
            }
            if let Some(c) = default.and_then(|c| m.collections.get(c)) {
                for g in &agg.group {
                    if !c.fields.contains_key(g) {
                        self.error(&path, format!("group names unknown field `{g}`"));
                    }
                }
                if let Some(b) = &agg.bucket {
                    self.bucket(agg, c, &["aggregates", name, "bucket"], b);
                }
            }
            self.aggregate_rule(m, agg, &["aggregates", name, "where"], &agg.filter);
        }
    }

    fn aggregate_path<'m>(
        &mut self,
        m: &Manifest,
        path: &[&str],
        route: &'m str,
        seen: &mut Vec<&'m str>,
    ) {
        let segments: Vec<&str> = route.split('/').collect();
        let plain = segments.iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if !plain {
            self.error(
                path,
                "path is segments of letters, digits, - and _ (e.g. metrics/summary)",
            );
        }
        // `/{collection}/...` routes would shadow or be shadowed.
        if m.collections.contains_key(segments[0])
            || crate::RESERVED_COLLECTION_NAMES.contains(&segments[0])
        {
            self.error(
                path,
                format!("`{}` is a collection or reserved route", segments[0]),
            );
        }
        if seen.contains(&route) {
            self.error(path, format!("another aggregate answers `{route}`"));
        }
        seen.push(route);
    }

    fn param(&mut self, path: &[&str], name: &str, p: &Param) {
        if !is_identifier(name) {
            self.error(path, "parameter names are lowercase letters, digits and _");
        }
        let kinds = [
            FieldType::Timestamp,
            FieldType::Enum,
            FieldType::Text,
            FieldType::Int,
            FieldType::Float,
        ];
        if !kinds.contains(&p.kind) {
            self.error(path, "type is timestamp, enum, text, int or float");
        }
        if (p.kind == FieldType::Enum) == p.values.is_empty() {
            self.error(path, "`values` go with type enum, and it needs them");
        }
        let bad_default = match (&p.default, p.kind) {
            (None, _) => false,
            (Some(d), FieldType::Timestamp) => {
                relative_secs(d).is_none() && chrono::DateTime::parse_from_rfc3339(d).is_err()
            }
            (Some(d), FieldType::Enum) => !p.values.contains(d),
            (Some(d), FieldType::Int) => d.parse::<i64>().is_err(),
            (Some(d), FieldType::Float) => d.parse::<f64>().is_err(),
            _ => false,
        };
        if bad_default {
            self.error(path, "default does not fit the parameter's type");
        }
    }

    fn measure(&mut self, m: &Manifest, agg: &Aggregate, path: &[&str], measure: &Measure) {
        let Some((f, _)) = measure.function() else {
            return self.error(path, "give exactly one of count, sum, avg, min, max");
        };
        let Some((cname, field)) = measure.target(agg.collection.as_deref()) else {
            return self.error(path, "name the collection (or give the aggregate one)");
        };
        let Some(coll) = m.collections.get(cname) else {
            return self.error(path, format!("unknown collection `{cname}`"));
        };
        if agg.grouped() && Some(cname) != agg.collection.as_deref() {
            self.error(path, "a grouped aggregate measures its own collection only");
        }
        if let Some(field) = field {
            let kind = match field {
                "created_at" | "updated_at" => Some(FieldType::Timestamp),
                f => coll.fields.get(f).map(|f| f.kind),
            };
            let numeric = matches!(kind, Some(FieldType::Int | FieldType::Float));
            let ordered = numeric || kind == Some(FieldType::Timestamp);
            let fits = match f {
                MeasureFn::Sum | MeasureFn::Avg => numeric,
                _ => ordered,
            };
            if !fits {
                self.error(
                    path,
                    format!("`{cname}.{field}` is not a number field this measure can take"),
                );
            }
        }
        self.aggregate_rule(m, agg, &[path, &["where"]].concat(), &measure.filter);
    }

    fn bucket(&mut self, agg: &Aggregate, coll: &crate::Collection, path: &[&str], b: &Bucket) {
        let is_time = match b.field.as_str() {
            "created_at" => coll.has_created_at(),
            "updated_at" => coll.has_updated_at(),
            f => coll
                .fields
                .get(f)
                .is_some_and(|f| f.kind == FieldType::Timestamp),
        };
        if !is_time {
            self.error(path, format!("`{}` is not a timestamp field", b.field));
        }
        let fits = match b.by.strip_prefix("@request.query.") {
            None => BucketSize::parse(&b.by).is_some(),
            Some(p) => agg.params.get(p).is_some_and(|p| {
                p.kind == FieldType::Enum && p.values.iter().all(|v| BucketSize::parse(v).is_some())
            }),
        };
        if !fits {
            self.error(
                path,
                "`by` is day, week, month or @request.query.<enum param of those>",
            );
        }
        if !is_identifier(&b.name) {
            self.error(path, "`as` is lowercase letters, digits and _");
        }
    }

    /// A condition parses and reads only `@now`, the caller and the aggregate's parameters.
    fn aggregate_rule(
        &mut self,
        m: &Manifest,
        agg: &Aggregate,
        path: &[&str],
        src: &Option<String>,
    ) {
        let Some(src) = src.as_deref().filter(|s| !s.trim().is_empty()) else {
            return;
        };
        let expr = match plinth_rules::parse(src) {
            Ok(e) => e,
            Err(e) => return self.error(path, format!("invalid condition: {e}")),
        };
        for c in expr.context_names() {
            let known = match (c.strip_prefix("request.query."), c.strip_prefix("auth.")) {
                (Some(p), _) => agg.params.contains_key(p),
                (None, Some(f)) => crate::check_access::user_field(m, f),
                (None, None) => c == "now",
            };
            if !known {
                self.error(path, format!("unknown @{c} (conditions know @auth.<field of users>, @now and @request.query.<param>)"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_their_unit_and_sign() {
        assert_eq!(relative_secs("now"), Some(0));
        assert_eq!(relative_secs("now-30d"), Some(-30 * 86_400));
        assert_eq!(relative_secs("now+2h"), Some(7200));
        assert_eq!(relative_secs("now-3x"), None);
        assert_eq!(relative_secs("yesterday"), None);
        assert_eq!(relative_secs("now-"), None);
    }

    #[test]
    fn a_measure_has_exactly_one_function() {
        let m: Measure = serde_yaml::from_str("{ sum: amount, count: x }").expect("yaml");
        assert!(m.function().is_none());
        let m: Measure = serde_yaml::from_str("{ sum: cost_metrics.amount }").expect("yaml");
        assert_eq!(m.target(None), Some(("cost_metrics", Some("amount"))));
        let m: Measure = serde_yaml::from_str("{ count: '*' }").expect("yaml");
        assert_eq!(m.target(Some("drifts")), Some(("drifts", None)));
        assert_eq!(m.target(None), None);
    }
}
