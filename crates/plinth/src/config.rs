//! Typed configuration, loaded once: built-in defaults, then `plinth.toml`, then `PLINTH_*`
//! environment variables (env wins). Secrets (database URLs) are `SecretString`s, so they
//! are redacted in Debug output and logs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use plinth_manifest::{RateLimit, RateLimits};
use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize, Serializer};

/// Secrets serialise as `"[redacted]"` (or null when unset): a printed or generated
/// configuration never carries them.
fn redacted<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_none(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the shared listener.
    pub listen: SocketAddr,
    /// Folder for the embedded SQLite files.
    pub data_dir: PathBuf,
    /// Database for every app without its own URL; a PostgreSQL URL gives each app a schema
    /// named after it. Unset: one SQLite file per app under `data_dir`.
    #[serde(serialize_with = "redacted")]
    #[schemars(with = "Option<String>")]
    pub database_url: Option<SecretString>,
    /// Log filter, `RUST_LOG` syntax (`RUST_LOG` itself wins when set).
    pub log_level: String,
    /// `auto` (default: `pretty` on a terminal, else `json`), `json` or `pretty`.
    pub log_format: LogFormat,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Allowed CORS origins (`*` for any) on routes of apps without their own
    /// `apps.<name>.cors_origins`, and on `/health`, `/ready`, `/metrics` and `/`.
    pub cors_origins: Vec<String>,
    /// Addresses or CIDRs of the proxies in front of Plinth: `X-Forwarded-For` is believed
    /// only from these peers, skipping their own entries from the right. Set, it replaces
    /// `trust_proxy`.
    pub trusted_proxies: Vec<String>,
    /// Serve HTTPS from certificate files (`[tls]`); unset: plain HTTP.
    pub tls: Option<TlsConfig>,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    pub shutdown_grace_secs: u64,
    /// Load `demo.yaml` into apps whose collections are all empty. Default: only for apps
    /// on the embedded SQLite default (never for a configured database unless set).
    pub demo_data: Option<bool>,
    /// Take the client address for rate limits from `X-Forwarded-For` (set only behind a
    /// proxy that appends it; otherwise any client could claim any address).
    pub trust_proxy: bool,
    /// Where realtime events cross between nodes: unset for the database (PostgreSQL
    /// NOTIFY; nothing to cross on SQLite), or a `nats://host:port` URL.
    pub events_bus: Option<String>,
    /// The argon2id cost of new password hashes (all apps).
    pub argon2: Argon2Config,
    /// Where uploads and job outputs are stored: a folder (each app gets a subfolder;
    /// relative to `data_dir`) or,
    /// in builds with S3, `s3://bucket/prefix`. Unset: `<data_dir>/files`.
    pub files_url: Option<String>,
    /// Background jobs (`[jobs]`).
    pub jobs: JobsConfig,
    /// Per-app settings by app name; bundled apps need no entry.
    pub apps: BTreeMap<String, AppConfig>,
}

/// HTTPS from PEM files (`[tls]`); both are read again when either changes on disk, so a
/// renewed certificate needs no restart.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, PEM.
    pub cert_file: PathBuf,
    /// The private key, PEM.
    pub key_file: PathBuf,
}

/// How this node runs jobs (`[jobs]`, docs/jobs.md).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Run job workers and schedules in `plinth serve` (`plinth worker` always does).
    pub workers: bool,
    /// Seconds a claimed job is held without renewal; a crashed worker's jobs run again
    /// after this.
    pub lease_secs: u64,
    /// Milliseconds between looks for due jobs when nothing wakes the workers sooner.
    pub poll_ms: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: true,
            lease_secs: 30,
            poll_ms: 1000,
        }
    }
}

/// The argon2id cost of new password hashes (`[argon2]`); stored hashes keep their own.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Argon2Config {
    /// Memory in KiB (default 19456: OWASP's minimum).
    pub memory_kib: u32,
    /// Passes (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        let d = plinth_auth::PasswordCost::default();
        Argon2Config {
            memory_kib: d.memory_kib,
            iterations: d.iterations,
            parallelism: d.parallelism,
        }
    }
}

