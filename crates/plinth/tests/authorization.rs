//! The authorization matrix of every bundled app, generated from its manifest and demo
//! data, on both databases. For each caller (every demo user, so every role and owners as
//! well as non-owners; a service token; anonymous), each record and each operation, the
//! expected answer is worked out here from the rule and the record as served, by a small
//! evaluator independent of the server's SQL compilation, and the server must give exactly
//! that. A rule added to a manifest is covered without a new test.

mod common;

use std::collections::BTreeMap;

use common::{Reply, TestApp, TestEnv};
use plinth_manifest::{Collection, Manifest, Rules};
use plinth_rules::{CmpOp, Expr, Operand};
use reqwest::Method;
use serde_json::{json, Map, Value};

both!(simflow, clouddrift, quadrax, revops, datagen);

async fn simflow(env: TestEnv) {
    matrix(env, "simflow").await;
}
async fn clouddrift(env: TestEnv) {
    matrix(env, "clouddrift").await;
}
async fn quadrax(env: TestEnv) {
    matrix(env, "quadrax").await;
}
async fn revops(env: TestEnv) {
    matrix(env, "revops").await;
}
async fn datagen(env: TestEnv) {
    matrix(env, "datagen").await;
}

/// Who calls.
#[derive(Debug, Clone)]
enum Who {
    Anonymous,
    Service(String),
    User {
        email: String,
        id: String,
        role: String,
        token: String,
    },
}

impl Who {
    fn token(&self) -> Option<&str> {
        match self {
            Who::Anonymous => None,
            Who::Service(t) | Who::User { token: t, .. } => Some(t),
        }
    }

