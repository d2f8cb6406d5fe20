//! Named aggregates for a caller: query parameters checked, conditions put together with
//! the caller's list rule of each collection measured (an aggregate never counts a record
//! its caller could not list), one query per collection.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use indexmap::IndexMap;
use plinth_context::Ctx;
use plinth_manifest::{Aggregate, BucketSize, FieldType, Manifest, Param};
use plinth_records::{format_timestamp, FieldError, Filter, ValidationError, Validator};
use plinth_rules::Expr;
use plinth_store::{AggregateQuery, MeasureQuery, StoreError};
use serde_json::{Map, Value as J};

use crate::access::{reads_user, Access, Op};
use crate::{AppService, CoreError};

/// An aggregate with its conditions parsed once, at open.
#[derive(Debug)]
pub(crate) struct CompiledAggregate {
    /// Its name in the manifest.
    pub name: String,
    pub def: Aggregate,
    filter: Option<Expr>,
    /// Each measure's condition, in order.
    whens: Vec<Option<Expr>>,
    /// Whether a condition reads the caller's user record beyond id and role.
    reads_user: bool,
}

fn parse(src: Option<&str>) -> Option<Expr> {
    src.filter(|s| !s.trim().is_empty())
        .and_then(|s| plinth_rules::parse(s).ok())
}

/// Parse every aggregate's conditions and check their field names (the manifest check
/// vetted the rest), so a typo stops the start rather than failing requests.
pub(crate) fn compile(
    manifest: &Manifest,
    validator: &Validator,
) -> Result<IndexMap<String, CompiledAggregate>, StoreError> {
    let mut out = IndexMap::new();
    for (name, def) in &manifest.aggregates {
        let filter = parse(def.filter.as_deref());
        let whens: Vec<_> = def
            .measures
            .values()
            .map(|m| parse(m.filter.as_deref()))
            .collect();
        let time = || J::String("2026-01-01T00:00:00Z".into());
        let sample = |n: &str| match n.strip_prefix("request.query.") {
            None if n == "now" => Some(time()),
            None => Some(J::String(uuid::Uuid::nil().to_string())),
            Some(p) => def.params.get(p).map(|p| match p.kind {
                FieldType::Timestamp => time(),
                FieldType::Int | FieldType::Float => J::from(1),
                _ => J::String(p.values.first().cloned().unwrap_or_default()),
            }),
        };
        let mut conds: Vec<(&str, &Expr)> = Vec::new();
        if let (Some(c), Some(f)) = (def.collection.as_deref(), &filter) {
            conds.push((c, f));
        }
        for (m, w) in def.measures.values().zip(&whens) {
            if let (Some((c, _)), Some(w)) = (m.target(def.collection.as_deref()), w) {
                conds.push((c, w));
            }
        }
        let mut reads = false;
        for (cname, expr) in conds {
            reads |= expr.context_names().iter().any(|n| reads_user(n));
            let coll = manifest
                .collections
                .get(cname)
                .ok_or_else(|| StoreError::UnknownCollection(cname.to_owned()))?;
            validator
                .rule(cname, coll, expr, &sample)
                .map_err(|e| StoreError::Config(format!("aggregates.{name}: {e}")))?;
        }
        let compiled = CompiledAggregate {
            name: name.clone(),
            def: def.clone(),
            filter,
            whens,
            reads_user: reads,
        };
        out.insert(def.path.clone(), compiled);
    }
    Ok(out)
}

/// A parameter's value from the query string (or its default), as the rule language
/// reads it; timestamps accept RFC 3339 or a date (midnight UTC).
fn param_value(ctx: &Ctx, name: &str, p: &Param, given: Option<&str>) -> Result<J, FieldError> {
    let bad = |what: &str| FieldError::new(name, what);
    let Some(raw) = given.or(p.default.as_deref()) else {
        return Ok(J::Null);
    };
    match p.kind {
        FieldType::Timestamp => {
            let at = if let Some(secs) = plinth_manifest::relative_secs(raw) {
                chrono::TimeDelta::try_seconds(secs).and_then(|d| ctx.now.checked_add_signed(d))
            } else if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
                Some(t.with_timezone(&Utc))
            } else if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Some(d.and_time(chrono::NaiveTime::MIN).and_utc())
            } else {
                None
            };
            // Four-digit years only: what RFC 3339 (and so the rest of Plinth) can write.
            match at.filter(|t| (0..=9999).contains(&t.year())) {
                Some(at) => Ok(J::String(format_timestamp(&at))),
                None => Err(bad("must be an RFC 3339 timestamp or a date (YYYY-MM-DD)")),
            }
        }
        FieldType::Enum if !p.values.iter().any(|v| v == raw) => {
            Err(bad(&format!("must be one of {}", p.values.join(", "))))
        }
        FieldType::Int => raw
            .parse::<i64>()
            .map(J::from)
            .map_err(|_| bad("must be an integer")),
        FieldType::Float => raw
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(J::Number))
            .ok_or_else(|| bad("must be a number")),
        _ => Ok(J::String(raw.to_owned())),
    }
}

