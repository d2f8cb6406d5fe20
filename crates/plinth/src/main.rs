//! `plinth`: serve apps, run migrations, check manifests, print OpenAPI documents.

use std::path::PathBuf;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use plinth::apps::{read_manifest, select};
use plinth::config::{Config, LogFormat};
use plinth::serve::open_app;
use tracing_subscriber::EnvFilter;

/// Request handling allocates many small, short-lived buffers (headers, JSON values, SQL
/// parameters) across threads; mimalloc serves them markedly cheaper than glibc's malloc
/// (measured in `bench/`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "plinth",
    version,
    about = "A self-hosted backend platform: apps declared in manifests"
)]
struct Cli {
    /// Configuration file (optional; env vars PLINTH_* override it).
    #[arg(
        long,
        global = true,
        env = "PLINTH_CONFIG",
        default_value = "plinth.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every configured app (migrates each on start) and run its jobs.
    Serve,
    /// Run only job workers and schedules for every configured app (no HTTP).
    Worker,
    /// Show, apply or roll back migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        /// Only this app (required for `down`).
        #[arg(long, global = true)]
        app: Option<String>,
    },
    /// Check a manifest (a file or an app folder) and print every error with its location.
    Check {
        /// `apps/<name>` or `apps/<name>/app.yaml`.
        path: PathBuf,
    },
    /// Print an app's OpenAPI 3.1 document.
    Openapi {
        /// The app's name.
        app: String,
    },
    /// Generate a typed client of an app's API from its OpenAPI document.
    Typegen {
        /// The language (only `ts`: TypeScript types and a fetch client).
        #[arg(long, value_enum)]
        lang: Lang,
        /// The app's name.
        app: String,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make or revoke service tokens (API keys for machine callers).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage an app's users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Copy each app's database (a consistent snapshot, taken while serving) and stored
    /// files into a new folder, with a manifest of checksums.
    Backup {
        /// Only this app.
        #[arg(long)]
        app: Option<String>,
        /// The folder to write (created; must be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup's databases and files back (stop the server first).
    Restore {
        /// The backup folder.
        #[arg(long)]
        from: PathBuf,
        /// Only this app.
        #[arg(long)]
        app: Option<String>,
        /// Replace databases and files that hold data.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Make a token acting as a role; prints it (once) as the last word.
    Create {
        /// The app.
        #[arg(long)]
        app: String,
        /// The role the token acts as.
        #[arg(long)]
        role: String,
        /// A label for the token.
        #[arg(long, default_value = "service")]
        name: String,
    },
    /// Revoke a token by id.
    Revoke {
        /// The app.
        #[arg(long)]
        app: String,
        /// The token's id (printed by `create`).
        id: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a user with a password and a role; prints its id as the last word.
    Create {
        /// The app.
        #[arg(long)]
        app: String,
        /// Email (sign-in name).
        #[arg(long)]
        email: String,
        /// Password (8+ characters with a letter and a digit).
        #[arg(long)]
        password: String,
        /// Role.
        #[arg(long)]
        role: String,
        /// The user's `name` field, for apps that have one.
        #[arg(long)]
        name: Option<String>,
        /// Other fields, as `key=value` in the app's wire names (repeatable).
        #[arg(long = "field")]
        fields: Vec<String>,
    },
}

#[derive(Subcommand, Clone, Copy)]
enum MigrateAction {
    /// Applied migrations and pending changes.
    Status,
    /// Apply pending migrations.
    Up,
    /// Roll back the last migration.
    Down,
}

fn init_logging(config: &Config) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let pretty = match config.log_format {
        LogFormat::Auto => std::io::stdout().is_terminal(),
        LogFormat::Json => false,
        LogFormat::Pretty => true,
    };
    if pretty {
        builder.init()
    } else {
        builder.json().flatten_event(true).init()
    }
}

/// A language `plinth typegen` writes.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Lang {
    /// TypeScript: types and a fetch client (docs/typegen.md).
    Ts,
}

/// `plinth typegen`: the app's client in `lang`, to `out` or stdout.
fn typegen(config: &Config, lang: Lang, app: &str, out: Option<PathBuf>) -> Result<()> {
    let doc = plinth::apps::openapi_document(config, app)?;
    let code = match lang {
        Lang::Ts => plinth_typegen::typescript(&doc).context("generating TypeScript")?,
    };
    match out {
        Some(path) => {
            std::fs::write(&path, code).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            print!("{code}");
            Ok(())
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The message and its causes on one line, without the backtrace anyhow captures
            // when RUST_BACKTRACE is set: a failed command is the user's input or
            // environment (a weak password, a bad config), and Plinth's own bugs panic.
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Run one command.
async fn run(cli: Cli) -> Result<()> {
    let config = Config::load(&cli.config).context("invalid configuration")?;
    init_logging(&config);
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Worker => worker(config).await,
        Command::Migrate { action, app } => migrate(config, action, app).await,
        Command::Check { path } => check(path),
        Command::Typegen { lang, app, out } => typegen(&config, lang, &app, out),
        Command::Token { action } => match action {
            TokenAction::Create { app, role, name } => {
                plinth::admin::create_token(&config, &app, &role, &name).await
            }
            TokenAction::Revoke { app, id } => {
                plinth::admin::revoke_token(&config, &app, &id).await
            }
        },
        Command::User {
            action:
                UserAction::Create {
                    app,
                    email,
                    password,
                    role,
                    name,
                    fields,
                },
        } => {
            plinth::admin::create_user(
                &config,
                &app,
                &email,
                &password,
                &role,
                name.as_deref(),
                &fields,
            )
            .await
        }
        Command::Backup { app, out } => plinth::backup::backup(&config, app.as_deref(), &out).await,
        Command::Restore { from, app, force } => {
            plinth::backup::restore(&config, &from, app.as_deref(), force).await
        }
        Command::Openapi { app } => {
            let doc = plinth::apps::openapi_document(&config, &app)?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Result<()> {
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let running = plinth::start(&config).await?;
    if std::io::stdout().is_terminal() {
        let data = match &config.database_url {
            Some(_) => "PostgreSQL (the configured database_url, a schema per app)".to_owned(),
            None => format!("{} (SQLite, a file per app)", config.data_dir.display()),
        };
        print!("{}", plinth::banner::render(&running.served, &data));
    }
    shutdown_signal().await;
    tracing::info!("shutting down; finishing in-flight requests");
    running.shutdown();
    if tokio::time::timeout(grace, running.wait()).await.is_err() {
        tracing::warn!("grace period over; exiting with requests still open");
    }
    Ok(())
}

async fn worker(config: Config) -> Result<()> {
    let running = plinth::serve::start_workers(&config).await?;
    tracing::info!("running job workers");
    shutdown_signal().await;
    tracing::info!("shutting down; finishing running jobs");
    running.shutdown();
    running.wait().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

async fn migrate(config: Config, action: MigrateAction, only: Option<String>) -> Result<()> {
    let specs = select(&config, only.as_deref())?;
    if matches!(action, MigrateAction::Down) && only.is_none() {
        bail!("`migrate down` rolls back one app: name it with --app");
    }
    for spec in specs {
        let store = open_app(&spec).await?;
        match action {
            MigrateAction::Status => {
                let s = store.migration_status(&store.system_ctx()).await?;
                println!("{}:", spec.name);
                for m in &s.applied {
                    println!(
                        "  applied  {:>4}  {:<24} {}",
                        m.version, m.name, m.applied_at
                    );
                }
                for f in &s.pending_files {
                    println!("  pending  file {f}");
                }
                for c in &s.pending_changes {
                    println!("  pending  {c}");
                }
                for d in &s.destructive {
                    println!("  REFUSED  {d} (needs a hand-written migration)");
                }
                if s.pending_files.is_empty()
                    && s.pending_changes.is_empty()
                    && s.destructive.is_empty()
                {
                    println!("  up to date");
                }
            }
            MigrateAction::Up => {
                let applied = store
                    .migrate_up(&store.system_ctx())
                    .await
                    .with_context(|| format!("app `{}`", spec.name))?;
                if applied.is_empty() {
                    println!("{}: up to date", spec.name);
                }
                for m in applied {
                    println!("{}: applied {m}", spec.name);
                }
            }
            MigrateAction::Down => {
                let name = store.migrate_down(&store.system_ctx()).await?;
                println!("{}: rolled back {name}", spec.name);
            }
        }
    }
    Ok(())
}

fn check(path: PathBuf) -> Result<()> {
    let file = if path.is_dir() {
        path.join("app.yaml")
    } else {
        path
    };
    let m = read_manifest(&file)?;
    println!(
        "{}: ok (app `{}`, {} collections)",
        file.display(),
        m.name,
        m.collections.len()
    );
    Ok(())
}