    fn label(&self) -> String {
        match self {
            Who::Anonymous => "anonymous".into(),
            Who::Service(_) => "service".into(),
            Who::User { email, role, .. } => format!("{email} ({role})"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    List,
    View,
    Create,
    Update,
    Delete,
}

fn rule_of(rules: &Rules, op: Op) -> &Option<String> {
    match op {
        Op::List => &rules.list,
        Op::View => &rules.view,
        Op::Create => &rules.create,
        Op::Update => &rules.update,
        Op::Delete => &rules.delete,
    }
}

/// One check: the app, the collection, the caller, the record, the request body, and
/// every record of the app (for relation paths) by collection and id.
struct Case<'a> {
    m: &'a Manifest,
    coll: &'a Collection,
    who: &'a Who,
    record: &'a Value,
    body: &'a Value,
    all: &'a BTreeMap<String, BTreeMap<String, Value>>,
}

/// What the manifest says the caller may do.
fn allowed(c: &Case<'_>, op: Op) -> bool {
    // Append-only: nobody changes or deletes through the API.
    if c.coll.append_only && matches!(op, Op::Update | Op::Delete) {
        return false;
    }
    match c.who {
        Who::Service(_) => return true,
        Who::User { role, .. } if c.m.admin_roles.contains(role) => return true,
        _ => {}
    }
    // No rules: admins, services and Plinth only.
    let Some(rules) = &c.coll.rules else {
        return false;
    };
    match rule_of(rules, op).as_deref().map(str::trim) {
        None => false,
        Some("") => true,
        Some(src) => eval(&plinth_rules::parse(src).expect("bundled rules parse"), c),
    }
}

/// A record's field by wire name; `rel.sub` reads `sub` of the record `rel` points at.
fn field(c: &Case<'_>, f: &str) -> Value {
    let Some((rel, sub)) = f.split_once('.') else {
        return c.record.get(f).cloned().unwrap_or(Value::Null);
    };
    let target = c
        .coll
        .fields
        .iter()
        .find(|(k, _)| c.m.wire_name(c.coll, k) == rel)
        .and_then(|(_, d)| d.collection.clone())
        .expect("a relation path names a relation");
    c.record
        .get(rel)
        .and_then(Value::as_str)
        .and_then(|id| c.all.get(&target)?.get(id))
        .and_then(|related| related.get(sub).cloned())
        .unwrap_or(Value::Null)
}

/// A value of the expression: `None` is a request value that is not there.
fn operand(o: &Operand, c: &Case<'_>) -> Option<Value> {
    match o {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Field(f) => Some(field(c, f)),
        Operand::Context(name) => {
            let v = match (name.as_str(), c.who) {
                ("auth.id", Who::User { id, .. }) => Value::String(id.clone()),
                ("auth.role", Who::User { role, .. }) => Value::String(role.clone()),
                (n, _) => match n.strip_prefix("request.body.") {
                    Some(f) => c.body.get(f).cloned().unwrap_or(Value::Null),
                    None => Value::Null,
                },
            };
            (!v.is_null()).then_some(v)
        }
    }
}

fn eval(e: &Expr, c: &Case<'_>) -> bool {
    match e {
        Expr::And(parts) => parts.iter().all(|p| eval(p, c)),
        Expr::Or(parts) => parts.iter().any(|p| eval(p, c)),
        Expr::Not(inner) => !eval(inner, c),
        Expr::Cmp { left, op, right } => {
            let (l, r) = match (operand(left, c), operand(right, c)) {
                (Some(l), Some(r)) => (l, r),
                // A missing request value: only `= null` holds.
                (None, Some(Value::Null)) | (Some(Value::Null), None) | (None, None) => {
                    return *op == CmpOp::Eq && (left_is_null(left) || left_is_null(right));
                }
                _ => return false,
            };
            compare(&l, *op, &r)
        }
    }
}

fn left_is_null(o: &Operand) -> bool {
    matches!(o, Operand::Literal(Value::Null))
}

/// SQL's meaning: `= null` is IS NULL, any other comparison with a null is false.
fn compare(l: &Value, op: CmpOp, r: &Value) -> bool {
    match (l, r, op) {
        (_, Value::Null, CmpOp::Eq) | (Value::Null, _, CmpOp::Eq) => l.is_null() && r.is_null(),
        (_, Value::Null, CmpOp::Ne) | (Value::Null, _, CmpOp::Ne) => !(l.is_null() && r.is_null()),
        (Value::Null, _, _) | (_, Value::Null, _) => false,
        _ => {
            let order = match (l, r) {
                (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
                (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
                _ => None,
            };
            use std::cmp::Ordering::*;
            match op {
                CmpOp::Eq => order == Some(Equal),
                CmpOp::Ne => order.is_some_and(|o| o != Equal),
                CmpOp::Gt => order == Some(Greater),
                CmpOp::Ge => matches!(order, Some(Greater | Equal)),
                CmpOp::Lt => order == Some(Less),
                CmpOp::Le => matches!(order, Some(Less | Equal)),
                CmpOp::Like | CmpOp::NotLike => {
                    let hit = l
                        .as_str()
                        .zip(r.as_str())
                        .is_some_and(|(a, b)| a.to_lowercase().contains(&b.to_lowercase()));
                    hit == (op == CmpOp::Like)
                }
            }
        }
    }
}

/// The body of a success in any envelope: `{success, data}`, keyed (`key`), or bare
/// (`items` for a page, the record itself for one).
fn payload<'a>(body: &'a Value, key: &str) -> &'a Value {
    if body.get("success").is_some() {
        &body["data"]
    } else if let Some(v) = body.get(key).or_else(|| body.get("items")) {
        v
    } else {
        body
    }
}

struct Matrix<'a> {
    app: &'a TestApp,
    m: &'a Manifest,
    checked: BTreeMap<(String, Op, bool), usize>,
}

impl Matrix<'_> {
    fn path(&self, coll: &str) -> String {
        format!(
            "/{}{}/{coll}",
            self.m.name,
            self.m.base.trim_end_matches('/')
        )
    }

    async fn send(&self, method: Method, path: &str, who: &Who, body: Option<Value>) -> Reply {
        self.app.send(method, path, who.token(), body).await
    }

    fn expect(&mut self, coll: &str, op: Op, want: bool, got_ok: bool, what: String) {
        assert_eq!(got_ok, want, "{op:?} {what}: expected allowed = {want}");
        *self.checked.entry((coll.to_owned(), op, want)).or_default() += 1;
    }
}

/// A copy of `record` to post again: no id, timestamps or server-set fields, unique values
/// made fresh.
fn copy_of(coll: &Collection, m: &Manifest, record: &Value, n: usize) -> Value {
    let mut out = Map::new();
    for (name, field) in coll.fields.iter().filter(|(_, f)| !f.readonly) {
        let wire = m.wire_name(coll, name);
        let Some(v) = record.get(&wire).filter(|v| !v.is_null()) else {
            continue;
        };
        let v = match v.as_str() {
            Some(s) if field.unique => Value::String(format!("c{n}{s}")),
            _ => v.clone(),
        };
        out.insert(wire, v);
    }
    Value::Object(out)
}

