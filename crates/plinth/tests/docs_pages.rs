//! `{base}/docs`: each app's API reference page, its assets and its links from `GET /`.
//! (What the page renders in a browser is `docs_browser.rs`.)

mod common;

use common::{Backend, TestEnv};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG};
use reqwest::{StatusCode, Url};
use serde_json::Value;

/// The value of every `attr="..."` in `html` on tags that start with `tag`.
fn attrs(html: &str, tag: &str, attr: &str) -> Vec<String> {
    html.split(tag)
        .skip(1)
        .filter_map(|rest| {
            let open = &rest[..rest.find('>')?];
            let start = open.find(&format!("{attr}=\""))? + attr.len() + 2;
            let len = open[start..].find('"')?;
            Some(open[start..start + len].to_owned())
        })
        .collect()
}

/// The JSON of the page's `<script type="application/json" id="openapi">` block.
fn embedded(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"openapi\">";
    let start = html.find(open).expect("data block") + open.len();
    let len = html[start..].find("</script>").expect("block ends");
    serde_json::from_str(&html[start..start + len]).expect("embedded JSON")
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> &str {
    res.headers()
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{name} header on {}", res.url()))
}

/// Every check of the page at `{origin}{base}/docs`: status, headers, no inline script, the
/// embedded document, each linked asset (type, caching, revalidation), 404s for other names.
async fn check_page(client: &reqwest::Client, origin: &str, base: &str) {
    let url = Url::parse(&format!("{origin}{base}/docs")).expect("url");
    let res = client.get(url.clone()).send().await.expect("page");
    assert_eq!(res.status(), StatusCode::OK, "{url}");
    assert_eq!(header(&res, CONTENT_TYPE), "text/html; charset=utf-8");
    assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
    assert_eq!(
        header(&res, "x-content-type-options".parse().expect("name")),
        "nosniff"
    );
    let csp = header(&res, CONTENT_SECURITY_POLICY).to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = res.text().await.expect("html");

    // No inline script: each is an external file or the document's data block.
    for tag in html.split("<script").skip(1) {
        assert!(
            tag.starts_with(" src=") || tag.starts_with(" type=\"application/json\""),
            "inline script in {html}"
        );
    }
    // The embedded document is the one `openapi.json` serves.
    let doc: Value = client
        .get(format!("{origin}{base}/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert_eq!(embedded(&html), doc, "{base}");

    // Every asset the page links, with its type, a year of caching and a working ETag.
    let scripts = attrs(&html, "<script", "src");
    let styles = attrs(&html, "<link rel=\"stylesheet\"", "href");
    assert_eq!((scripts.len(), styles.len()), (1, 1), "{html}");
    for (link, kind) in [(&scripts[0], "text/javascript"), (&styles[0], "text/css")] {
        assert!(link.starts_with("docs/assets/"), "{link}");
        let asset = url.join(link).expect("asset url");
        assert!(asset.path().starts_with(&format!("{base}/docs/assets/")));
        let res = client.get(asset.clone()).send().await.expect("asset");
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert_eq!(header(&res, CONTENT_TYPE), format!("{kind}; charset=utf-8"));
        assert!(header(&res, CACHE_CONTROL).contains("immutable"));
        let etag = header(&res, ETAG).to_owned();
        assert!(!res.bytes().await.expect("body").is_empty());
        let again = client
            .get(asset)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("revalidation");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }

    // Unknown names, and the real files without their content hash, are not found.
    for name in ["nope.js", "docs.js", "docs.css", "..%2Fdocs.rs"] {
        let r = client
            .get(format!("{origin}{base}/docs/assets/{name}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}");
    }
}

#[tokio::test]
async fn each_app_serves_its_reference_page_and_assets() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite");
    let app = env.spawn(&["simflow", "datagen"]).await;
    // DataGen's API base is `/`, so its page is at its mount.
    for base in ["/simflow/api", "/datagen"] {
        check_page(&app.client, &app.base, base).await;
    }
    app.stop().await;
}

/// An app at the root of its own listener: the page's relative links still resolve.
#[tokio::test]
async fn an_app_at_the_root_serves_its_page_there() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite");
    let mut config = env.config(&[("datagen", None)]);
    let datagen = config.apps.get_mut("datagen").expect("datagen");
    datagen.listen = Some("127.0.0.1:0".parse().expect("addr"));
    let app = env.start(&config).await.expect("starts");
    let (_, addr) = &app.running.own[0];
    check_page(&app.client, &format!("http://{addr}"), "").await;
    app.stop().await;
}

#[tokio::test]
async fn the_index_links_each_reference_page() {
    let env = TestEnv::new(Backend::Sqlite).expect("sqlite");
    let app = env.spawn(&["simflow", "datagen"]).await;
    let json = app
        .client
        .get(format!("{}/", app.base))
        .header("accept", "application/json")
        .send()
        .await
        .expect("index");
    let body: Value = json.json().await.expect("json");
    let apps = body["apps"].as_array().expect("apps");
    let mut docs: Vec<&str> = apps.iter().filter_map(|a| a["docs"].as_str()).collect();
    docs.sort_unstable();
    assert_eq!(docs, ["/datagen/docs", "/simflow/api/docs"], "{body}");

    let html = app.text("/").await;
    for link in docs {
        assert!(
            html.contains(&format!("href=\"{link}\"")),
            "{link} in {html}"
        );
        let page = app.client.get(format!("{}{link}", app.base)).send().await;
        assert_eq!(page.expect("page").status(), StatusCode::OK, "{link}");
    }
    app.stop().await;
}
