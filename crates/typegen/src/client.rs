//! The document's operations as methods of the `Client` class: positional path
//! parameters, then the body, then a query object, each typed; a typed result; and the
//! `ApiErrorBody` union of every error response.

use serde_json::{Map, Value};

use crate::names::{
    binding, camel, comment_text, escape, pascal, string_literal, template_text, Names,
};
use crate::operation::{body, param_schema, parameters, query_schema, resolve, responses};
use crate::schema::{invalid, Schemas};
use crate::TypegenError;

/// The path item keys that are operations, in the order methods are written.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// What the operations add to the module.
pub(crate) struct Operations {
    /// `export type`/`interface` declarations of queries, bodies and responses.
    pub(crate) types: String,
    /// The `Client` methods.
    pub(crate) methods: String,
    /// The union of every error response's type.
    pub(crate) error_body: String,
}

/// The method name an operation wants: its `operationId`, else its method and path
/// (`GET /status/{id}` → `getStatusById`).
fn wanted_name(path: &str, method: &str, op: &Value) -> String {
    if let Some(id) = op.get("operationId").and_then(Value::as_str) {
        return camel(id, method);
    }
    let words: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(p) => format!("by {p}"),
                None => s.to_owned(),
            },
        )
        .collect();
    match words.is_empty() {
        true => camel(&format!("{method} root"), method),
        false => camel(&format!("{method} {}", words.join(" ")), method),
    }
}

/// One method argument: name, type, whether it may be left out.
struct Arg {
    name: String,
    ty: String,
    optional: bool,
}

/// The argument list; an optional argument before a required one must be passed (maybe
/// as `undefined`).
fn signature(args: &[Arg]) -> String {
    let mut later_required = false;
    let mut list: Vec<String> = Vec::new();
    for a in args.iter().rev() {
        list.push(match (a.optional, later_required) {
            (true, false) => format!("{}?: {}", a.name, a.ty),
            (true, true) => format!("{}: {} | undefined", a.name, a.ty),
            (false, _) => format!("{}: {}", a.name, a.ty),
        });
        later_required |= !a.optional;
    }
    list.reverse();
    list.join(", ")
}

/// The generator's walk over the operations.
struct Walk<'a> {
    doc: &'a Value,
    schemas: &'a Schemas<'a>,
    types: String,
    methods: String,
    errors: Vec<String>,
}

