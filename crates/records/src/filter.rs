//! `?filter=` expressions checked against a collection: field names resolved, literals
//! typed like the field, operators allowed for the type. The store compiles the result to
//! a parameterised WHERE clause.

use plinth_manifest::{Collection, Field, FieldType};
use plinth_rules::{CmpOp, Expr, Operand};

use crate::{Validator, Value};

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// All must hold.
    And(Vec<Filter>),
    /// One must hold.
    Or(Vec<Filter>),
    /// Must not hold.
    Not(Box<Filter>),
    /// Always or never (a rule's comparison of two known values, e.g. `@auth.role = 'ADMIN'`).
    Const(bool),
    /// A condition on the record a relation field points at (`request_id.created_by = ?`):
    /// the relation's id must be one of the target's records that satisfy `inner`.
    Related {
        /// The relation column.
        field: String,
        /// The related collection (its table).
        target: String,
        /// What the related record must satisfy.
        inner: Box<Filter>,
    },
    /// `field op value`.
    Cmp {
        /// Column name.
        field: String,
        /// Operator (`~`, `!~` only on text-like fields).
        op: CmpOp,
        /// A typed value or another field.
        right: Rhs,
    },
}

impl Filter {
    /// `field = value`.
    pub fn eq(field: &str, value: Value) -> Filter {
        Filter::Cmp {
            field: field.to_owned(),
            op: CmpOp::Eq,
            right: Rhs::Value(value),
        }
    }
}

/// The right side of a checked comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// A value, typed like the left field.
    Value(Value),
    /// Another field of the same type.
    Field(String),
}

/// The stored name and definition of the field a filter calls `wire`.
fn field_of<'a>(
    v: &'a Validator,
    cname: &str,
    coll: &Collection,
    wire: &'a str,
) -> Result<(&'a str, Field), String> {
    let name = v
        .field_name(cname, wire)
        .ok_or_else(|| format!("unknown field `{wire}`"))?;
    let field = match name {
        "id" => Field::of(FieldType::Uuid),
        "created_at" if coll.has_created_at() => Field::of(FieldType::Timestamp),
        "updated_at" if coll.has_updated_at() => Field::of(FieldType::Timestamp),
        _ => match coll.fields.get(name) {
            Some(f) if f.kind == FieldType::Json => {
                return Err(format!("json field `{wire}` cannot be filtered"))
            }
            Some(f) => f.clone(),
            None => return Err(format!("unknown field `{wire}`")),
        },
    };
    Ok((name, field))
}

impl Validator {
    /// `rel.sub op value`: a comparison on the record relation `rel` points at, one level
    /// deep, compiled against the related collection.
    fn related(
        &self,
        cname: &str,
        coll: &Collection,
        (rel, sub): (&str, &str),
        op: CmpOp,
        other: &Operand,
    ) -> Result<Filter, String> {
        let (stored, field) = field_of(self, cname, coll, rel)?;
        let target = match (field.kind, &field.collection) {
            (FieldType::Relation, Some(t)) => t,
            _ => {
                return Err(format!(
                    "`{rel}` is not a relation, so `{rel}.{sub}` names nothing"
                ))
            }
        };
        if sub.contains('.') {
            return Err(format!("`{rel}.{sub}`: relation paths go one level deep"));
        }
        if matches!(other, Operand::Field(_)) {
            return Err(format!("`{rel}.{sub}` can only be compared with a value"));
        }
        let tcoll = self
            .collection(target)
            .ok_or_else(|| format!("`{rel}` points at unknown collection `{target}`"))?;
        let inner = self.comparison(target, tcoll, &Operand::Field(sub.to_owned()), op, other)?;
        Ok(Filter::Related {
            field: stored.to_owned(),
            target: target.clone(),
            inner: Box::new(inner),
        })
    }

    /// Check a parsed expression against `coll`.
    pub fn filter(&self, cname: &str, coll: &Collection, expr: &Expr) -> Result<Filter, String> {
        let all = |parts: &[Expr]| {
            parts
                .iter()
                .map(|p| self.filter(cname, coll, p))
                .collect::<Result<Vec<_>, _>>()
        };
        match expr {
            Expr::And(parts) => Ok(Filter::And(all(parts)?)),
            Expr::Or(parts) => Ok(Filter::Or(all(parts)?)),
            Expr::Not(inner) => Ok(Filter::Not(Box::new(self.filter(cname, coll, inner)?))),
            Expr::Cmp { left, op, right } => {
                // A client's filter through a relation would read the related record
                // around its own view rule; relation paths are for manifest rules.
                for side in [left, right] {
                    if let Operand::Field(f) = side {
                        if f.contains('.') {
                            return Err(format!(
                                "`{f}`: filters name the collection's own fields (relation paths are for access rules)"
                            ));
                        }
                    }
                }
                self.comparison(cname, coll, left, *op, right)
            }
        }
    }

