//! HTTPS by rustls from PEM files. The files are looked at every few seconds and read
//! again when either one's modification time or size changes, so a renewed certificate
//! (certbot, cert-manager) is served without a restart; a pair that fails to load is
//! logged and the one in use stays.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use axum_server::tls_rustls::RustlsConfig;
use tokio::task::JoinHandle;

use crate::config::TlsConfig;

/// How often the certificate files are looked at.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Load the pair named by `tls`; an error names the files.
pub async fn load(tls: &TlsConfig) -> Result<RustlsConfig> {
    // One provider for the process: rustls refuses to pick when builds enable several.
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
        .await
        .with_context(|| {
            format!(
                "tls: cannot load certificate {} with key {}",
                tls.cert_file.display(),
                tls.key_file.display()
            )
        })
}

/// What is compared between looks: both files' modification time and size.
fn stamp(tls: &TlsConfig) -> Option<[(SystemTime, u64); 2]> {
    let one = |p: &Path| {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    Some([one(&tls.cert_file)?, one(&tls.key_file)?])
}

/// Reload `config` from `tls`'s files whenever they change, until the task is aborted.
pub fn watch(tls: TlsConfig, config: RustlsConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = stamp(&tls);
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = stamp(&tls);
            if now.is_none() || now == seen {
                // Missing files (mid-rename) are looked at again on the next tick.
                continue;
            }
            // Either way this state is done with: a half-written pair changes again when
            // its writer finishes, and a bad one is reported once, not every tick.
            seen = now;
            match config
                .reload_from_pem_file(&tls.cert_file, &tls.key_file)
                .await
            {
                Ok(()) => {
                    tracing::info!(cert = %tls.cert_file.display(), "tls: certificate reloaded");
                }
                Err(e) => {
                    tracing::error!(cert = %tls.cert_file.display(), error = %e, "tls: reload failed; serving the previous certificate");
                }
            }
        }
    })
}
