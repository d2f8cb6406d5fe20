//! Access rules: a parsed rule checked against a collection with the caller's `@auth.*`
//! and `@now` values put in, giving a [`Filter`] the store compiles like `filter=`; and the
//! same filter evaluated on a record that is not stored yet (create).

use plinth_manifest::Collection;
use plinth_rules::{CmpOp, Expr, Operand};
use serde_json::Value as J;
use std::cmp::Ordering;

use crate::{Filter, Rhs, Validator, Value};

/// Compare two literals (after `@` values were put in): JSON equality, numeric or text order,
/// case-insensitive containment.
fn literals(a: &J, op: CmpOp, b: &J) -> bool {
    let order = match (a, b) {
        (J::Number(x), J::Number(y)) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        (J::String(x), J::String(y)) => Some(x.cmp(y)),
        (J::Bool(x), J::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    };
    match op {
        CmpOp::Eq => order.map_or(a == b, Ordering::is_eq),
        CmpOp::Ne => !order.map_or(a == b, Ordering::is_eq),
        CmpOp::Gt => order == Some(Ordering::Greater),
        CmpOp::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Lt => order == Some(Ordering::Less),
        CmpOp::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        CmpOp::Like | CmpOp::NotLike => {
            let hit = a
                .as_str()
                .zip(b.as_str())
                .is_some_and(|(x, y)| x.to_lowercase().contains(&y.to_lowercase()));
            hit == (op == CmpOp::Like)
        }
    }
}

impl Validator {
    /// Check a rule against `coll` with the request's values, given by name by `vars`
    /// (`auth.id`, `auth.role`, `now`, `request.body.<field>`; `None` or null when absent,
    /// e.g. for an anonymous caller). A comparison that reads an absent value is false, but
    /// `= null` and `!= null` ask whether it is there: `owner = @auth.id` matches nothing for
    /// an anonymous caller, `@auth.id != null` is how a rule says "signed in", and
    /// `@request.body.role = null` that the body leaves the role alone.
    pub fn rule(
        &self,
        cname: &str,
        coll: &Collection,
        expr: &Expr,
        vars: &dyn Fn(&str) -> Option<J>,
    ) -> Result<Filter, String> {
        let all = |parts: &[Expr]| {
            parts
                .iter()
                .map(|p| self.rule(cname, coll, p, vars))
                .collect::<Result<Vec<_>, _>>()
        };
        match expr {
            Expr::And(parts) => Ok(fold(all(parts)?, true)),
            Expr::Or(parts) => Ok(fold(all(parts)?, false)),
            Expr::Not(inner) => Ok(match self.rule(cname, coll, inner, vars)? {
                Filter::Const(b) => Filter::Const(!b),
                other => Filter::Not(Box::new(other)),
            }),
            Expr::Cmp { left, op, right } => {
                let put = |o: &Operand| match o {
                    Operand::Context(c) => vars(c).filter(|v| !v.is_null()).map(Operand::Literal),
                    other => Some(other.clone()),
                };
                let is_null = |o: &Operand| matches!(o, Operand::Literal(J::Null));
                let (l, r) = match (put(left), put(right)) {
                    (Some(l), Some(r)) => (l, r),
                    // An absent value compared with null: whether it is there.
                    (None, Some(other)) | (Some(other), None) if is_null(&other) => {
                        return Ok(Filter::Const(matches!(op, CmpOp::Eq)));
                    }
                    _ => return Ok(Filter::Const(false)),
                };
                match (&l, &r) {
                    (Operand::Literal(a), Operand::Literal(b)) => {
                        Ok(Filter::Const(literals(a, *op, b)))
                    }
                    _ => self.comparison(cname, coll, &l, *op, &r),
                }
            }
        }
    }
}

/// An AND (`and`) or OR of parts with the caller's known answers folded away, so the SQL
/// only says what depends on the row: `created_by = ? OR FALSE` is `created_by = ?` (simpler
/// plans, and SQLite does not re-prepare a statement whose plan could hinge on a constant).
fn fold(parts: Vec<Filter>, and: bool) -> Filter {
    let mut kept = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            // The neutral element drops out; the absorbing one decides.
            Filter::Const(b) if b == and => {}
            Filter::Const(b) => return Filter::Const(b),
            p => kept.push(p),
        }
    }
    match kept.len() {
        0 => Filter::Const(and),
        1 => kept.pop().unwrap_or(Filter::Const(and)),
        _ if and => Filter::And(kept),
        _ => Filter::Or(kept),
    }
}

