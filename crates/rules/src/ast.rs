//! The parsed form of an expression.

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Must not hold.
    Not(Box<Expr>),
    /// A comparison of two operands.
    Cmp {
        /// Left side.
        left: Operand,
        /// The operator.
        op: CmpOp,
        /// Right side.
        right: Operand,
    },
}

impl Expr {
    /// Every `@name` the expression reads, in order (repeats kept).
    pub fn context_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_context(&mut out);
        out
    }

    /// The literals compared with `@name` anywhere in the expression (`@auth.role = "X"`
    /// gives `X`), for checks of the values a rule expects.
    pub fn literals_compared_with(&self, name: &str) -> Vec<String> {
        match self {
            Expr::And(parts) | Expr::Or(parts) => parts
                .iter()
                .flat_map(|p| p.literals_compared_with(name))
                .collect(),
            Expr::Not(inner) => inner.literals_compared_with(name),
            Expr::Cmp { left, right, .. } => match (left, right) {
                (Operand::Context(c), Operand::Literal(serde_json::Value::String(v)))
                | (Operand::Literal(serde_json::Value::String(v)), Operand::Context(c))
                    if c == name =>
                {
                    vec![v.clone()]
                }
                _ => Vec::new(),
            },
        }
    }

    fn collect_context(&self, out: &mut Vec<String>) {
        match self {
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter().for_each(|p| p.collect_context(out));
            }
            Expr::Not(inner) => inner.collect_context(out),
            Expr::Cmp { left, right, .. } => {
                for side in [left, right] {
                    if let Operand::Context(c) = side {
                        out.push(c.clone());
                    }
                }
            }
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A field of the record (`status`, `created_at`).
    Field(String),
    /// A literal: string, number, bool or null.
    Literal(serde_json::Value),
    /// A value from the request's context (`@auth.id`, `@request.method`).
    Context(String),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~`: contains (text).
    Like,
    /// `!~`: does not contain (text).
    NotLike,
}

impl CmpOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Like => "~",
            CmpOp::NotLike => "!~",
        }
    }

    /// The operator with its sides swapped (`a < b` is `b > a`).
    pub fn flipped(self) -> Self {
        match self {
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            other => other,
        }
    }
}
