//! Tokens of the expression language.

use crate::ast::CmpOp;
use crate::parser::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Context(String),
    Str(String),
    Num(serde_json::Number),
    Op(CmpOp),
    And,
    Or,
    Not,
    LParen,
    RParen,
}

/// Split `src` into tokens, each with its byte offset.
pub(crate) fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let two = src.get(i..i + 2).unwrap_or_default();
        let tok = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            _ if two == "&&" => {
                i += 2;
                Tok::And
            }
            _ if two == "||" => {
                i += 2;
                Tok::Or
            }
            _ if two == "!=" || two == "!~" || two == ">=" || two == "<=" => {
                i += 2;
                Tok::Op(match two {
                    "!=" => CmpOp::Ne,
                    "!~" => CmpOp::NotLike,
                    ">=" => CmpOp::Ge,
                    _ => CmpOp::Le,
                })
            }
            b'=' | b'>' | b'<' | b'~' => {
                i += 1;
                Tok::Op(match c {
                    b'=' => CmpOp::Eq,
                    b'>' => CmpOp::Gt,
                    b'<' => CmpOp::Lt,
                    _ => CmpOp::Like,
                })
            }
            b'!' => {
                i += 1;
                Tok::Not
            }
            b'"' | b'\'' => {
                let (s, end) = string(src, i)?;
                i = end;
                Tok::Str(s)
            }
            b'-' | b'0'..=b'9' => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_digit() || *b == b'.'))
                    .map_or(bytes.len(), |p| i + 1 + p);
                let text = &src[i..end];
                let num = if text.contains('.') {
                    text.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                } else {
                    text.parse::<i64>().ok().map(serde_json::Number::from)
                };
                i = end;
                Tok::Num(num.ok_or_else(|| ParseError::at(start, format!("bad number `{text}`")))?)
            }
            b'@' | b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let end = bytes[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.'))
                    .map_or(bytes.len(), |p| i + 1 + p);
                let word = &src[i..end];
                i = end;
                match word.strip_prefix('@') {
                    Some("") => {
                        return Err(ParseError::at(start, "`@` needs a name, e.g. @auth.id"))
                    }
                    Some(path) => Tok::Context(path.to_owned()),
                    None => Tok::Ident(word.to_owned()),
                }
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ParseError::at(
                    start,
                    format!("unexpected character `{ch}`"),
                ));
            }
        };
        out.push((start, tok));
    }
    Ok(out)
}

/// A quoted string starting at `at`; the text and the offset after the closing quote.
fn string(src: &str, at: usize) -> Result<(String, usize), ParseError> {
    let quote = src.as_bytes()[at] as char;
    let mut out = String::new();
    let mut chars = src[at + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c if c == quote => return Ok((out, at + 1 + off + 1)),
            c => out.push(c),
        }
    }
    Err(ParseError::at(at, "unterminated string"))
}
