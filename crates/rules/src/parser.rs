//! Recursive-descent parser: `||` binds looser than `&&`, `!` and parentheses tightest.

use std::fmt;

use crate::ast::{Expr, Operand};
use crate::lexer::{lex, Tok};

/// Longest expression accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses and `!` accepted.
pub const MAX_DEPTH: usize = 32;

/// Why an expression did not parse, and where (byte offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// Byte offset in the expression.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(position: usize, message: impl Into<String>) -> Self {
        ParseError {
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at position {}", self.message, self.position)
    }
}

/// Parse an expression.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    if src.len() > MAX_LEN {
        return Err(ParseError::at(0, format!("longer than {MAX_LEN} bytes")));
    }
    let tokens = lex(src)?;
    if tokens.is_empty() {
        return Err(ParseError::at(0, "empty expression"));
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        end: src.len(),
    };
    let expr = p.or(0)?;
    match p.tokens.get(p.pos) {
        None => Ok(expr),
        Some((at, t)) => Err(ParseError::at(*at, format!("unexpected {}", describe(t)))),
    }
}

struct Parser {
    tokens: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Context(s) => format!("`@{s}`"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Num(n) => format!("number {n}"),
        Tok::Op(op) => format!("`{}`", op.as_str()),
        Tok::And => "`&&`".into(),
        Tok::Or => "`||`".into(),
        Tok::Not => "`!`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(at, _)| *at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ParseError> {
        self.joined(depth, &Tok::Or, Self::and, Expr::Or)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ParseError> {
        self.joined(depth, &Tok::And, Self::unary, Expr::And)
    }

    /// `part (sep part)*`, one node for several parts, the part itself for one.
    fn joined(
        &mut self,
        depth: usize,
        sep: &Tok,
        part: fn(&mut Self, usize) -> Result<Expr, ParseError>,
        join: fn(Vec<Expr>) -> Expr,
    ) -> Result<Expr, ParseError> {
        let mut parts = vec![part(self, depth)?];
        while self.peek() == Some(sep) {
            self.pos += 1;
            parts.push(part(self, depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            join(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(ParseError::at(
                self.here(),
                format!("nested deeper than {MAX_DEPTH}"),
            ));
        }
        match self.peek() {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.or(depth + 1)?;
                let at = self.here();
                match self.next() {
                    Some(Tok::RParen) => Ok(inner),
                    _ => Err(ParseError::at(at, "expected `)`")),
                }
            }
            _ => self.comparison(),
        }
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.operand()?;
        let at = self.here();
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            Some(t) => {
                return Err(ParseError::at(
                    at,
                    format!("expected a comparison operator, found {}", describe(&t)),
                ))
            }
            None => return Err(ParseError::at(at, "expected a comparison operator")),
        };
        let right = self.operand()?;
        Ok(Expr::Cmp { left, op, right })
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let at = self.here();
        Ok(match self.next() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "true" => Operand::Literal(serde_json::Value::Bool(true)),
                "false" => Operand::Literal(serde_json::Value::Bool(false)),
                "null" => Operand::Literal(serde_json::Value::Null),
                _ => Operand::Field(w),
            },
            Some(Tok::Context(path)) => Operand::Context(path),
            Some(Tok::Str(s)) => Operand::Literal(serde_json::Value::String(s)),
            Some(Tok::Num(n)) => Operand::Literal(serde_json::Value::Number(n)),
            Some(t) => {
                return Err(ParseError::at(
                    at,
                    format!("expected a field or value, found {}", describe(&t)),
                ))
            }
            None => return Err(ParseError::at(at, "expected a field or value")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::CmpOp;
    use serde_json::json;

    fn cmp(f: &str, op: CmpOp, v: serde_json::Value) -> Expr {
        Expr::Cmp {
            left: Operand::Field(f.into()),
            op,
            right: Operand::Literal(v),
        }
    }

    #[test]
    fn precedence_and_grouping() {
        let e = parse(r#"status = "open" && (priority != 'Low' || hours >= 10) && !done = true"#)
            .expect("parses");
        assert_eq!(
            e,
            Expr::And(vec![
                cmp("status", CmpOp::Eq, json!("open")),
                Expr::Or(vec![
                    cmp("priority", CmpOp::Ne, json!("Low")),
                    cmp("hours", CmpOp::Ge, json!(10))
                ]),
                Expr::Not(Box::new(cmp("done", CmpOp::Eq, json!(true)))),
            ])
        );
        let e = parse("a = 1 || b = 2 && c = 3").expect("parses");
        assert!(
            matches!(e, Expr::Or(ref parts) if parts.len() == 2 && matches!(parts[1], Expr::And(_)))
        );
    }

    #[test]
    fn literals_context_and_escapes() {
        assert_eq!(
            parse(r#"owner = @auth.id && name ~ "a \"b\"" && x != null && y < -1.5"#)
                .expect("parses"),
            Expr::And(vec![
                Expr::Cmp {
                    left: Operand::Field("owner".into()),
                    op: CmpOp::Eq,
                    right: Operand::Context("auth.id".into())
                },
                cmp("name", CmpOp::Like, json!("a \"b\"")),
                cmp("x", CmpOp::Ne, json!(null)),
                cmp("y", CmpOp::Lt, json!(-1.5)),
            ])
        );
    }

    #[test]
    fn errors_say_where() {
        for (src, pos) in [
            ("", 0),
            ("a =", 3),
            ("a = 1 &&", 8),
            ("(a = 1", 6),
            ("a = 'x", 4),
            ("a # 1", 2),
            ("a = 1 b", 6),
            ("= 1", 0),
        ] {
            let e = parse(src).expect_err(src);
            assert_eq!(e.position, pos, "{src}: {e}");
        }
        let deep = format!("{}a = 1{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep)
            .expect_err("too deep")
            .message
            .contains("nested"));
        assert!(parse(&"a = 1 && ".repeat(1000)).is_err());
    }
}