/// A field to patch with its own value: plain, not unique, not read by a body rule.
fn patch_of(coll: &Collection, m: &Manifest, record: &Value) -> Value {
    use plinth_manifest::FieldType as T;
    let body_reads: Vec<String> = coll
        .rules
        .iter()
        .flat_map(|r| [r.create.clone(), r.update.clone()])
        .flatten()
        .filter_map(|src| plinth_rules::parse(&src).ok())
        .flat_map(|e| e.context_names())
        .collect();
    for (name, field) in &coll.fields {
        let wire = m.wire_name(coll, name);
        let plain = matches!(field.kind, T::Text | T::Int | T::Float | T::Bool | T::Json);
        let read = body_reads
            .iter()
            .any(|c| *c == format!("request.body.{wire}"));
        match record.get(&wire) {
            Some(v)
                if plain
                    && !field.unique
                    && !field.hidden
                    && !field.readonly
                    && !read
                    && !v.is_null() =>
            {
                return json!({ wire: v });
            }
            _ => {}
        }
    }
    json!({})
}

async fn callers(app: &TestApp, m: &Manifest) -> Vec<Who> {
    let demo = std::fs::read_to_string(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../apps/").to_owned() + &m.name + "/demo.yaml",
    )
    .expect("demo.yaml");
    let demo: BTreeMap<String, Vec<Value>> = serde_yaml::from_str(&demo).expect("demo parses");
    let mut out = vec![
        Who::Anonymous,
        Who::Service(app.service_token(&m.name, "SERVICE").await),
    ];
    let login = format!("/{}{}/auth/login", m.name, m.base.trim_end_matches('/'));
    for user in demo.get("users").into_iter().flatten() {
        let email = user["email"].as_str().expect("email").to_owned();
        let r = app
            .send(
                Method::POST,
                &login,
                None,
                Some(json!({"email": email, "password": user["password"]})),
            )
            .await;
        assert_eq!(r.status, 200, "{email} signs in: {}", r.body);
        let b = if r.body.get("success").is_some() {
            &r.body["data"]
        } else {
            &r.body
        };
        out.push(Who::User {
            email,
            id: b["user"]["id"].as_str().expect("id").to_owned(),
            role: b["user"]["role"].as_str().expect("role").to_owned(),
            token: b["token"].as_str().expect("token").to_owned(),
        });
    }
    out
}