impl From<Argon2Config> for plinth_auth::PasswordCost {
    fn from(c: Argon2Config) -> Self {
        plinth_auth::PasswordCost {
            memory_kib: c.memory_kib,
            iterations: c.iterations,
            parallelism: c.parallelism,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            log_level: "info".into(),
            log_format: LogFormat::Auto,
            max_body_bytes: 1024 * 1024,
            cors_origins: vec!["*".into()],
            shutdown_grace_secs: 10,
            demo_data: None,
            trust_proxy: false,
            trusted_proxies: Vec::new(),
            tls: None,
            events_bus: None,
            argon2: Argon2Config::default(),
            jobs: JobsConfig::default(),
            files_url: None,
            apps: BTreeMap::new(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable on an interactive terminal, JSON otherwise (the default).
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Pretty,
}

/// Settings of one app.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Set to false to not serve a bundled app.
    pub enabled: Option<bool>,
    /// Path of the manifest (`app.yaml`); bundled apps default to `apps/<name>/app.yaml`.
    pub manifest: Option<PathBuf>,
    /// Mount prefix on the shared listener; default `/<name>`; `/` mounts at the root.
    pub mount: Option<String>,
    /// Serve this app on its own listener (mounted at `/`) instead of the shared one.
    pub listen: Option<SocketAddr>,
    /// This app's database URL (`sqlite://...` or `postgres://...`).
    #[serde(serialize_with = "redacted")]
    #[schemars(with = "Option<String>")]
    pub database_url: Option<SecretString>,
    /// PostgreSQL schema; default the app's name.
    pub schema: Option<String>,
    /// Secret that signs the app's access tokens (32+ random bytes, e.g. base64). Unset:
    /// one is generated on first start and kept in `<data_dir>/<app>.token-secret`.
    #[serde(serialize_with = "redacted")]
    #[schemars(with = "Option<String>")]
    pub token_secret: Option<SecretString>,
    /// Overrides of the rate limits the manifest declares.
    pub rate_limits: Option<RateLimitsConfig>,
    /// CORS origins for this app's routes (`*` for any); unset: the top-level
    /// `cors_origins`.
    pub cors_origins: Option<Vec<String>>,
    /// Turn every open rule (`''`) of the app into "signed in", e.g. DataGen, open by its
    /// seed, behind sign-in in a shared deployment.
    pub require_sign_in: bool,
}

/// Overrides of an app's rate limits (`[apps.<name>.rate_limits]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// `false` turns every limit of the app off.
    pub enabled: Option<bool>,
    /// The `auth` group (sign-in routes).
    pub auth: Option<LimitConfig>,
    /// The `api` group (every other route).
    pub api: Option<LimitConfig>,
}

/// An override of one group's limit; what is unset keeps the manifest's value.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    /// `false` turns the group's limit off.
    pub enabled: Option<bool>,
    /// Requests per window (at least 1).
    pub max: Option<u32>,
    /// Window length: `30s`, `15m`, `1h`, `1d`.
    pub window: Option<String>,
}

impl RateLimitsConfig {
    /// The manifest's limits (`declared`) with these overrides applied; an error names
    /// what does not fit.
    pub fn apply(&self, declared: Option<&RateLimits>) -> Result<Option<RateLimits>, String> {
        if self.enabled == Some(false) {
            return Ok(None);
        }
        let mut out = declared.cloned().unwrap_or_default();
        for (name, over, slot) in [
            ("auth", &self.auth, &mut out.auth),
            ("api", &self.api, &mut out.api),
        ] {
            let Some(over) = over else { continue };
            if over.enabled == Some(false) {
                *slot = None;
                continue;
            }
            let (max, window) = match (over.max, &over.window, slot.as_ref()) {
                (Some(m), Some(w), _) => (m, w.clone()),
                (m, w, Some(d)) => (m.unwrap_or(d.max), w.clone().unwrap_or(d.window.clone())),
                _ => return Err(format!("rate_limits.{name}: set both max and window (the manifest has no {name} limit)")),
            };
            let limit = RateLimit { max, window };
            if let Some(p) = limit.problem() {
                return Err(format!("rate_limits.{name}: {p}"));
            }
            *slot = Some(limit);
        }
        Ok(Some(out))
    }
}

impl Config {
    /// Load from defaults, the file (if it exists) and the environment.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        Figment::new()
            .merge(Toml::file(file))
            .merge(Env::prefixed("PLINTH_").ignore(&["config"]).split("__"))
            .extract()
            .map_err(Box::new)
    }
}