impl AppService {
    /// The aggregate answering `path` (below the app's base, no leading `/`).
    pub fn aggregate_name(&self, path: &str) -> Option<&str> {
        self.aggregates.get(path).map(|a| a.name.as_str())
    }

    /// The paths of the app's aggregates.
    pub fn aggregate_paths(&self) -> impl Iterator<Item = &str> {
        self.aggregates.keys().map(String::as_str)
    }

    /// Run the aggregate at `path` for the caller: an object of measures, or a list of
    /// groups (in wire names).
    pub async fn aggregate(
        &self,
        ctx: &Ctx,
        path: &str,
        query: &[(String, String)],
    ) -> Result<J, CoreError> {
        let agg = self
            .aggregates
            .get(path)
            .ok_or_else(|| CoreError::NotFound("No such route".into()))?;
        let def = &agg.def;
        let mut details = Vec::new();
        for (k, _) in query {
            if !def.params.contains_key(k) {
                details.push(FieldError::new(k, "unknown query parameter"));
            }
        }
        let mut params = Map::new();
        for (name, p) in &def.params {
            let given = query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str());
            match param_value(ctx, name, p, given) {
                Ok(v) => {
                    params.insert(name.clone(), v);
                }
                Err(e) => details.push(e),
            }
        }
        if !details.is_empty() {
            return Err(ValidationError { details }.into());
        }
        let user = match agg.reads_user {
            true => self.caller_user(ctx).await?,
            false => None,
        };
        let (id, role) = crate::access::caller_values(ctx);
        let vars = |name: &str| match name {
            "auth.id" => Some(id.clone()),
            "auth.role" => Some(role.clone()),
            "now" => Some(J::String(format_timestamp(&ctx.now))),
            n if reads_user(n) => user.as_ref()?.get(&n["auth.".len()..]).cloned(),
            n => params.get(n.strip_prefix("request.query.")?).cloned(),
        };
        let bucket = match &def.bucket {
            None => None,
            Some(b) => {
                let word = match b.by.strip_prefix("@request.query.") {
                    Some(p) => params.get(p).and_then(J::as_str).unwrap_or("day"),
                    None => b.by.as_str(),
                };
                let size = BucketSize::parse(word).unwrap_or(BucketSize::Day);
                Some((b.field.clone(), size, self.manifest.naming.apply(&b.name)))
            }
        };
        // One query per collection, in the order measures name them.
        let mut queries: IndexMap<&str, AggregateQuery> = IndexMap::new();
        for ((mname, m), when) in def.measures.iter().zip(&agg.whens) {
            let Some((func, _)) = m.function() else {
                continue;
            };
            let Some((cname, field)) = m.target(def.collection.as_deref()) else {
                continue;
            };
            let q = queries.entry(cname).or_default();
            q.measures.push(MeasureQuery {
                wire: self.manifest.naming.apply(mname),
                func,
                field: field.map(str::to_owned),
                when: self.condition(cname, when.as_ref(), &vars)?,
            });
        }
        let mut object = Map::new();
        let mut groups = Vec::new();
        for (cname, mut q) in queries {
            let coll = self
                .collection(cname)
                .ok_or_else(|| StoreError::UnknownCollection(cname.to_owned()))?;
            let mut parts = Vec::new();
            match self.access(ctx, coll, Op::List, None).await? {
                Access::All => {}
                Access::Only(rule) => parts.push(rule),
                // Like a denied list: nothing to measure.
                Access::Denied => parts.push(Filter::Const(false)),
            }
            if Some(cname) == def.collection.as_deref() {
                parts.extend(self.condition(cname, agg.filter.as_ref(), &vars)?);
                q.bucket = bucket.clone();
                q.group = def
                    .group
                    .iter()
                    .map(|f| (f.clone(), self.manifest.wire_name(&coll.def, f)))
                    .collect();
            }
            q.filter = match parts.len() {
                0 => None,
                1 => parts.pop(),
                _ => Some(Filter::And(parts)),
            };
            let rows = self.store.aggregate(ctx, &coll.table, &q).await?;
            for row in rows {
                match serde_json::to_value(&row) {
                    Ok(J::Object(fields)) if !def.grouped() => object.extend(fields),
                    Ok(v) => groups.push(v),
                    Err(_) => {}
                }
            }
        }
        Ok(match def.grouped() {
            true => J::Array(groups),
            false => J::Object(object),
        })
    }

    /// A condition of an aggregate checked against `cname` with the request's values.
    fn condition(
        &self,
        cname: &str,
        expr: Option<&Expr>,
        vars: &dyn Fn(&str) -> Option<J>,
    ) -> Result<Option<Filter>, CoreError> {
        let (Some(expr), Some(coll)) = (expr, self.collection(cname)) else {
            return Ok(None);
        };
        // The condition was checked at open with sample values, so what fails here is a
        // parameter's value that does not fit the field it is compared with.
        let filter = self
            .validator
            .rule(cname, &coll.def, expr, vars)
            .map_err(|e| ValidationError {
                details: vec![FieldError::new("", e)],
            })?;
        Ok(match filter {
            Filter::Const(true) => None,
            f => Some(f),
        })
    }
}
