//! Access rules at work: for a caller and an operation, whether it may touch all records of
//! a collection, only those a rule selects, or none. Rules are parsed once at open.

use plinth_context::{Caller, Ctx};
use plinth_manifest::Rules;
use plinth_records::{format_timestamp, Filter, Validator};
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
    /// An expression the record (or the caller) must satisfy.
    Expr(Expr),
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

/// A collection's rules, or `None` when it declares none (open to anyone).
pub(crate) type CompiledRules = Option<[Rule; 5]>;

/// Parse a collection's rules (the manifest check already refused bad ones; one that
/// still fails to parse denies, never opens).
pub(crate) fn compile(rules: Option<&Rules>) -> CompiledRules {
    let rules = rules?;
    Some(
        rules
            .all()
            .map(|(_, src)| match src.as_deref().map(str::trim) {
                None => Rule::Missing,
                Some("") => Rule::Open,
                Some(src) => plinth_rules::parse(src).map_or(Rule::Missing, Rule::Expr),
            }),
    )
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
    let ctx = req.ctx;
    let Some(rules) = &coll.rules else {
        return Ok(Access::All);
    };
    let (id, role) = match &ctx.caller {
        Caller::System | Caller::Service { .. } => return Ok(Access::All),
        Caller::User { role, .. } if admin_roles.contains(role) => return Ok(Access::All),
        Caller::User { id, role, .. } => (J::String(id.to_string()), J::String(role.clone())),
        Caller::Anonymous => (J::Null, J::Null),
    };
    match &rules[op as usize] {
        Rule::Missing => Ok(Access::Denied),
        Rule::Open => Ok(Access::All),
        Rule::Expr(expr) => {
            let vars = |name: &str| match name {
                "auth.id" => Some(id.clone()),
                "auth.role" => Some(role.clone()),
                "now" => Some(J::String(format_timestamp(&ctx.now))),
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