#[cfg(test)]
// figment's Jail closures return figment's own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn env_wins_over_file_and_secrets_are_redacted() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "plinth.toml",
                "listen = \"127.0.0.1:9000\"\n[apps.simflow]\nmount = \"/sf\"\ndatabase_url = \"postgres://u:hunter2@h/db\"\n",
            )?;
            jail.set_env("PLINTH_LISTEN", "127.0.0.1:9100");
            jail.set_env("PLINTH_APPS__SIMFLOW__SCHEMA", "sf");
            let c = Config::load(Path::new("plinth.toml")).map_err(|e| *e)?;
            assert_eq!(c.listen.port(), 9100);
            let app = &c.apps["simflow"];
            assert_eq!(app.mount.as_deref(), Some("/sf"));
            assert_eq!(app.schema.as_deref(), Some("sf"));
            assert!(app
                .database_url
                .as_ref()
                .is_some_and(|u| u.expose_secret().contains("hunter2")));
            assert!(!format!("{c:?}").contains("hunter2"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("plinth.toml", "lisen = \"x\"\n")?;
            assert!(Config::load(Path::new("plinth.toml")).is_err());
            Ok(())
        });
    }

    fn quadrax() -> plinth_manifest::Manifest {
        let b = crate::apps::BUNDLED.iter().find(|b| b.name == "quadrax");
        plinth_manifest::parse(b.expect("bundled").manifest).expect("manifest")
    }

    #[test]
    fn argon2_cost_is_configured_and_checked() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("plinth.toml", "[argon2]\nmemory_kib = 8192\n")?;
            jail.set_env("PLINTH_ARGON2__ITERATIONS", "3");
            let c = Config::load(Path::new("plinth.toml")).map_err(|e| *e)?;
            let cost: plinth_auth::PasswordCost = c.argon2.into();
            assert_eq!(
                (cost.memory_kib, cost.iterations, cost.parallelism),
                (8192, 3, 1)
            );
            assert!(cost.params().is_ok());
            jail.set_env("PLINTH_ARGON2__ITERATIONS", "0");
            let mut c = Config::load(Path::new("plinth.toml")).map_err(|e| *e)?;
            c.data_dir = jail.directory().to_path_buf();
            let Err(err) = crate::apps::resolve(&c) else {
                panic!("a bad argon2 cost is refused")
            };
            assert!(format!("{err:#}").contains("argon2"), "{err:#}");
            Ok(())
        });
    }

    #[test]
    fn rate_limits_are_overridden_per_app_and_group() {
        let declared = quadrax().rate_limits.expect("the seed's limits");
        let seed = |g: &Option<RateLimit>| g.as_ref().map(|l| (l.max, l.window.clone()));
        assert_eq!(seed(&declared.auth), Some((5, "15m".into())));
        assert_eq!(seed(&declared.api), Some((100, "15m".into())));
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "plinth.toml",
                "[apps.quadrax.rate_limits.auth]\nmax = 20\nwindow = \"1h\"\n",
            )?;
            jail.set_env("PLINTH_APPS__QUADRAX__RATE_LIMITS__API__MAX", "1000");
            let c = Config::load(Path::new("plinth.toml")).map_err(|e| *e)?;
            let over = c.apps["quadrax"].rate_limits.clone().expect("set");
            let got = over
                .apply(Some(&declared))
                .expect("valid")
                .expect("limited");
            assert_eq!(seed(&got.auth), Some((20, "1h".into())));
            assert_eq!(seed(&got.api), Some((1000, "15m".into())), "window kept");

            jail.set_env("PLINTH_APPS__QUADRAX__RATE_LIMITS__ENABLED", "false");
            let c = Config::load(Path::new("plinth.toml")).map_err(|e| *e)?;
            let over = c.apps["quadrax"].rate_limits.clone().expect("set");
            assert_eq!(over.apply(Some(&declared)), Ok(None), "all off");
            Ok(())
        });
        let off = RateLimitsConfig {
            api: Some(LimitConfig {
                enabled: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = off.apply(Some(&declared)).expect("valid").expect("limited");
        assert!(got.api.is_none() && got.auth.is_some());
        // A group the manifest does not limit needs both values; bad values are refused.
        let half = RateLimitsConfig {
            api: Some(LimitConfig {
                max: Some(3),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(half
            .apply(None)
            .is_err_and(|e| e.contains("both max and window")));
        let bad = RateLimitsConfig {
            auth: Some(LimitConfig {
                window: Some("forever".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(bad
            .apply(Some(&declared))
            .is_err_and(|e| e.contains("forever")));
    }
}
