//! The expression language shared by list filters (`?filter=`) and, later, access rules:
//! `status = "open" && (priority != "Low" || estimated_hours >= 10)`.
//!
//! This crate only parses text into an [`Expr`] tree; checking names against a manifest
//! and compiling to parameterised SQL happen in `records` and `store`. Values are never
//! spliced into SQL: literals stay values all the way down.

mod ast;
mod lexer;
mod parser;

pub use ast::{CmpOp, Expr, Operand};
pub use parser::{parse, ParseError, MAX_DEPTH, MAX_LEN};
