//! Access rules at work: for a caller and an operation, whether it may touch all records of
//! a collection, only those a rule selects, or none. Rules are parsed once at open.

use plinth_context::{Caller, Ctx};
use plinth_manifest::Rules;
use std::future::Future;
use std::pin::Pin;

use plinth_records::{format_timestamp, Filter, Validator, Value};
use plinth_rules::Expr;
use serde_json::Value as J;

use crate::{CollectionHandle, CoreError};

/// One operation's rule, parsed.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// No rule: admins and service tokens only.
    Missing,
    /// Empty rule: anyone.
    Open,
    /// An expression the record (or the caller) must satisfy; whether it reads a field
    /// of the caller's user record beyond id and role (`@auth.name`), which costs a read.
    Expr(Expr, bool),
}

/// Whether an `@` name is a field of the caller's user record that the token lacks.
pub(crate) fn reads_user(name: &str) -> bool {
    name.strip_prefix("auth.")
        .is_some_and(|f| !matches!(f, "id" | "role"))
}

/// The operations rules govern.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    List = 0,
    View = 1,
    Create = 2,
    Update = 3,
    Delete = 4,
}

/// A collection's rules, one per operation.
pub(crate) type CompiledRules = [Rule; 5];

/// Parse a collection's rules (the manifest check already refused bad ones; one that
/// still fails to parse denies, never opens). A collection without rules is for admins,
/// service tokens and Plinth only: opening one takes an explicit empty rule.
pub(crate) fn compile(rules: Option<&Rules>) -> CompiledRules {
    let Some(rules) = rules else {
        return std::array::from_fn(|_| Rule::Missing);
    };
    rules.all().map(|(_, src)| compile_one(src.as_deref()))
}

/// Check that every rule of `coll` names known fields: compiled once with sample caller
/// values (the manifest check has parsed them and vetted their `@` names).
pub(crate) fn check(
    validator: &Validator,
    cname: &str,
    coll: &plinth_manifest::Collection,
) -> Result<(), String> {
    let rules = coll.rules.iter().flat_map(|r| {
        r.all()
            .map(|(op, src)| (format!("rules.{op}"), src.clone()))
    });
    let transitions = coll
        .transitions
        .iter()
        .map(|(name, t)| (format!("transitions.{name}.rule"), t.rule.clone()));
    for (at, src) in rules.chain(transitions) {
        let Some(expr) = src
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| plinth_rules::parse(s).ok())
        else {
            continue;
        };
        let sample = |name: &str| match name {
            "auth.id" => Some(J::String(uuid::Uuid::nil().to_string())),
            "now" => Some(J::String("2026-01-01T00:00:00Z".into())),
            n if n.starts_with("auth.") => Some(J::String("sample".into())),
            _ => None,
        };
        validator
            .rule(cname, coll, &expr, &sample)
            .map_err(|e| format!("collections.{cname}.{at}: {e}"))?;
    }
    Ok(())
}

/// What a caller may do.
pub(crate) enum Access {
    /// Every record.
    All,
    /// The records the filter selects (or a new record that satisfies it).
    Only(Filter),
    /// Nothing.
    Denied,
}

/// What a rule may read of a request: its context and, for writes, the body as sent.
pub(crate) struct Request<'a> {
    /// Who calls, and when.
    pub ctx: &'a Ctx,
    /// The JSON body of a create or update (wire names).
    pub body: Option<&'a J>,
    /// The caller's user record, wire-named, when the rule reads more than id and role.
    pub user: Option<&'a J>,
}

impl Request<'_> {
    /// Whether deciding `op` on `coll` needs the caller's user record.
    pub(crate) fn needs_user(coll: &CollectionHandle, op: Op) -> bool {
        matches!(coll.rules[op as usize], Rule::Expr(_, true))
    }
}

/// Decide an operation for the caller: Plinth itself, service tokens and users with an
/// admin role pass every rule.
pub(crate) fn access(
    validator: &Validator,
    admin_roles: &[String],
    req: &Request<'_>,
    coll: &CollectionHandle,
    op: Op,
) -> Result<Access, CoreError> {
    decide(validator, admin_roles, req, coll, &coll.rules[op as usize])
}

/// The rules of a collection's transitions and actions, parsed once, by name.
pub(crate) fn compile_own(
    coll: &plinth_manifest::Collection,
) -> std::collections::HashMap<String, Rule> {
    let transitions = coll.transitions.iter().map(|(n, t)| (n, t.rule.as_deref()));
    let actions = coll.actions.iter().map(|(n, a)| (n, a.rule.as_deref()));
    transitions
        .chain(actions)
        .map(|(name, src)| (name.clone(), compile_one(src)))
        .collect()
}

/// One rule's source, parsed (`None`: admins and services only; `''`: anyone).
fn compile_one(src: Option<&str>) -> Rule {
    match src.map(str::trim) {
        None => Rule::Missing,
        Some("") => Rule::Open,
        Some(src) => plinth_rules::parse(src).map_or(Rule::Missing, |e| {
            let user = e.context_names().iter().any(|c| reads_user(c));
            Rule::Expr(e, user)
        }),
    }
}

/// `@auth.id` and `@auth.role` of the caller (null unless a signed-in user).
pub(crate) fn caller_values(ctx: &Ctx) -> (J, J) {
    match &ctx.caller {
        Caller::User { id, role, .. } => (J::String(id.to_string()), J::String(role.clone())),
        _ => (J::Null, J::Null),
    }
}

