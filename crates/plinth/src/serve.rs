//! Opening every app (migrating on the way) and serving their listeners until shutdown.

use anyhow::{Context, Result};
use plinth_core::AppService;
use plinth_http::{listener_router, HttpOptions, Mount};
use std::net::SocketAddr;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::apps::{resolve, AppSpec};
use crate::config::Config;

/// Running listeners; dropping this does not stop them, [`Running::shutdown`] does.
pub struct Running {
    /// The shared listener's bound address (useful with port 0).
    pub addr: SocketAddr,
    /// Apps on their own listeners, by name.
    pub own: Vec<(String, SocketAddr)>,
    /// Every app served, by name (for operator work and tests in the same process).
    pub apps: Vec<(String, Arc<AppService>)>,
    /// What the banner shows of each app (its URL, a demo sign-in).
    pub served: Vec<crate::banner::Served>,
    /// `https` when serving TLS, else `http`.
    pub scheme: &'static str,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    workers: Vec<plinth_jobs::Workers>,
    /// Watches the certificate files (aborted on shutdown).
    tls_watch: Option<JoinHandle<()>>,
}

impl Running {
    /// Stop accepting connections; in-flight requests finish.
    pub fn shutdown(&self) {
        // Open event streams end first; graceful shutdown waits for every response.
        for (_, app) in &self.apps {
            app.close();
        }
        self.shutdown.send_replace(true);
        if let Some(w) = &self.tls_watch {
            w.abort();
        }
    }

    /// Wait for every listener to finish, and the workers' running jobs.
    pub async fn wait(self) -> Result<()> {
        for w in self.workers {
            w.stop().await;
        }
        for t in self.tasks {
            t.await.context("listener task failed")??;
        }
        Ok(())
    }
}

/// Access tokens live this long; a revoked session's token dies within it (docs/auth.md).
const ACCESS_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Open an app (creating a SQLite file if needed) without migrating.
pub async fn open_app(spec: &AppSpec) -> Result<AppService> {
    let app = AppService::open_with_bus(
        spec.manifest.clone(),
        spec.store.clone(),
        spec.events_bus.as_deref(),
    )
    .await
    .with_context(|| {
        format!(
            "app `{}`: cannot open database {:?}",
            spec.name, spec.store.url
        )
    })?;
    Ok(app.with_password_cost(spec.password_cost))
}

