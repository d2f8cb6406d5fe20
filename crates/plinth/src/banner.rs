//! The few lines `plinth serve` prints on an interactive terminal: where each app is, its
//! API reference page and OpenAPI document, where the data lives, and a demo sign-in when demo data is loaded.

use std::fmt::Write;

/// One served app as the banner shows it.
#[derive(Debug, Clone)]
pub struct Served {
    /// The app's name.
    pub name: String,
    /// Its API base URL.
    pub url: String,
    /// A demo user's email and password, when its demo data is in use.
    pub demo_login: Option<(String, String)>,
}

/// The first demo user with an email and a password in a demo data file (YAML).
pub fn demo_login(demo_yaml: &str) -> Option<(String, String)> {
    let doc: serde_yaml::Value = serde_yaml::from_str(demo_yaml).ok()?;
    doc.get("users")?.as_sequence()?.iter().find_map(|u| {
        let email = u.get("email")?.as_str()?;
        let password = u.get("password")?.as_str()?;
        Some((email.to_owned(), password.to_owned()))
    })
}

/// The banner text.
pub fn render(apps: &[Served], data: &str) -> String {
    let mut out = String::new();
    let width = apps.iter().map(|a| a.name.len()).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "\nPlinth {} is serving {} app(s):\n",
        env!("CARGO_PKG_VERSION"),
        apps.len()
    );
    for a in apps {
        let _ = writeln!(out, "  {:width$}  {}", a.name, a.url);
        let _ = writeln!(out, "  {:width$}  API reference: {}/docs", "", a.url);
        let _ = writeln!(out, "  {:width$}  OpenAPI: {}/openapi.json", "", a.url);
        if let Some((email, password)) = &a.demo_login {
            let _ = writeln!(out, "  {:width$}  demo sign-in: {email} / {password}", "");
        }
    }
    let _ = writeln!(out, "\n  data: {data}");
    let _ = writeln!(out, "  stop: Ctrl-C (in-flight requests finish first)\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_app_with_its_links() {
        let apps = vec![
            Served {
                name: "simflow".into(),
                url: "http://127.0.0.1:8080/simflow/api".into(),
                demo_login: Some(("rita@simflow.example".into(), "pw".into())),
            },
            Served {
                name: "datagen".into(),
                url: "http://127.0.0.1:8080/datagen".into(),
                demo_login: None,
            },
        ];
        let text = render(&apps, "./data (SQLite)");
        assert!(text.contains("serving 2 app(s)"));
        assert!(text.contains("simflow  http://127.0.0.1:8080/simflow/api"));
        assert!(text.contains("API reference: http://127.0.0.1:8080/datagen/docs"));
        assert!(text.contains("OpenAPI: http://127.0.0.1:8080/datagen/openapi.json"));
        assert!(text.contains("demo sign-in: rita@simflow.example / pw"));
        assert!(text.contains("data: ./data (SQLite)"));
        assert_eq!(
            demo_login("users:\n  - { email: a@b.c, password: x }\n"),
            Some(("a@b.c".into(), "x".into()))
        );
        assert_eq!(demo_login("users: []\n"), None);
    }
}
