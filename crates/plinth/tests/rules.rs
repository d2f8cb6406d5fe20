//! Access rules per collection and operation: rows filtered on list, 404 on view, update and
//! delete of what the caller may not touch, 401/403 on create, admins and service tokens
//! past every rule. Both databases; the app is `tests/fixtures/rules_app.yaml`.

mod common;

use std::path::PathBuf;

use common::{assert_object_error, Reply, TestApp, TestEnv};
use reqwest::Method;
use serde_json::{json, Value};

both!(rules_decide_who_sees_and_changes_what);

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    app.send(method, &format!("/notes/api{path}"), token, body)
        .await
}

/// Register a user, optionally give it a role (as a service: users may not change their
/// own role), and sign in again so the token carries the role; its id and token.
async fn user(app: &TestApp, email: &str, role: Option<&str>) -> (String, String) {
    let body = json!({"email": email, "password": "password123"});
    let r = call(
        app,
        Method::POST,
        "/auth/register",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["data"]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    if let Some(role) = role {
        let own = r.body["data"]["token"].as_str().expect("token");
        let body = Some(json!({"role": role}));
        let path = format!("/users/{id}");
        let p = call(app, Method::PATCH, &path, Some(own), body.clone()).await;
        assert_eq!(p.status, 404, "no own role change: {}", p.body);
        let service = app.service_token("notes", "SERVICE").await;
        let p = call(app, Method::PATCH, &path, Some(&service), body).await;
        assert_eq!(p.status, 200, "{}", p.body);
    }
    let login = call(
        app,
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"email": email, "password": "password123"})),
    )
    .await;
    (
        id,
        login.body["data"]["token"]
            .as_str()
            .expect("token")
            .to_owned(),
    )
}

fn titles(r: &Reply) -> Vec<String> {
    let mut t: Vec<String> = r.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("list: {}", r.body))
        .iter()
        .filter_map(|n| n["title"].as_str().map(str::to_owned))
        .collect();
    t.sort();
    t
}

/// The rules fixture app, started for this test.
async fn notes_app(env: &TestEnv) -> TestApp {
    let manifest = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rules_app.yaml"
    ));
    env.start(&env.config(&[("notes", Some(manifest))]))
        .await
        .expect("starts")
}

