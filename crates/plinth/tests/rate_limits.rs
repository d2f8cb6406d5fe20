//! Rate limits: the auth group keyed by address, the api group by signed-in caller (else
//! address), 429 with `Retry-After` in the app's error style, QUADRAX's seed defaults and
//! their overrides, and one count shared by two nodes on one PostgreSQL. Windows are long
//! (15 minutes and more), so no test can straddle one.

mod common;

use std::path::PathBuf;

use common::{assert_object_error, assert_string_error, Backend, Reply, TestApp, TestEnv};
use plinth::config::{Config, LimitConfig, RateLimitsConfig};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(
    auth_group_answers_429_after_its_budget,
    api_group_budgets_per_user_and_per_address,
    quadrax_has_the_seed_limits,
    trusted_proxies_decide_whose_forwarded_for_counts,
);

/// A small app `lim` (object-style errors) with `limits` as its `rate_limits` block.
fn lim_config(env: &TestEnv, limits: &str) -> Config {
    let path: PathBuf = env.dir.path().join("lim.yaml");
    let manifest = format!(
        "name: lim\nbase: /api\nrate_limits:\n{limits}\ncollections:\n  notes:\n    fields:\n      title: {{ type: text }}\n    rules: {{ list: '', view: '', create: '', update: '', delete: '' }}\n"
    );
    std::fs::write(&path, manifest).expect("write manifest");
    let mut config = env.config(&[("lim", Some(path))]);
    // The helper gives every declared limit room to spare; these tests want them as written.
    if let Some(app) = config.apps.get_mut("lim") {
        app.rate_limits = None;
    }
    config
}

fn retry_after(r: &Reply) -> u64 {
    r.headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {:?}", r.headers))
}

async fn login(app: &TestApp, base: &str) -> Reply {
    app.post(
        &format!("{base}/auth/login"),
        json!({"email": "nobody@example.com", "password": "wrongPass123"}),
    )
    .await
}