    pub(crate) fn comparison(
        &self,
        cname: &str,
        coll: &Collection,
        left: &Operand,
        op: CmpOp,
        right: &Operand,
    ) -> Result<Filter, String> {
        // Put the field on the left: `5 < n` is `n > 5`.
        let (name, op, other) = match (left, right) {
            (Operand::Field(f), other) => (f, op, other),
            (other, Operand::Field(f)) => (f, op.flipped(), other),
            (Operand::Context(c), _) | (_, Operand::Context(c)) => {
                return Err(format!("@{c} is not available in filters"))
            }
            _ => return Err("a comparison needs a field on one side".into()),
        };
        if let Some((rel, sub)) = name.split_once('.') {
            return self.related(cname, coll, (rel, sub), op, other);
        }
        let (stored, field) = field_of(self, cname, coll, name)?;
        let textual = field.kind.is_textual();
        if matches!(op, CmpOp::Like | CmpOp::NotLike) && !textual {
            return Err(format!(
                "`{}` applies to text fields, not `{name}`",
                op.as_str()
            ));
        }
        let ordered = matches!(op, CmpOp::Gt | CmpOp::Ge | CmpOp::Lt | CmpOp::Le);
        if ordered && field.kind == FieldType::Bool {
            return Err(format!(
                "`{}` does not apply to bool field `{name}`",
                op.as_str()
            ));
        }
        let right = match other {
            Operand::Field(f) => {
                let (rstored, rf) = field_of(self, cname, coll, f)?;
                if field.kind.is_textual() != rf.kind.is_textual()
                    || (!textual && field.kind != rf.kind)
                {
                    return Err(format!("`{name}` and `{f}` have different types"));
                }
                Rhs::Field(rstored.to_owned())
            }
            Operand::Literal(v) => {
                if v.is_null() && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    return Err(format!("null can only be compared with = or != (`{name}`)"));
                }
                if matches!(op, CmpOp::Like | CmpOp::NotLike) {
                    match v.as_str() {
                        Some(s) => Rhs::Value(Value::Text(s.to_owned())),
                        None => return Err(format!("`{}` needs a string", op.as_str())),
                    }
                } else {
                    Rhs::Value(
                        self.lookup_value(cname, stored, &field, v)
                            .map_err(|m| format!("`{name}` {m}"))?,
                    )
                }
            }
            Operand::Context(c) => return Err(format!("@{c} is not available in filters")),
        };
        Ok(Filter::Cmp {
            field: stored.to_owned(),
            op,
            right,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Result<Filter, String> {
        let m = plinth_manifest::parse(
            "name: t\ncollections:\n  items:\n    fields:\n      title: { type: text, max: 3 }\n      n: { type: int }\n      done: { type: bool }\n      meta: { type: json }\n      m: { type: int }\n",
        )
        .expect("manifest");
        let v = Validator::new(&m);
        let expr = plinth_rules::parse(src).map_err(|e| e.to_string())?;
        v.filter("items", &m.collections["items"], &expr)
    }

    #[test]
    fn types_literals_and_flips_sides() {
        assert_eq!(
            check("5 < n && title ~ 'longer than max'").expect("valid"),
            Filter::And(vec![
                Filter::Cmp {
                    field: "n".into(),
                    op: CmpOp::Gt,
                    right: Rhs::Value(Value::Int(5))
                },
                Filter::Cmp {
                    field: "title".into(),
                    op: CmpOp::Like,
                    right: Rhs::Value(Value::Text("longer than max".into()))
                },
            ])
        );
        assert!(check("n = m || title != null || created_at > '2026-01-01T00:00:00Z'").is_ok());
    }

    #[test]
    fn rejects_what_cannot_be_compared() {
        for (src, msg) in [
            ("nope = 1", "unknown field"),
            ("meta = 1", "json"),
            ("n ~ 'x'", "text fields"),
            ("done > true", "bool"),
            ("n = 'x'", "integer"),
            ("n > null", "null"),
            ("1 = 1", "field"),
            ("n = title", "different types"),
            ("n = @auth.id", "@auth.id"),
            ("n.title = 'x'", "relation paths"),
        ] {
            let err = check(src).expect_err(src);
            assert!(err.contains(msg), "{src}: {err}");
        }
    }
}