async fn rules_decide_who_sees_and_changes_what(env: TestEnv) {
    let app = notes_app(&env).await;
    let (alice, ta) = user(&app, "alice@example.com", None).await;
    let (bob, tb) = user(&app, "bob@example.com", None).await;
    let (_, tm) = user(&app, "mia@example.com", Some("MANAGER")).await;
    let (_, tadmin) = user(&app, "root@example.com", Some("ADMIN")).await;

    // create: only notes of one's own; anonymous 401, signed in but not allowed 403.
    let mine = call(
        &app,
        Method::POST,
        "/notes",
        Some(&ta),
        Some(json!({"title": "a1", "owner": alice})),
    )
    .await;
    assert_eq!(mine.status, 201, "{}", mine.body);
    let a1 = mine.body["data"]["id"].as_str().expect("id").to_owned();
    let forged = call(
        &app,
        Method::POST,
        "/notes",
        Some(&ta),
        Some(json!({"title": "x", "owner": bob})),
    )
    .await;
    assert_object_error(&forged, 403, "FORBIDDEN");
    let anon = call(
        &app,
        Method::POST,
        "/notes",
        None,
        Some(json!({"title": "x", "owner": alice})),
    )
    .await;
    assert_object_error(&anon, 401, "UNAUTHENTICATED");
    let anon = call(
        &app,
        Method::POST,
        "/notes",
        None,
        Some(json!({"title": "x"})),
    )
    .await;
    assert_object_error(&anon, 401, "UNAUTHENTICATED");
    // `owner` defaults from the caller (`default: "@auth.id"`).
    let b1 = call(
        &app,
        Method::POST,
        "/notes",
        Some(&tb),
        Some(json!({"title": "b1"})),
    )
    .await;
    assert_eq!(b1.body["data"]["owner"], bob.as_str(), "{}", b1.body);
    let b1 = b1.body["data"]["id"].as_str().expect("id").to_owned();

    // list: rows filtered, with the client's own filter on top; anonymous sees none.
    assert_eq!(
        titles(&call(&app, Method::GET, "/notes", Some(&ta), None).await),
        ["a1"]
    );
    assert_eq!(
        titles(&call(&app, Method::GET, "/notes", Some(&tb), None).await),
        ["b1"]
    );
    assert_eq!(
        titles(&call(&app, Method::GET, "/notes", Some(&tm), None).await),
        ["a1", "b1"]
    );
    let none = call(&app, Method::GET, "/notes", None, None).await;
    assert_eq!(
        (none.status.as_u16(), titles(&none).len()),
        (200, 0),
        "{}",
        none.body
    );
    assert_eq!(none.body["meta"]["total"], 0);
    let filtered = call(
        &app,
        Method::GET,
        "/notes?filter=title%20~%20%22b%22",
        Some(&ta),
        None,
    )
    .await;
    assert_eq!(titles(&filtered), Vec::<String>::new());

    // expand= embeds a related record only if the caller may view it.
    let c = call(
        &app,
        Method::POST,
        "/comments",
        None,
        Some(json!({"text": "hi", "note": a1})),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let as_alice = call(&app, Method::GET, "/comments?expand=note", Some(&ta), None).await;
    assert_eq!(
        as_alice.body["data"][0]["expand"]["note"]["title"], "a1",
        "{}",
        as_alice.body
    );
    for token in [Some(tb.as_str()), None] {
        let r = call(&app, Method::GET, "/comments?expand=note", token, None).await;
        assert_eq!(r.body["data"][0]["note"], a1.as_str(), "{}", r.body);
        assert!(
            r.body["data"][0].get("expand").is_none(),
            "leaked: {}",
            r.body
        );
        let cid = r.body["data"][0]["id"].as_str().expect("id").to_owned();
        let one = call(
            &app,
            Method::GET,
            &format!("/comments/{cid}?expand=note"),
            token,
            None,
        )
        .await;
        assert!(
            one.body["data"].get("expand").is_none(),
            "leaked: {}",
            one.body
        );
    }

    // view / update: what the caller may not see is not there.
    assert_object_error(
        &call(&app, Method::GET, &format!("/notes/{b1}"), Some(&ta), None).await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(
        call(&app, Method::GET, &format!("/notes/{b1}"), Some(&tm), None)
            .await
            .status,
        200
    );
    let steal = call(
        &app,
        Method::PATCH,
        &format!("/notes/{b1}"),
        Some(&ta),
        Some(json!({"title": "mine now"})),
    )
    .await;
    assert_object_error(&steal, 404, "NOT_FOUND");
    let edit = call(
        &app,
        Method::PATCH,
        &format!("/notes/{b1}"),
        Some(&tb),
        Some(json!({"title": "b1 edited"})),
    )
    .await;
    assert_eq!(edit.body["data"]["title"], "b1 edited", "{}", edit.body);
    // The manager may read but not change (the update rule is the owner's alone).
    assert_eq!(
        call(
            &app,
            Method::PATCH,
            &format!("/notes/{a1}"),
            Some(&tm),
            Some(json!({"title": "m"}))
        )
        .await
        .status,
        404
    );

    // delete: no rule, so only an admin (or a service token) may.
    assert_object_error(
        &call(
            &app,
            Method::DELETE,
            &format!("/notes/{a1}"),
            Some(&ta),
            None,
        )
        .await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(
        call(
            &app,
            Method::DELETE,
            &format!("/notes/{a1}"),
            Some(&tadmin),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        titles(&call(&app, Method::GET, "/notes", Some(&tadmin), None).await),
        ["b1 edited"]
    );

    // An empty rule is public; a missing one is closed.
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/bulletins",
            None,
            Some(json!({"text": "hi"}))
        )
        .await
        .status,
        401
    );
    let post = call(
        &app,
        Method::POST,
        "/bulletins",
        Some(&tb),
        Some(json!({"text": "hi"})),
    )
    .await;
    assert_eq!(post.status, 201, "{}", post.body);
    let bid = post.body["data"]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        call(&app, Method::GET, "/bulletins", None, None).await.body["meta"]["total"],
        1
    );
    assert_eq!(
        call(&app, Method::GET, &format!("/bulletins/{bid}"), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(
            &app,
            Method::PATCH,
            &format!("/bulletins/{bid}"),
            Some(&tb),
            Some(json!({"text": "edit"}))
        )
        .await
        .status,
        404
    );
    app.stop().await;
}

both!(datagen_behind_sign_in_by_config);

/// DataGen is open as its seed says; `apps.datagen.require_sign_in` puts every collection
/// without rules behind sign-in (anonymous: empty lists, 401 on create).
async fn datagen_behind_sign_in_by_config(env: TestEnv) {
    let open = env.spawn(&["datagen"]).await;
    let job = json!({"type": "generation", "params": {"rows": 10}});
    let r = open.post("/datagen/jobs", job.clone()).await;
    assert_eq!(r.status, 201, "open by default: {}", r.body);
    open.stop().await;

    let mut config = env.config(&[("datagen", None)]);
    config
        .apps
        .get_mut("datagen")
        .expect("datagen")
        .require_sign_in = true;
    let app = env.start(&config).await.expect("starts");
    let r = app.post("/datagen/jobs", job.clone()).await;
    assert_object_error(&r, 401, "UNAUTHENTICATED");
    let r = app.get("/datagen/jobs").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"], json!([]), "the job made before is hidden");
    let service = app.service_token("datagen", "SERVICE").await;
    let r = app
        .send(Method::GET, "/datagen/jobs", Some(&service), None)
        .await;
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.body
    );
    let (_, user) = app
        .user_token("datagen", "dana@example.com", "user", json!({}))
        .await;
    let r = app
        .send(Method::POST, "/datagen/jobs", Some(&user), Some(job))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    app.stop().await;
}

both!(rules_read_the_callers_user_record);

/// `@auth.<field>` reads the caller's user record (not in the token): a rule and a default.
async fn rules_read_the_callers_user_record(env: TestEnv) {
    let app = notes_app(&env).await;
    let service = app.service_token("notes", "SERVICE").await;
    let (alice, ta) = user(&app, "alice@example.com", None).await;
    let (bob, tb) = user(&app, "bob@example.com", None).await;
    for (id, team) in [(&alice, "red"), (&bob, "blue")] {
        let r = call(
            &app,
            Method::PATCH,
            &format!("/users/{id}"),
            Some(&service),
            Some(json!({"team": team})),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = call(
        &app,
        Method::POST,
        "/team_posts",
        Some(&ta),
        Some(json!({"text": "hi reds"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["data"]["team"], "red",
        "filled from the caller's record"
    );
    let post = r.body["data"]["id"].as_str().expect("id").to_owned();
    let seen = |r: &Reply| r.body["data"].as_array().map_or(0, Vec::len);
    let mine = call(&app, Method::GET, "/team_posts", Some(&ta), None).await;
    assert_eq!(seen(&mine), 1, "{}", mine.body);
    let theirs = call(&app, Method::GET, "/team_posts", Some(&tb), None).await;
    assert_eq!(seen(&theirs), 0, "{}", theirs.body);
    let r = call(
        &app,
        Method::GET,
        &format!("/team_posts/{post}"),
        Some(&tb),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        &app,
        Method::POST,
        "/team_posts",
        Some(&tb),
        Some(json!({"text": "x", "team": "red"})),
    )
    .await;
    assert_object_error(&r, 403, "FORBIDDEN");
    // Bob moves to red: the next request sees it (the record is read, not the token).
    let r = call(
        &app,
        Method::PATCH,
        &format!("/users/{bob}"),
        Some(&service),
        Some(json!({"team": "red"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let now = call(&app, Method::GET, "/team_posts", Some(&tb), None).await;
    assert_eq!(seen(&now), 1, "{}", now.body);
    app.stop().await;
}