async fn matrix(env: TestEnv, name: &str) {
    let mut config = env.config(&[(name, None)]);
    config.demo_data = Some(true);
    let app = env.start(&config).await.expect("starts with demo data");
    let m = plinth_manifest::with_system(app.service(name).manifest());
    let who = callers(&app, &m).await;
    let service = who[1].clone();
    let mut x = Matrix {
        app: &app,
        m: &m,
        checked: BTreeMap::new(),
    };
    let served: Vec<(&String, &Collection)> = app
        .service(name)
        .manifest()
        .collections
        .keys()
        .map(|c| (c, &m.collections[c]))
        .collect();
    let mut snapshot = Vec::new();
    for (cname, coll) in &served {
        let all = x
            .send(
                Method::GET,
                &format!("{}?limit=500", x.path(cname)),
                &service,
                None,
            )
            .await;
        assert_eq!(all.status, 200, "{}", all.body);
        let records = payload(&all.body, cname)
            .as_array()
            .expect("records")
            .clone();
        assert!(!records.is_empty(), "demo data has {cname}");
        snapshot.push((*cname, *coll, records));
    }
    let all: BTreeMap<String, BTreeMap<String, Value>> = snapshot
        .iter()
        .map(|(c, _, recs)| {
            let by_id = recs
                .iter()
                .map(|r| (r["id"].as_str().unwrap_or_default().to_owned(), r.clone()))
                .collect();
            (c.to_string(), by_id)
        })
        .collect();
    // Reads, updates (a field set to its own value) and creates (a copy), for everyone.
    // What the manifest allows `who` on `record` of `coll`, `body` being the request's.
    let allow = |coll: &Collection, who: &Who, record: &Value, body: &Value, op: Op| {
        let case = Case {
            m: &m,
            coll,
            who,
            record,
            body,
            all: &all,
        };
        allowed(&case, op)
    };
    for (cname, coll, records) in &snapshot {
        let base = x.path(cname);
        for (n, rec) in records.iter().enumerate() {
            let id = rec["id"].as_str().expect("id");
            for w in &who {
                let what = format!("{cname}/{id} as {}", w.label());
                let want = allow(coll, w, rec, &Value::Null, Op::View);
                let r = x.send(Method::GET, &format!("{base}/{id}"), w, None).await;
                assert!(matches!(r.status.as_u16(), 200 | 404), "{what}: {}", r.body);
                x.expect(cname, Op::View, want, r.status == 200, what.clone());

                let want = allow(coll, w, rec, &Value::Null, Op::List);
                let filter = format!("filter=id%20%3D%20%22{id}%22");
                let r = x
                    .send(Method::GET, &format!("{base}?{filter}"), w, None)
                    .await;
                assert_eq!(r.status, 200, "{what}: {}", r.body);
                let seen = payload(&r.body, cname).as_array().map_or(0, Vec::len);
                x.expect(cname, Op::List, want, seen == 1, what.clone());

                let patch = patch_of(coll, &m, rec);
                let want = allow(coll, w, rec, &patch, Op::Update);
                let r = x
                    .send(Method::PATCH, &format!("{base}/{id}"), w, Some(patch))
                    .await;
                let fixed = coll.append_only && r.status == 405;
                assert!(
                    matches!(r.status.as_u16(), 200 | 404) || fixed,
                    "{what}: {}",
                    r.body
                );
                x.expect(cname, Op::Update, want, r.status == 200, what.clone());

                let copy = copy_of(coll, &m, rec, n);
                let want = allow(coll, w, &copy, &copy, Op::Create);
                let r = x.send(Method::POST, &base, w, Some(copy)).await;
                let refused = match w {
                    Who::Anonymous => 401,
                    _ => 403,
                };
                let status = r.status.as_u16();
                // Allowed: created, a unique clash found after the rule passed, or (a
                // collection that dedupes) the recent equal record answered.
                let found = status == 200 && coll.dedupe.is_some();
                assert!(
                    matches!(status, 201 | 409) || found || status == refused,
                    "{what}: {status} {}",
                    r.body
                );
                x.expect(cname, Op::Create, want, status != refused, what);
            }
        }
    }
    // Deletes last, children before parents: refused callers first, then one allowed.
    for (cname, coll, records) in snapshot.iter().rev() {
        let base = x.path(cname);
        for rec in records {
            let id = rec["id"].as_str().expect("id");
            let mut order: Vec<(bool, &Who)> = who
                .iter()
                .map(|w| (allow(coll, w, rec, &Value::Null, Op::Delete), w))
                .collect();
            order.sort_by_key(|(ok, _)| *ok);
            for (want, w) in order {
                let what = format!("{cname}/{id} as {}", w.label());
                let r = x
                    .send(Method::DELETE, &format!("{base}/{id}"), w, None)
                    .await;
                let status = r.status.as_u16();
                // Gone already (a cascade from a parent) counts as nothing to check.
                if want && status == 404 {
                    continue;
                }
                let fixed = coll.append_only && status == 405;
                assert!(
                    matches!(status, 204 | 404 | 409) || fixed,
                    "{what}: {status} {}",
                    r.body
                );
                x.expect(cname, Op::Delete, want, !matches!(status, 404 | 405), what);
                if want {
                    break;
                }
            }
        }
    }
    // Every operation was seen allowed (a service token at least), and refused wherever
    // a rule is not open to all.
    let seen = |c: &str, op, want| {
        x.checked
            .get(&(c.to_owned(), op, want))
            .copied()
            .unwrap_or(0)
    };
    for (cname, coll, _) in &snapshot {
        for op in [Op::List, Op::View, Op::Create, Op::Update] {
            if op == Op::Update && coll.append_only {
                continue;
            }
            assert!(seen(cname, op, true) > 0, "{cname} {op:?}: never allowed");
        }
        let Some(rules) = &coll.rules else { continue };
        for op in [Op::List, Op::View, Op::Create, Op::Update, Op::Delete] {
            if rule_of(rules, op).as_deref().map(str::trim) != Some("") {
                assert!(seen(cname, op, false) > 0, "{cname} {op:?}: never refused");
            }
        }
    }
    app.stop().await;
}