impl Walk<'_> {
    /// Declare the types of one operation and write its method `name`.
    fn operation(
        &mut self,
        path: &str,
        method: &str,
        name: &str,
        names: &mut Names,
    ) -> Result<(), TypegenError> {
        let item_at = format!("/paths/{}", escape(path));
        let at = format!("{item_at}/{method}");
        let doc = self.doc;
        let item = resolve(doc, &doc["paths"][path], &item_at)?;
        let op = &item[method];
        let base = pascal(name, "Operation");
        let params = parameters(doc, item, op, [&item_at, &at])?;
        let mut args = Vec::new();

        // Path parameters, in the path's order, each encoded into the URL.
        let mut locals = Names::new(&["body", "query", "init"]);
        let (mut url, mut rest) = (String::new(), path);
        while let Some((open, close)) = rest
            .find('{')
            .and_then(|o| Some((o, o + rest[o..].find('}')?)))
        {
            let raw = &rest[open + 1..close];
            let ty = match params
                .iter()
                .find(|(n, place, _)| *n == raw && *place == "path")
            {
                Some((_, _, p)) => self.schemas.ty(&param_schema(p), &at, 1)?,
                None => "string".into(),
            };
            let var = locals.claim(&binding(raw));
            url.push_str(&template_text(&rest[..open]));
            url.push_str(&format!("${{encodeURIComponent(String({var}))}}"));
            args.push(Arg {
                name: var,
                ty,
                optional: false,
            });
            rest = &rest[close + 1..];
        }
        url.push_str(&template_text(rest));

        let (mut body_arg, mut media_arg) = ("undefined", "undefined".to_owned());
        if let Some(b) = body(doc, self.schemas, op, &at)? {
            let tname = names.claim(&format!("{base}Body"));
            self.types.push_str(&match b.schema {
                Some(s) => self.schemas.declare(&tname, s, &b.at)?,
                None => format!("export type {tname} = {};\n", b.platform_type),
            });
            self.types.push('\n');
            args.push(Arg {
                name: "body".into(),
                ty: tname,
                optional: !b.required,
            });
            (body_arg, media_arg) = ("body", string_literal(b.media));
        }

        let mut query_arg = "undefined";
        if params.iter().any(|(_, place, _)| *place == "query") {
            let (schema, required) = query_schema(&params);
            let tname = names.claim(&format!("{base}Query"));
            self.types.push_str(&self.schemas.declare(
                &tname,
                &schema,
                &format!("{at}/parameters"),
            )?);
            self.types.push('\n');
            args.push(Arg {
                name: "query".into(),
                ty: tname,
                optional: !required,
            });
            query_arg = "query";
        }

        let out = responses(doc, self.schemas, op, &at)?;
        for e in out.errors {
            if !self.errors.contains(&e) {
                self.errors.push(e);
            }
        }
        let rname = names.claim(&format!("{base}Response"));
        self.types
            .push_str(&format!("export type {rname} = {};\n\n", out.result));
        args.push(Arg {
            name: "init".into(),
            ty: "RequestInit".into(),
            optional: true,
        });

        let mut comment = format!("`{} {}`", method.to_uppercase(), comment_text(path));
        if let Some(s) = op
            .get("summary")
            .or_else(|| op.get("description"))
            .and_then(Value::as_str)
        {
            comment.push_str(&format!(": {}", comment_text(s)));
        }
        if !out.failures.is_empty() {
            comment.push_str(&format!(". Throws ApiError on {}", out.failures.join(", ")));
        }
        if op.get("deprecated") == Some(&Value::Bool(true)) {
            comment.push_str(". @deprecated");
        }
        self.methods.push_str(&format!(
            "\n  /** {comment}. */\n  {name}({}): Promise<{rname}> {{\n    return this._request<{rname}>({}, `{url}`, {query_arg}, {body_arg}, {media_arg}, {}, init);\n  }}\n",
            signature(&args),
            string_literal(&method.to_uppercase()),
            string_literal(out.kind),
        ));
        Ok(())
    }
}

/// Walk every operation of `doc` (paths in order, methods in [`METHODS`] order).
pub(crate) fn operations(
    doc: &Value,
    schemas: &Schemas,
    names: &mut Names,
) -> Result<Operations, TypegenError> {
    let empty = Map::new();
    let paths = match doc.get("paths") {
        None => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return Err(invalid("/paths", "must be an object")),
    };
    let mut keys: Vec<&String> = paths.keys().collect();
    keys.sort();
    let mut ops = Vec::new();
    for path in keys {
        let item = resolve(doc, &paths[path], &format!("/paths/{}", escape(path)))?;
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                ops.push((path.as_str(), *method, op));
            }
        }
    }
    // Names from operationIds are claimed first, so a made-up name never takes one.
    let mut members = Names::new(&["constructor", "_options", "_fetch", "_request"]);
    let mut method_names = vec![String::new(); ops.len()];
    for explicit in [true, false] {
        for (i, (path, method, op)) in ops.iter().enumerate() {
            if op.get("operationId").is_some() == explicit {
                method_names[i] = members.claim(&wanted_name(path, method, op));
            }
        }
    }
    let mut walk = Walk {
        doc,
        schemas,
        types: String::new(),
        methods: String::new(),
        errors: Vec::new(),
    };
    for ((path, method, _), name) in ops.iter().zip(&method_names) {
        walk.operation(path, method, name, names)?;
    }
    let error_body = match walk.errors.is_empty() {
        true => "unknown".to_owned(),
        false => walk.errors.join(" | "),
    };
    Ok(Operations {
        types: walk.types,
        methods: walk.methods,
        error_body,
    })
}
