//! System collections live beside the app's but are not served by its API, and the
//! system fields an app's users collection gains are hidden: never shown, never written.

mod common;

use common::TestEnv;
use serde_json::json;

both!(system_collections_stay_behind_the_api);

async fn system_collections_stay_behind_the_api(env: TestEnv) {
    let app = env.spawn(&["simflow"]).await.with_service_tokens().await;
    let api = "/simflow/api";
    for path in ["_plinth_jobs", "_plinth_sessions", "_plinth_outbox"] {
        let r = app.get(&format!("{api}/{path}")).await;
        common::assert_object_error(&r, 404, "NOT_FOUND");
    }
    let body = json!({"name": "Eve", "email": "eve@example.com", "role": "ENGINEER"});
    let created = app.post(&format!("{api}/users"), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let user = &created.body["user"];
    for hidden in ["password_hash", "failed_logins", "locked_until"] {
        assert!(user.get(hidden).is_none(), "{hidden} shown: {user}");
    }
    let sneaky =
        json!({"name": "Mal", "email": "mal@example.com", "role": "X", "password_hash": "x"});
    let r = app.post(&format!("{api}/users"), sneaky).await;
    common::assert_object_error(&r, 400, "VALIDATION_ERROR");
    assert_eq!(common::error_fields(&r)[0], "password_hash");
    let r = app
        .get_with(
            &format!("{api}/users"),
            &[("filter", "password_hash != null")],
        )
        .await;
    common::assert_object_error(&r, 400, "VALIDATION_ERROR");
    let doc = app.get(&format!("{api}/openapi.json")).await;
    assert!(doc.body["paths"].get("/_plinth_jobs").is_none());
    app.stop().await;
}
