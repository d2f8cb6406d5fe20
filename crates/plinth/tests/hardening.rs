//! Hardening settings: HTTPS from certificate files (reloaded on change, HSTS only when
//! serving TLS) and CORS origins per app.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Backend, TestEnv};
use plinth::config::TlsConfig;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, STRICT_TRANSPORT_SECURITY};

/// A fresh self-signed certificate for 127.0.0.1, written to `dir`: its DER.
fn write_cert(dir: &Path) -> Vec<u8> {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let pem = cert.cert.pem();
    // Key first, then certificate, each by rename: the server never sees a torn pair.
    let tmp = dir.join("tmp.pem");
    std::fs::write(&tmp, cert.signing_key.serialize_pem()).expect("write key");
    std::fs::rename(&tmp, dir.join("key.pem")).expect("place key");
    std::fs::write(&tmp, &pem).expect("write cert");
    std::fs::rename(&tmp, dir.join("cert.pem")).expect("place cert");
    cert.cert.der().to_vec()
}

/// `GET /health` over TLS from a client trusting only `root` (DER): the certificate the
/// server presented and the response head; `None` if the handshake failed. rustls's own
/// blocking client, so that no other test's HTTP client needs a TLS provider.
async fn https_health(addr: SocketAddr, root: &[u8]) -> Option<(Vec<u8>, String)> {
    let root = root.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(root.into()).ok()?;
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").ok()?;
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
        let mut sock = std::net::TcpStream::connect(addr).ok()?;
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        tls.read_to_string(&mut text).ok()?;
        let peer = conn.peer_certificates()?.first()?.to_vec();
        Some((peer, text.to_ascii_lowercase()))
    })
    .await
    .ok()?
}

#[tokio::test]
async fn https_serves_the_files_and_picks_up_a_renewed_certificate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite env");
    let first_der = write_cert(env.dir.path());
    let mut config = env.config(&[("datagen", None)]);
    config.tls = Some(TlsConfig {
        cert_file: env.dir.path().join("cert.pem"),
        key_file: env.dir.path().join("key.pem"),
    });
    let app = env.start(&config).await.expect("server starts");
    assert_eq!(app.running.scheme, "https");
    let addr = app.running.addr;

    let (der, head) = https_health(addr, &first_der).await.expect("https answers");
    assert_eq!(der, first_der);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("strict-transport-security: max-age="),
        "{head}"
    );
    // Plain HTTP on the TLS port is not served.
    let plain = reqwest::get(format!("http://{}/health", app.running.addr)).await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));

    let second_der = write_cert(env.dir.path());
    assert_ne!(first_der, second_der);
    // The files are looked at every few seconds; a fresh client per look, since a pooled
    // connection keeps the certificate it was opened with.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((der, _)) = https_health(addr, &second_der).await {
            assert_eq!(der, second_der);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "renewed certificate never served"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A broken pair is refused and the renewed one stays in service.
    std::fs::write(env.dir.path().join("cert.pem"), "not a certificate").expect("write");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (der, _) = https_health(addr, &second_der).await.expect("still served");
    assert_eq!(der, second_der);
    app.stop().await;
}

#[tokio::test]
async fn plain_http_sends_no_hsts() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite env");
    let app = env.spawn(&["datagen"]).await;
    let r = app.get("/health").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get(STRICT_TRANSPORT_SECURITY).is_none());
    assert_eq!(app.running.scheme, "http");
    app.stop().await;
}

#[tokio::test]
async fn a_missing_certificate_stops_the_start_with_its_name() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite env");
    let mut config = env.config(&[("datagen", None)]);
    config.tls = Some(TlsConfig {
        cert_file: env.dir.path().join("absent.pem"),
        key_file: env.dir.path().join("absent-key.pem"),
    });
    let err = env.start(&config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("absent.pem"), "{err:#}");
}

/// A preflight from `origin` to `path`: the `Access-Control-Allow-Origin` it gets.
async fn preflight(base: &str, path: &str, origin: &str) -> Option<String> {
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("sent");
    r.headers()
        .get(ACCESS_CONTROL_ALLOW_ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn each_app_answers_cors_for_its_own_origins() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite env");
    let mut config = env.config(&[("simflow", None), ("datagen", None)]);
    config.cors_origins = vec!["https://ops.example".into()];
    config
        .apps
        .get_mut("simflow")
        .expect("simflow")
        .cors_origins = Some(vec!["https://sim.example".into()]);
    let app = env.start(&config).await.expect("server starts");
    let sim = "/simflow/api/auth/login";
    let dg = "/datagen/generate";
    let (sim_origin, ops_origin) = ("https://sim.example", "https://ops.example");
    assert_eq!(
        preflight(&app.base, sim, sim_origin).await.as_deref(),
        Some(sim_origin)
    );
    assert_eq!(preflight(&app.base, sim, ops_origin).await, None);
    // Its Socket.IO path is the app's too.
    let io = "/simflow/socket.io/?EIO=4&transport=polling";
    assert_eq!(
        preflight(&app.base, io, sim_origin).await.as_deref(),
        Some(sim_origin)
    );
    // Other apps and the listener's own routes keep the top-level list.
    assert_eq!(
        preflight(&app.base, dg, ops_origin).await.as_deref(),
        Some(ops_origin)
    );
    assert_eq!(preflight(&app.base, dg, sim_origin).await, None);
    assert_eq!(
        preflight(&app.base, "/health", ops_origin).await.as_deref(),
        Some(ops_origin)
    );
    // A prefix of the mount's name is not the mount.
    assert_eq!(
        preflight(&app.base, "/simflowx/api", sim_origin).await,
        None
    );
    app.stop().await;
}