fn values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Timestamp(x), Value::Timestamp(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::Uuid(x), Value::Uuid(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Filter {
    /// Whether a record that is not stored yet satisfies the filter, with SQL's meaning
    /// (`= null` is IS NULL; any other comparison with a null side is false). `get` gives
    /// a field's value (`None`: not set).
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<Value>) -> bool {
        match self {
            Filter::Const(b) => *b,
            // Needs the related record: callers settle these first (a query), so one left
            // here matches nothing.
            Filter::Related { .. } => false,
            Filter::And(parts) => parts.iter().all(|p| p.matches(get)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(get)),
            Filter::Not(inner) => !inner.matches(get),
            Filter::Cmp { field, op, right } => {
                let left = get(field).unwrap_or(Value::Null);
                let right = match right {
                    Rhs::Value(v) => v.clone(),
                    Rhs::Field(f) => get(f).unwrap_or(Value::Null),
                };
                match (&left, &right, op) {
                    (_, Value::Null, CmpOp::Eq) => left == Value::Null,
                    (_, Value::Null, CmpOp::Ne) => left != Value::Null,
                    (Value::Null, _, _) | (_, Value::Null, _) => false,
                    (Value::Text(a), Value::Text(b), CmpOp::Like | CmpOp::NotLike) => {
                        a.to_lowercase().contains(&b.to_lowercase()) == (*op == CmpOp::Like)
                    }
                    _ => {
                        let o = values(&left, &right);
                        match op {
                            CmpOp::Eq => o == Some(Ordering::Equal),
                            CmpOp::Ne => o.is_some_and(Ordering::is_ne),
                            CmpOp::Gt => o == Some(Ordering::Greater),
                            CmpOp::Ge => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
                            CmpOp::Lt => o == Some(Ordering::Less),
                            CmpOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                            CmpOp::Like | CmpOp::NotLike => false,
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;
    use uuid::Uuid;

    #[test]
    fn rules_fold_caller_values_and_check_candidates() {
        let m = plinth_manifest::parse("name: t\ncollections:\n  notes:\n    fields:\n      owner: { type: uuid }\n      title: { type: text }\n")
            .expect("manifest");
        let v = Validator::new(&m);
        let coll = &m.collections["notes"];
        let me = Uuid::now_v7();
        let check = |src: &str, vars: &HashMap<&str, J>| {
            v.rule(
                "notes",
                coll,
                &plinth_rules::parse(src).expect("parses"),
                &|name: &str| vars.get(name).cloned(),
            )
            .expect("checks")
        };
        let signed_in = HashMap::from([
            ("auth.id", json!(me.to_string())),
            ("auth.role", json!("MANAGER")),
        ]);
        let anonymous = HashMap::from([("auth.id", J::Null), ("auth.role", J::Null)]);
        assert_eq!(
            check("@auth.role = 'MANAGER'", &signed_in),
            Filter::Const(true)
        );
        assert_eq!(check("@auth.id != null", &anonymous), Filter::Const(false));
        assert_eq!(check("owner = @auth.id", &anonymous), Filter::Const(false));
        let mine = check("owner = @auth.id || @auth.role = 'ADMIN'", &signed_in);
        let get_mine = |f: &str| (f == "owner").then_some(Value::Uuid(me));
        let get_other = |f: &str| (f == "owner").then_some(Value::Uuid(Uuid::now_v7()));
        let get_none = |_: &str| None;
        assert!(mine.matches(&get_mine));
        assert!(!mine.matches(&get_other));
        assert!(!mine.matches(&get_none));
        assert!(check("title ~ 'PLAN'", &signed_in)
            .matches(&|f: &str| (f == "title").then(|| Value::Text("my plan".into()))));
        assert!(v
            .rule(
                "notes",
                coll,
                &plinth_rules::parse("nope = @auth.id").expect("parses"),
                &|name: &str| signed_in.get(name).cloned(),
            )
            .is_err());
        // An absent body field is null: `= null` holds, `!= null` does not.
        let body = HashMap::from([("request.body.title", json!("x"))]);
        assert_eq!(
            check("@request.body.owner = null", &body),
            Filter::Const(true)
        );
        assert_eq!(
            check("@request.body.title = null", &body),
            Filter::Const(false)
        );
        assert_eq!(
            check("@request.body.owner != null || @auth.id = null", &body),
            Filter::Const(true)
        );
        // Known answers fold away: only what depends on the row is left for SQL.
        let owner_or_manager = check("owner = @auth.id || @auth.role = 'ADMIN'", &signed_in);
        assert!(
            matches!(owner_or_manager, Filter::Cmp { .. }),
            "{owner_or_manager:?}"
        );
        assert_eq!(
            check("owner = @auth.id && @auth.role = 'ADMIN'", &signed_in),
            Filter::Const(false)
        );
        assert_eq!(
            check(
                "!(@auth.role = 'MANAGER') || owner = @auth.id && @auth.id = null",
                &signed_in
            ),
            Filter::Const(false)
        );
    }
}
