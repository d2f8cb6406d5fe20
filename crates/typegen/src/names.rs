//! TypeScript names: odd names and keywords escaped, and one registry per scope so two
//! generated names never collide (the later one gets a number: `Users2`).

use std::collections::BTreeSet;

/// Words that cannot name a binding (a parameter) in strict-mode module code.
const KEYWORDS: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Type names a schema may not take in the generated module: the generator's own, and
/// globals the module (or a file importing from it) refers to. A schema named so gets
/// `Schema` appended (`Error` becomes `ErrorSchema`).
pub(crate) const RESERVED_TYPES: &[&str] = &[
    "ApiError",
    "ApiErrorBody",
    "Array",
    "ArrayBuffer",
    "Awaited",
    "BigInt",
    "Blob",
    "BodyInit",
    "Boolean",
    "Client",
    "ClientOptions",
    "Date",
    "Error",
    "Exclude",
    "Extract",
    "File",
    "FormData",
    "Function",
    "Headers",
    "HeadersInit",
    "JSON",
    "Map",
    "Math",
    "NonNullable",
    "Number",
    "Object",
    "Omit",
    "Partial",
    "Pick",
    "Promise",
    "Readonly",
    "Record",
    "RegExp",
    "Request",
    "RequestInit",
    "ResponseKind",
    "Required",
    "Response",
    "ReturnType",
    "Set",
    "String",
    "Symbol",
    "TokenSource",
    "TypeError",
    "URL",
    "URLSearchParams",
];

/// Names already given in one scope (the module's types, a class's methods, a method's
/// parameters).
#[derive(Debug, Default)]
pub(crate) struct Names {
    taken: BTreeSet<String>,
}

impl Names {
    /// A scope where `reserved` are already taken.
    pub(crate) fn new(reserved: &[&str]) -> Self {
        Names {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// `wanted` if free, else `wanted` with the first free number from 2; now taken.
    pub(crate) fn claim(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_owned();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{wanted}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// The ASCII letter-and-digit runs of `raw` (everything else separates words).
fn words(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// `raw` as a PascalCase identifier (`activity_log` → `ActivityLog`, `UsersInput` kept);
/// `fallback` when nothing usable is left; `_` before a leading digit.
pub(crate) fn pascal(raw: &str, fallback: &str) -> String {
    let mut out = String::new();
    for w in words(raw) {
        let mut chars = w.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() {
        out = fallback.to_owned();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `raw` as a camelCase identifier (`list-users` → `listUsers`, `listUsers` kept).
pub(crate) fn camel(raw: &str, fallback: &str) -> String {
    let p = pascal(raw, fallback);
    let mut chars = p.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => p,
    }
}

/// A type name for the schema called `raw`: PascalCase, and not one of [`RESERVED_TYPES`].
pub(crate) fn type_name(raw: &str) -> String {
    let name = pascal(raw, "Schema");
    if RESERVED_TYPES.contains(&name.as_str()) {
        name + "Schema"
    } else {
        name
    }
}

/// A parameter name for `raw`: camelCase, with `_` after a keyword (`default` → `default_`).
pub(crate) fn binding(raw: &str) -> String {
    let name = camel(raw, "param");
    if KEYWORDS.contains(&name.as_str()) {
        name + "_"
    } else {
        name
    }
}

/// Whether `s` can be written bare as a property name or member.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `raw` as an object key: bare when it is an identifier (keywords are fine there), else
/// quoted (`"content-type"`).
pub(crate) fn property(raw: &str) -> String {
    if is_identifier(raw) {
        raw.to_owned()
    } else {
        string_literal(raw)
    }
}

/// A TypeScript string literal of `s` (JSON's quoting is valid TypeScript).
pub(crate) fn string_literal(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// `s` made safe inside a template literal (`` ` ``, `\` and `${` escaped).
pub(crate) fn template_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${")
}

/// `s` made safe as one line of a `/** */` comment.
pub(crate) fn comment_text(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("*/", "*\\/")
}

/// `key` escaped as one step of a JSON Pointer (`~` and `/`).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
