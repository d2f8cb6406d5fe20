//! Checks of who may do what: the declared roles, each collection's rules and the values
//! rules may read (the rest of the manifest is checked in `check.rs`).

use crate::check::Checker;
use crate::model::{Collection, Manifest};

impl Checker<'_> {
    /// Each rule of `coll` parses and reads only known values.
    pub(crate) fn rules(&mut self, m: &Manifest, name: &str, coll: &Collection) {
        if let Some(rules) = &coll.rules {
            for (op, rule) in rules.all() {
                let Some(src) = rule.as_deref().filter(|r| !r.trim().is_empty()) else {
                    continue;
                };
                let path = ["collections", name, "rules", op];
                match plinth_rules::parse(src) {
                    Err(e) => self.error(&path, format!("invalid rule: {e}")),
                    Ok(expr) => self.rule_values(m, coll, &path, &expr, None),
                }
            }
        }
    }

    /// A rule may read the caller (`@auth.id`, `@auth.role`), `@now` and the request body's
    /// fields by wire name, or, where only some values are `given` (a trigger's `when`),
    /// those; a role it compares `@auth.role` with must be declared.
    pub(crate) fn rule_values(
        &mut self,
        m: &Manifest,
        coll: &crate::Collection,
        path: &[&str],
        expr: &plinth_rules::Expr,
        given: Option<&[&str]>,
    ) {
        for c in expr.context_names() {
            let known = match (
                given,
                c.strip_prefix("request.body."),
                c.strip_prefix("auth."),
            ) {
                (Some(given), _, _) => given.contains(&c.as_str()),
                (None, Some(f), _) => coll.fields.keys().any(|k| m.wire_name(coll, k) == f),
                (None, None, Some(f)) => user_field(m, f),
                (None, None, None) => c == "now",
            };
            match (known, given) {
                (true, _) => {}
                (false, Some(given)) => {
                    let may: Vec<String> = given.iter().map(|v| format!("@{v}")).collect();
                    self.error(path, format!("the rule reads @{c}; it may read {}", may.join(", ")));
                }
                (false, None) => self.error(path, format!("unknown @{c} (rules know @auth.<field of users>, @now and @request.body.<field>)")),
            }
        }
        if m.roles.is_empty() {
            return;
        }
        for role in expr.literals_compared_with("auth.role") {
            if !m.roles.iter().any(|r| r == &role) {
                self.error(path, format!("`{role}` is not one of the app's roles"));
            }
        }
    }

    /// Declared roles: admin roles and the users' default role are among them.
    pub(crate) fn roles(&mut self, m: &Manifest) {
        if m.roles.is_empty() {
            return;
        }
        for r in &m.admin_roles {
            if !m.roles.contains(r) {
                self.error(
                    &["admin_roles"],
                    format!("`{r}` is not one of the app's roles"),
                );
            }
        }
        let role = m
            .collections
            .get(crate::USERS)
            .and_then(|u| u.fields.get("role"));
        if let Some(d) = role
            .and_then(|f| f.default.as_ref())
            .and_then(|d| d.as_str())
        {
            if !m.roles.iter().any(|r| r == d) {
                self.error(
                    &["collections", crate::USERS, "fields", "role", "default"],
                    format!("`{d}` is not one of the app's roles"),
                );
            }
        }
        for v in role.and_then(|f| f.values.as_deref()).unwrap_or_default() {
            if !m.roles.contains(v) {
                self.error(
                    &["collections", crate::USERS, "fields", "role", "values"],
                    format!("`{v}` is not one of the app's roles"),
                );
            }
        }
    }
}

/// Whether `wire` names a field of the app's users (declared, or one every app has).
pub(crate) fn user_field(m: &Manifest, wire: &str) -> bool {
    matches!(wire, "id" | "email" | "role")
        || m.collections.get(crate::USERS).is_some_and(|u| {
            u.fields
                .iter()
                .any(|(k, f)| !f.hidden && m.wire_name(u, k) == wire)
        })
}

#[cfg(test)]
mod tests {
    use crate::parse;

    #[test]
    fn rules_must_parse_and_name_known_values() {
        let ok = parse("name: t\nadmin_roles: [ADMIN]\ncollections:\n  notes:\n    fields:\n      owner: { type: uuid }\n    rules:\n      list: 'owner = @auth.id'\n      view: ''\n")
            .expect("valid");
        assert_eq!(ok.admin_roles, ["ADMIN"]);
        let rules = ok.collections["notes"].rules.as_ref().expect("rules");
        assert_eq!(rules.view.as_deref(), Some(""));
        assert!(rules.delete.is_none());
        let err = parse("name: t\ncollections:\n  notes:\n    fields:\n      owner: { type: uuid }\n    rules:\n      list: 'owner = '\n      view: 'owner = @request.auth.id'\n      remove: ''\n")
            .expect_err("bad rules");
        assert!(err.to_string().contains("unknown field `remove`"), "{err}");
        let err = parse("name: t\ncollections:\n  notes:\n    fields:\n      owner: { type: uuid }\n    rules:\n      list: 'owner = '\n      view: 'owner = @request.auth.id'\n")
            .expect_err("bad rules");
        let msgs: Vec<String> = err
            .0
            .iter()
            .map(|e| format!("{}: {}", e.path, e.message))
            .collect();
        assert!(
            msgs.iter()
                .any(|m| m.starts_with("collections.notes.rules.list: invalid rule")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("rules.view") && m.contains("unknown @request.auth.id")),
            "{msgs:?}"
        );
    }

    #[test]
    fn defaults_from_the_caller_fit_their_fields() {
        let m = parse("name: t\ncollections:\n  notes:\n    fields:\n      owner: { type: uuid, required: true, default: '@auth.id' }\n      by: { type: text, default: '@auth.role' }\n")
            .expect("valid");
        let owner = &m.collections["notes"].fields["owner"];
        assert_eq!(owner.caller_default(), Some("auth.id"));
        assert!(owner.literal_default().is_none());
        let err = parse("name: t\ncollections:\n  notes:\n    fields:\n      n: { type: int, default: '@auth.id' }\n      e: { type: text, default: '@auth.nope' }\n")
            .expect_err("bad caller defaults");
        assert_eq!(err.0.len(), 2, "{err}");
    }
}
