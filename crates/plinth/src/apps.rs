//! Which apps run and from where: bundled manifests, config overrides, database URLs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use plinth_manifest::Manifest;
use plinth_store::{DbUrl, StoreOptions};
use secrecy::SecretString;

use crate::config::Config;

/// A bundled app: its manifest and demo data, compiled into the binary as a fallback for
/// when `apps/<name>/` is not on disk (e.g. the binary runs from elsewhere).
pub struct BundledApp {
    /// The app's name.
    pub name: &'static str,
    /// `apps/<name>/app.yaml` at build time.
    pub manifest: &'static str,
    /// `apps/<name>/demo.yaml` at build time.
    pub demo: &'static str,
}

macro_rules! bundled {
    ($name:literal) => {
        BundledApp {
            name: $name,
            manifest: include_str!(concat!("../../../apps/", $name, "/app.yaml")),
            demo: include_str!(concat!("../../../apps/", $name, "/demo.yaml")),
        }
    };
}

/// The five bundled apps, one per seed document.
pub const BUNDLED: &[BundledApp] = &[
    bundled!("simflow"),
    bundled!("clouddrift"),
    bundled!("revops"),
    bundled!("datagen"),
    bundled!("quadrax"),
];

fn bundled(name: &str) -> Option<&'static BundledApp> {
    BUNDLED.iter().find(|b| b.name == name)
}

/// One app ready to open.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// The app's name.
    pub name: String,
    /// Its checked manifest.
    pub manifest: Arc<Manifest>,
    /// Where its database is and where its hand-written migrations are.
    pub store: StoreOptions,
    /// Mount prefix on its listener (`""` for the root).
    pub mount: String,
    /// Its own listener, if any.
    pub listen: Option<std::net::SocketAddr>,
    /// Demo data to load when the app's collections are all empty.
    pub demo: Option<String>,
    /// The configured token secret, if any (else one is kept in the data directory).
    pub token_secret: Option<SecretString>,
    /// Where a generated token secret is kept.
    pub token_secret_file: PathBuf,
    /// Rate limits in force: the manifest's, with the configuration's overrides.
    pub rate_limits: plinth_core::Limits,
    /// The argon2id cost of new password hashes.
    pub password_cost: plinth_auth::PasswordCost,
    /// Where its realtime events cross between nodes (`nats://...`; unset: the database).
    pub events_bus: Option<String>,
    /// CORS origins for its routes; None: the listener's (`cors_origins`).
    pub cors_origins: Option<Vec<String>>,
}

/// Read and check a manifest file; errors carry the file name and every location.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let src = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read manifest {}", path.display()))?;
    plinth_manifest::parse(&src).map_err(|errs| {
        let lines: Vec<String> = errs
            .0
            .iter()
            .map(|e| format!("{}:{e}", path.display()))
            .collect();
        anyhow::anyhow!("invalid manifest:\n{}", lines.join("\n"))
    })
}

fn normalize_mount(m: &str) -> String {
    let t = m.trim_end_matches('/');
    if t.is_empty() {
        String::new()
    } else if t.starts_with('/') {
        t.to_owned()
    } else {
        format!("/{t}")
    }
}