/// Resolve, open and migrate every app, then serve (and run job workers unless
/// `jobs.workers` is off). Returns once listeners are bound.
pub async fn start(config: &Config) -> Result<Running> {
    let options = HttpOptions {
        max_body_bytes: config.max_body_bytes,
        cors_origins: config.cors_origins.clone(),
        proxies: plinth_http::TrustedProxies::from_config(
            config.trust_proxy,
            &config.trusted_proxies,
        )
        .map_err(anyhow::Error::msg)?,
        hsts: config.tls.is_some(),
    };
    let tls = match &config.tls {
        Some(t) => Some(crate::tls::load(t).await?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut shared = Vec::new();
    let mut own = Vec::new();
    let mut apps = Vec::new();
    let mut demo = std::collections::HashMap::new();
    for (spec, app) in open_all(config).await? {
        apps.push((spec.name.clone(), app.clone()));
        if let Some(login) = spec.demo.as_deref().and_then(crate::banner::demo_login) {
            demo.insert(spec.name.clone(), login);
        }
        let mount = Mount {
            prefix: spec.mount.clone(),
            app,
            cors_origins: spec.cors_origins.clone(),
        };
        match spec.listen {
            Some(addr) => own.push((spec.name.clone(), addr, mount)),
            None => shared.push(mount),
        }
    }
    let workers = if config.jobs.workers {
        spawn_workers(config, &apps)
    } else {
        Vec::new()
    };
    let (tx, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // What the banner shows of an app `m` on a listener bound at `at`.
    let served_at = |at: SocketAddr, m: &Mount| crate::banner::Served {
        name: m.app.name().to_string(),
        url: format!(
            "{scheme}://{at}{}{}",
            m.prefix.trim_end_matches('/'),
            m.app.manifest().base.trim_end_matches('/')
        ),
        demo_login: demo.get(m.app.name().as_ref()).cloned(),
    };
    let mut served = Vec::new();
    for m in &shared {
        let s = served_at(addr, m);
        tracing::info!(app = %s.name, url = %s.url, "serving");
        served.push(s);
    }
    tasks.push(spawn(
        listener,
        listener_router(&shared, &options),
        tls.clone(),
        rx.clone(),
    )?);
    let mut own_addrs = Vec::new();
    for (name, at, mount) in own {
        let l = TcpListener::bind(at)
            .await
            .with_context(|| format!("app `{name}`: cannot listen on {at}"))?;
        let bound = l.local_addr()?;
        tracing::info!(app = %name, addr = %bound, "serving on its own listener");
        // Its configured mount, if any, counts here too (the router nests it there).
        served.push(served_at(bound, &mount));
        tasks.push(spawn(
            l,
            listener_router(&[mount], &options),
            tls.clone(),
            rx.clone(),
        )?);
        own_addrs.push((name, bound));
    }
    let tls_watch = config
        .tls
        .clone()
        .zip(tls)
        .map(|(files, tls)| crate::tls::watch(files, tls));
    Ok(Running {
        addr,
        own: own_addrs,
        apps,
        served,
        scheme,
        shutdown: tx,
        tasks,
        workers,
        tls_watch,
    })
}

/// Open and migrate every app and run only its job workers and schedules (`plinth worker`).
pub async fn start_workers(config: &Config) -> Result<Running> {
    let mut apps = Vec::new();
    for (spec, app) in open_all(config).await? {
        apps.push((spec.name.clone(), app));
    }
    let workers = spawn_workers(config, &apps);
    Ok(Running {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        own: Vec::new(),
        apps,
        served: Vec::new(),
        scheme: "http",
        shutdown: watch::channel(false).0,
        tasks: Vec::new(),
        workers,
        tls_watch: None,
    })
}

fn spawn_workers(config: &Config, apps: &[(String, Arc<AppService>)]) -> Vec<plinth_jobs::Workers> {
    if config.jobs.lease_secs < 5 {
        // A stall of a third of the lease lets it lapse, and the job runs twice.
        tracing::warn!(lease_secs = config.jobs.lease_secs, "jobs.lease_secs below 5 s: a busy node may see its jobs run again elsewhere (docs/jobs.md)");
    }
    let options = plinth_jobs::WorkerOptions {
        lease: std::time::Duration::from_secs(config.jobs.lease_secs.max(1)),
        poll: std::time::Duration::from_millis(config.jobs.poll_ms.max(1)),
        ..Default::default()
    };
    apps.iter()
        .map(|(_, app)| plinth_jobs::spawn(app.clone(), options.clone()))
        .collect()
}

/// The capabilities built into this binary, by the names manifests use in `run:`.
pub fn runners() -> plinth_core::jobs::Runners {
    let mut r = plinth_core::jobs::Runners::new();
    plinth_datagen::register(&mut r);
    r
}

/// The storage URL of an app's files: its own folder (or prefix) under `files_url`, read
/// by `plinth_files` against `data_dir`.
pub(crate) fn files_url_for(config: &Config, app: &str) -> String {
    let base = match &config.files_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        // Relative to `data_dir` (as every relative files_url is): `data_dir.join` here
        // joined it twice for a relative data_dir (`./data/./data/files`).
        None => "files".to_owned(),
    };
    format!("{base}/{app}")
}

/// Where an app's files are stored.
fn files_for(config: &Config, app: &str) -> Result<plinth_files::FileStore> {
    plinth_files::FileStore::from_url(&files_url_for(config, app), &config.data_dir)
        .with_context(|| format!("app `{app}`: file storage"))
}

/// Resolve, open and migrate every app (loading demo data where configured).
async fn open_all(config: &Config) -> Result<Vec<(AppSpec, Arc<AppService>)>> {
    let mut out = Vec::new();
    for spec in resolve(config)? {
        let secret = crate::token_secret::token_secret(&spec)?;
        let keys = plinth_auth::TokenKeys::new(&spec.name, secret, ACCESS_TOKEN_TTL);
        let app = open_app(&spec)
            .await?
            .with_token_keys(keys)
            .with_rate_limits(spec.rate_limits)
            .with_runners(runners())
            .with_context(|| format!("app `{}`", spec.name))?
            .with_files(files_for(config, &spec.name)?);
        let ctx = app.system_ctx();
        let applied = app
            .migrate_up(&ctx)
            .await
            .with_context(|| format!("app `{}`: migration refused", spec.name))?;
        for m in applied {
            tracing::info!(app = %spec.name, migration = %m, "applied migration");
        }
        if let Some(src) = &spec.demo {
            let n = app
                .load_demo_if_empty(&ctx, src)
                .await
                .with_context(|| format!("app `{}`: demo data", spec.name))?;
            if n > 0 {
                tracing::info!(app = %spec.name, records = n, "loaded demo data");
            }
        }
        out.push((spec, Arc::new(app)));
    }
    Ok(out)
}

fn spawn(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<RustlsConfig>,
    mut rx: watch::Receiver<bool>,
) -> Result<JoinHandle<std::io::Result<()>>> {
    // The peer address is the client for rate limits (unless a trusted proxy says).
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let Some(tls) = tls else {
        return Ok(tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
        }));
    };
    let handle = axum_server::Handle::new();
    let server =
        axum_server::tls_rustls::from_tcp_rustls(listener.into_std()?, tls)?.handle(handle.clone());
    Ok(tokio::spawn(async move {
        tokio::spawn(async move {
            let _ = rx.wait_for(|stop| *stop).await;
            // No deadline here: like the plain listener, in-flight requests finish; the
            // binary bounds the wait with `shutdown_grace_secs`.
            handle.graceful_shutdown(None);
        });
        server.serve(service).await
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_live_under_a_relative_data_dir_once() {
        let config = Config {
            data_dir: "./data".into(),
            ..Config::default()
        };
        let dir = plinth_files::local_dir(&files_url_for(&config, "datagen"), &config.data_dir);
        assert_eq!(
            dir.ok().flatten(),
            Some(std::path::PathBuf::from("./data/files/datagen"))
        );
    }
}