/// Decide `rule` for the caller of `req` on `coll`.
pub(crate) fn decide(
    validator: &Validator,
    admin_roles: &[String],
    req: &Request<'_>,
    coll: &CollectionHandle,
    rule: &Rule,
) -> Result<Access, CoreError> {
    let ctx = req.ctx;
    match &ctx.caller {
        Caller::System | Caller::Service { .. } => return Ok(Access::All),
        Caller::User { role, .. } if admin_roles.contains(role) => return Ok(Access::All),
        _ => {}
    }
    let (id, role) = caller_values(ctx);
    match rule {
        Rule::Missing => Ok(Access::Denied),
        Rule::Open => Ok(Access::All),
        Rule::Expr(expr, _) => {
            let vars = |name: &str| match name {
                "auth.id" => Some(id.clone()),
                "auth.role" => Some(role.clone()),
                "now" => Some(J::String(format_timestamp(&ctx.now))),
                n if reads_user(n) => req.user?.get(&n["auth.".len()..]).cloned(),
                _ => name
                    .strip_prefix("request.body.")
                    .and_then(|f| req.body?.get(f).cloned()),
            };
            validator
                .rule(&coll.name, &coll.def, expr, &vars)
                .map(|f| match f {
                    // Decided by the caller alone: no row needs to be read to know.
                    Filter::Const(true) => Access::All,
                    Filter::Const(false) => Access::Denied,
                    f => Access::Only(f),
                })
                .map_err(|e| {
                    CoreError::Store(plinth_store::StoreError::Database(format!(
                        "rule of `{}` does not check: {e}",
                        coll.name
                    )))
                })
        }
    }
}

/// The refusal of a create: 401 for an anonymous caller (signing in may help), else 403.
pub(crate) fn refuse_create(ctx: &Ctx) -> CoreError {
    match ctx.caller {
        Caller::Anonymous => CoreError::Unauthenticated("Sign in first".into()),
        _ => CoreError::Forbidden("Not allowed to create this record".into()),
    }
}

/// A boxed future of the settling below (it recurses).
type Settled<'a> = Pin<Box<dyn Future<Output = Result<Filter, CoreError>> + Send + 'a>>;

impl crate::AppService {
    /// A create rule with each relation path (`request_id.created_by = @auth.id`) replaced
    /// by its answer for the candidate: whether the record the candidate points at satisfies
    /// it (one point read each). `get` gives the candidate's stored values.
    pub(crate) fn settle<'a>(
        &'a self,
        ctx: &'a Ctx,
        f: Filter,
        get: &'a (dyn Fn(&str) -> Option<Value> + Sync),
    ) -> Settled<'a> {
        Box::pin(async move {
            Ok(match f {
                Filter::And(parts) => Filter::And(self.settle_all(ctx, parts, get).await?),
                Filter::Or(parts) => Filter::Or(self.settle_all(ctx, parts, get).await?),
                Filter::Not(inner) => Filter::Not(Box::new(self.settle(ctx, *inner, get).await?)),
                Filter::Related {
                    field,
                    target,
                    inner,
                } => {
                    let (Some(id), Some(coll)) = (
                        get(&field).filter(|v| *v != Value::Null),
                        self.any_collection(&target),
                    ) else {
                        return Ok(Filter::Const(false));
                    };
                    let which = Filter::And(vec![Filter::eq("id", id), *inner]);
                    let found = self.store.find(ctx, &coll.table, which).await?;
                    Filter::Const(found.is_some())
                }
                other => other,
            })
        })
    }

    async fn settle_all(
        &self,
        ctx: &Ctx,
        parts: Vec<Filter>,
        get: &(dyn Fn(&str) -> Option<Value> + Sync),
    ) -> Result<Vec<Filter>, CoreError> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            out.push(self.settle(ctx, p, get).await?);
        }
        Ok(out)
    }
}

impl crate::AppService {
    /// Decide the own rule of transition or action `name` for the caller, reading the
    /// caller's user record only when the rule needs it.
    pub(crate) async fn decide_own_rule(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        name: &str,
        body: &J,
    ) -> Result<Access, CoreError> {
        let missing = Rule::Missing;
        let rule = coll.own_rules.get(name).unwrap_or(&missing);
        let user = match rule {
            Rule::Expr(_, true) => self.caller_user(ctx).await?,
            _ => None,
        };
        let req = Request {
            ctx,
            body: Some(body),
            user: user.as_ref(),
        };
        decide(
            &self.validator,
            &self.manifest.admin_roles,
            &req,
            coll,
            rule,
        )
    }

    /// Apply `unit` and take the record its step `at` returned; `None` when a step's
    /// expectation failed (nothing was written).
    pub(crate) async fn apply_for_record(
        &self,
        ctx: &Ctx,
        unit: plinth_store::WriteUnit,
        at: usize,
    ) -> Result<Option<plinth_records::Record>, CoreError> {
        match self.commit(ctx, unit).await {
            Ok(outs) => outs
                .into_iter()
                .nth(at)
                .and_then(plinth_store::StepOut::into_record)
                .map(Some)
                .ok_or_else(|| {
                    CoreError::Store(plinth_store::StoreError::Database("no row returned".into()))
                }),
            Err(plinth_store::StoreError::Expectation(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