/// Every enabled app with its settings resolved.
pub fn resolve(config: &Config) -> Result<Vec<AppSpec>> {
    let mut names: Vec<String> = BUNDLED.iter().map(|b| b.name.to_owned()).collect();
    let custom: Vec<String> = config
        .apps
        .keys()
        .filter(|k| !names.contains(k))
        .cloned()
        .collect();
    names.extend(custom);
    let mut out = Vec::new();
    for name in names {
        let app = config.apps.get(&name).cloned().unwrap_or_default();
        if app.enabled == Some(false) {
            continue;
        }
        let default_path = PathBuf::from(format!("apps/{name}/app.yaml"));
        let path = app.manifest.clone().unwrap_or(default_path);
        let manifest = if path.is_file() {
            read_manifest(&path)?
        } else if let Some(b) = bundled(&name).filter(|_| app.manifest.is_none()) {
            plinth_manifest::parse(b.manifest)
                .map_err(|e| anyhow::anyhow!("bundled manifest {name}: {e}"))?
        } else {
            bail!("app `{name}`: manifest {} not found", path.display());
        };
        if manifest.name != name {
            bail!("app `{name}`: its manifest is named `{}`", manifest.name);
        }
        let configured_url = app
            .database_url
            .clone()
            .or_else(|| config.database_url.clone());
        // Demo data by default only where the database is the embedded default.
        let demo = if config.demo_data.unwrap_or(configured_url.is_none()) {
            let file = path.with_file_name("demo.yaml");
            if file.is_file() {
                Some(
                    std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?,
                )
            } else if app.manifest.is_none() {
                bundled(&name).map(|b| b.demo.to_owned())
            } else {
                None
            }
        } else {
            None
        };
        let url = configured_url.unwrap_or_else(|| {
            SecretString::from(format!(
                "sqlite://{}",
                config.data_dir.join(format!("{name}.db")).display()
            ))
        });
        let schema = app.schema.clone().unwrap_or_else(|| name.clone());
        let url = DbUrl::parse(&url, &schema).with_context(|| format!("app `{name}`"))?;
        let migrations_dir = path.parent().map(|p| p.join("migrations"));
        let mount = match (&app.mount, app.listen) {
            (Some(m), _) => normalize_mount(m),
            (None, Some(_)) => String::new(),
            (None, None) => format!("/{name}"),
        };
        let token_secret_file = config.data_dir.join(format!("{name}.token-secret"));
        let declared = manifest.rate_limits.as_ref();
        let limits = match &app.rate_limits {
            Some(over) => over
                .apply(declared)
                .map_err(|e| anyhow::anyhow!("app `{name}`: {e}"))?,
            None => declared.cloned(),
        };
        let mut manifest = manifest;
        if app.require_sign_in {
            require_sign_in(&mut manifest);
        }
        out.push(AppSpec {
            name,
            manifest: Arc::new(manifest),
            store: StoreOptions {
                url,
                migrations_dir,
            },
            mount,
            listen: app.listen,
            demo,
            token_secret: app.token_secret.clone(),
            token_secret_file,
            rate_limits: plinth_core::Limits::from_manifest(limits.as_ref()),
            password_cost: {
                let cost: plinth_auth::PasswordCost = config.argon2.into();
                cost.params().context("config `argon2`")?;
                cost
            },
            events_bus: config.events_bus.clone(),
            cors_origins: app.cors_origins.clone(),
        });
    }
    check_paths(&out)?;
    Ok(out)
}

/// Turn every open rule (`""`, anyone) of the app into "signed in"
/// (`apps.<name>.require_sign_in`); other rules stay as they are.
fn require_sign_in(manifest: &mut Manifest) {
    for rules in manifest
        .collections
        .values_mut()
        .filter_map(|c| c.rules.as_mut())
    {
        for rule in [
            &mut rules.list,
            &mut rules.view,
            &mut rules.create,
            &mut rules.update,
            &mut rules.delete,
        ] {
            if rule.as_deref().is_some_and(|r| r.trim().is_empty()) {
                *rule = Some("@auth.id != null".to_owned());
            }
        }
    }
}

/// Two apps on one listener under the same API path would shadow each other (and axum
/// refuses overlapping routes by panicking), so say which ones clash instead.
fn check_paths(specs: &[AppSpec]) -> Result<()> {
    let mut seen: Vec<(Option<std::net::SocketAddr>, String, &str)> = Vec::new();
    for s in specs {
        let path = format!("{}{}", s.mount, s.manifest.base.trim_end_matches('/'));
        if let Some((_, _, other)) = seen.iter().find(|(l, p, _)| *l == s.listen && *p == path) {
            bail!(
                "apps `{other}` and `{}` are both served at `{}/` on the same listener: give one another mount",
                s.name,
                path
            );
        }
        seen.push((s.listen, path, &s.name));
    }
    Ok(())
}

/// The configured app `name`.
pub fn find(config: &Config, name: &str) -> Result<AppSpec> {
    resolve(config)?
        .into_iter()
        .find(|s| s.name == name)
        .with_context(|| format!("no app named `{name}`"))
}

/// Every configured app, or only the one named by `only`.
pub fn select(config: &Config, only: Option<&str>) -> Result<Vec<AppSpec>> {
    match only {
        None => resolve(config),
        Some(name) => Ok(vec![find(config, name)?]),
    }
}

/// The OpenAPI document of the configured app `name`, its server URL under the app's
/// mount and base (as `plinth openapi` prints it).
pub fn openapi_document(config: &Config, name: &str) -> Result<serde_json::Value> {
    let spec = find(config, name)?;
    let base = format!("{}{}", spec.mount, spec.manifest.base.trim_end_matches('/'));
    Ok(plinth_http::openapi_document(
        &spec.manifest,
        if base.is_empty() { "/" } else { &base },
        spec.rate_limits,
    ))
}