/// Register a user (the auth group is unlimited where this is used); its access token.
async fn register(app: &TestApp, email: &str) -> String {
    let r = app
        .post(
            "/lim/api/auth/register",
            json!({"email": email, "password": "goodPass123"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["data"]["token"].as_str().expect("token").to_owned()
}

async fn auth_group_answers_429_after_its_budget(env: TestEnv) {
    let config = lim_config(&env, "  auth: { max: 3, window: 15m }");
    let app = env.start(&config).await.expect("server starts");
    for _ in 0..3 {
        assert_eq!(login(&app, "/lim/api").await.status, 401);
    }
    let over = login(&app, "/lim/api").await;
    assert_object_error(&over, 429, "RATE_LIMITED");
    let secs = retry_after(&over);
    assert!((1..=900).contains(&secs), "Retry-After {secs}");
    // One budget for the whole group, per address: registering is refused too.
    let reg = app
        .post(
            "/lim/api/auth/register",
            json!({"email": "a@example.com", "password": "goodPass123"}),
        )
        .await;
    assert_object_error(&reg, 429, "RATE_LIMITED");
    // The api group has no limit here.
    for _ in 0..10 {
        assert_eq!(app.get("/lim/api/notes").await.status, 200);
    }
    // The document says which operations can answer 429.
    let doc = app.get("/lim/api/openapi.json").await.body;
    assert!(doc["paths"]["/auth/login"]["post"]["responses"]["429"].is_object());
    assert!(doc["paths"]["/notes"]["get"]["responses"]
        .get("429")
        .is_none());
    app.stop().await;
}

async fn get_as(app: &TestApp, token: Option<&str>) -> StatusCode {
    app.send(Method::GET, "/lim/api/notes", token, None)
        .await
        .status
}

async fn api_group_budgets_per_user_and_per_address(env: TestEnv) {
    let config = lim_config(&env, "  api: { max: 3, window: 1h }");
    let app = env.start(&config).await.expect("server starts");
    let (ann, bob) = (
        register(&app, "ann@example.com").await,
        register(&app, "bob@example.com").await,
    );
    for _ in 0..3 {
        assert_eq!(get_as(&app, Some(&ann)).await, 200);
    }
    let over = app
        .send(Method::GET, "/lim/api/notes", Some(&ann), None)
        .await;
    assert_object_error(&over, 429, "RATE_LIMITED");
    assert!((1..=3600).contains(&retry_after(&over)));
    // Bob and anonymous callers have budgets of their own; any route of the group counts.
    for _ in 0..3 {
        assert_eq!(get_as(&app, Some(&bob)).await, 200);
    }
    assert_eq!(get_as(&app, Some(&bob)).await, 429);
    assert_eq!(app.get("/lim/api/auth/me").await.status, 401, "anonymous");
    assert_eq!(get_as(&app, None).await, 200);
    assert_eq!(app.get("/lim/api/openapi.json").await.status, 200);
    assert_eq!(get_as(&app, None).await, 429, "anonymous: one address");
    // Without trust_proxy a client cannot pick its address.
    let spoofed = app
        .client
        .get(format!("{}/lim/api/notes", app.base))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect("sent");
    assert_eq!(spoofed.status(), 429);
    app.stop().await;

    // Behind a trusted proxy the nearest X-Forwarded-For entry is the client.
    let mut config = config;
    config.trust_proxy = true;
    let app = env.start(&config).await.expect("server starts");
    let via = |chain: &'static str| {
        app.client
            .get(format!("{}/lim/api/notes", app.base))
            .header("x-forwarded-for", chain)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(via("198.51.100.7").await.expect("sent").status(), 200);
    }
    assert_eq!(via("198.51.100.7").await.expect("sent").status(), 429);
    // A client's own claim before the proxy's entry changes nothing.
    let claimed = via("10.9.9.9, 198.51.100.7").await.expect("sent");
    assert_eq!(claimed.status(), 429);
    assert_eq!(via("198.51.100.8").await.expect("sent").status(), 200);
    app.stop().await;
}

async fn quadrax_has_the_seed_limits(env: TestEnv) {
    let mut config = env.config(&[("quadrax", None)]);
    let quadrax = config.apps.get_mut("quadrax").expect("configured");
    quadrax.rate_limits = None;
    let app = env.start(&config).await.expect("server starts");
    for _ in 0..5 {
        assert_eq!(login(&app, "/quadrax/api").await.status, 401);
    }
    let over = login(&app, "/quadrax/api").await;
    assert_string_error(&over, 429, "RATE_LIMITED");
    assert!((1..=900).contains(&retry_after(&over)));
    let doc = app.get("/quadrax/api/openapi.json").await.body;
    let listed = &doc["paths"]["/workstations"]["get"]["responses"]["429"];
    assert!(listed["headers"]["Retry-After"].is_object(), "{listed}");
    app.stop().await;

    // The operator turns the auth limit off and raises the api one.
    let quadrax = config.apps.get_mut("quadrax").expect("configured");
    quadrax.rate_limits = Some(RateLimitsConfig {
        auth: Some(LimitConfig {
            enabled: Some(false),
            ..Default::default()
        }),
        api: Some(LimitConfig {
            max: Some(1000),
            ..Default::default()
        }),
        ..Default::default()
    });
    let app = env.start(&config).await.expect("server starts");
    for _ in 0..8 {
        assert_eq!(login(&app, "/quadrax/api").await.status, 401);
    }
    let doc = app.get("/quadrax/api/openapi.json").await.body;
    let login_doc = &doc["paths"]["/auth/login"]["post"]["responses"];
    assert!(login_doc.get("429").is_none(), "{login_doc}");
    let listed = &doc["paths"]["/workstations"]["get"]["responses"]["429"];
    assert!(listed.to_string().contains("1000"), "{listed}");
    app.stop().await;
}

/// Two plinth nodes on the same PostgreSQL schema share each client's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_postgres_share_the_count() {
    let Some(env) = TestEnv::new(Backend::Postgres) else {
        return;
    };
    const MAX: usize = 4;
    let config = lim_config(&env, &format!("  api: {{ max: {MAX}, window: 1h }}"));
    // Each start migrates the same schema (the second finds the work done).
    let a = env.start(&config).await.expect("node a starts");
    let b = env.start(&config).await.expect("node b starts");
    assert_ne!(a.base, b.base);
    let nodes = [&a, &b];
    for i in 0..MAX {
        let got = nodes[i % 2].get("/lim/api/notes").await;
        assert_eq!(got.status, 200, "request {} on node {}", i + 1, i % 2);
    }
    for node in nodes {
        let over = node.get("/lim/api/notes").await;
        assert_object_error(&over, 429, "RATE_LIMITED");
    }

    // Concurrent requests of one user across both nodes: exactly MAX get through.
    let token = register(&a, "ann@example.com").await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..3 * MAX {
        let req = nodes[i % 2]
            .client
            .get(format!("{}/lim/api/notes", nodes[i % 2].base))
            .bearer_auth(&token);
        calls.spawn(async move { req.send().await.expect("sent").status() });
    }
    let statuses = calls.join_all().await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((ok, limited), (MAX, 2 * MAX), "{statuses:?}");
    a.stop().await;
    b.stop().await;
}

/// `trusted_proxies`: `X-Forwarded-For` counts only from a listed peer, and the listed
/// proxies' own entries are skipped from the right.
async fn trusted_proxies_decide_whose_forwarded_for_counts(env: TestEnv) {
    let mut config = lim_config(&env, "  api: { max: 2, window: 1h }");
    let via = |app: &TestApp, chain: &'static str| {
        app.client
            .get(format!("{}/lim/api/notes", app.base))
            .header("x-forwarded-for", chain)
            .send()
    };
    // The test's peer (127.0.0.1) is not among the proxies: its claims change nothing.
    config.trusted_proxies = vec!["10.0.0.0/8".into()];
    let app = env.start(&config).await.expect("server starts");
    assert_eq!(via(&app, "198.51.100.1").await.expect("sent").status(), 200);
    assert_eq!(via(&app, "198.51.100.2").await.expect("sent").status(), 200);
    assert_eq!(via(&app, "198.51.100.3").await.expect("sent").status(), 429);
    app.stop().await;

    // The peer and a second hop are proxies: the entry left of the proxies is the client.
    config.trusted_proxies = vec!["127.0.0.1".into(), "10.0.0.0/8".into()];
    let app = env.start(&config).await.expect("server starts");
    for _ in 0..2 {
        let r = via(&app, "1.2.3.4, 203.0.113.5, 10.0.0.7").await;
        assert_eq!(r.expect("sent").status(), 200);
    }
    let r = via(&app, "9.9.9.9, 203.0.113.5, 10.0.0.7").await;
    assert_eq!(r.expect("sent").status(), 429, "same client, other claim");
    let r = via(&app, "203.0.113.6, 10.0.0.7").await;
    assert_eq!(r.expect("sent").status(), 200, "another client");
    app.stop().await;

    config.trusted_proxies = vec!["10.0.0.0/33".into()];
    let err = env.start(&config).await.err().expect("refused");
    assert!(format!("{err:#}").contains("10.0.0.0/33"), "{err:#}");
}
