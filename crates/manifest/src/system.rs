//! System collections (users, sessions, service tokens, audit, jobs, outbox, rate-limit
//! counters), declared in the manifest format in `system.yaml` and merged into an app's
//! manifest, so one planner creates and migrates them like the app's own collections.

use indexmap::IndexMap;

use crate::{Collection, Manifest};

const SYSTEM: &str = include_str!("system.yaml");

/// The name of the users collection every app has.
pub const USERS: &str = "users";

/// The system collection holding rate-limit counters.
pub const RATE_LIMITS: &str = "_plinth_rate_limits";

/// Whether a collection name belongs to Plinth (never served by the generic API).
pub fn is_system(name: &str) -> bool {
    name.starts_with("_plinth_")
}

/// The app's manifest with the system collections merged in: `users` is the app's own,
/// extended by the system fields it lacks (or added whole when it declares none), and the
/// `_plinth_*` collections follow the app's.
pub fn with_system(app: &Manifest) -> Manifest {
    // Built into the binary and covered by a test, so a parse failure cannot ship.
    let system: IndexMap<String, Collection> = serde_yaml::from_str(SYSTEM).unwrap_or_default();
    let mut out = app.clone();
    for (name, coll) in system {
        match out.collections.get_mut(&name) {
            Some(own) => {
                for (fname, field) in coll.fields {
                    own.fields.entry(fname).or_insert(field);
                }
                if own.rules.is_none() {
                    own.rules = coll.rules;
                }
            }
            None => {
                out.collections.insert(name, coll);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_collections_merge_into_an_app() {
        let system: IndexMap<String, Collection> =
            serde_yaml::from_str(SYSTEM).expect("system.yaml parses");
        assert!(system.contains_key("_plinth_jobs") && system.contains_key("_plinth_outbox"));

        let app = crate::parse("name: t\ncollections:\n  users:\n    fields:\n      name: { type: text }\n      role: { type: enum, values: [a, b], required: true, default: a }\n  items:\n    fields:\n      title: { type: text }\n")
            .expect("manifest");
        let m = with_system(&app);
        let users = &m.collections[USERS];
        // The app's declarations win; the system adds what is missing, hidden where secret.
        assert_eq!(users.fields["role"].kind, crate::FieldType::Enum);
        assert!(users.fields["password_hash"].hidden);
        assert!(users.fields.contains_key("email") && users.fields.contains_key("name"));
        assert!(m.collections.contains_key("items"));
        // Users declared without rules get the system's: themself only, no own role change.
        let rules = users.rules.as_ref().expect("system rules on users");
        assert_eq!(rules.view.as_deref(), Some("id = @auth.id"));
        assert!(rules.create.is_none() && rules.delete.is_none());
        for name in [
            "_plinth_sessions",
            "_plinth_service_tokens",
            "_plinth_audit",
            "_plinth_jobs",
            "_plinth_outbox",
            "_plinth_rate_limits",
        ] {
            assert!(
                m.collections.contains_key(name) && is_system(name),
                "{name}"
            );
        }
        assert!(!is_system("users"));

        let bare = crate::parse(
            "name: t\ncollections:\n  items:\n    fields:\n      title: { type: text }\n",
        )
        .expect("manifest");
        assert!(with_system(&bare).collections[USERS].fields["email"].required);
    }
}
