//! `/ready` and the API answer 503 UNAVAILABLE when an app's PostgreSQL database stops
//! accepting connections, and recover when it comes back. PostgreSQL only: an embedded
//! SQLite file cannot be taken away from an open process in the same way.

mod common;

use common::{admin, assert_object_error, Backend, TestEnv};

#[tokio::test]
async fn ready_reports_a_database_that_goes_away() {
    let Some(env) = TestEnv::new(Backend::Postgres) else {
        return;
    };
    let base_url = std::env::var("TEST_DATABASE_URL").expect("set when TestEnv is Postgres");
    let db = format!("plinth_ready_{}", uuid::Uuid::new_v4().simple());
    let (prefix, _) = base_url.rsplit_once('/').expect("URL names a database");
    let app_url = format!("{prefix}/{db}");
    let admin = admin(&base_url).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .expect("create db");

    let mut config = env.config(&[("simflow", None)]);
    config.database_url = Some(app_url.into());
    let app = env
        .start(&config)
        .await
        .expect("starts")
        .with_service_tokens()
        .await;
    assert_eq!(app.get("/ready").await.status, 200);

    admin
        .batch_execute(&format!(
            "ALTER DATABASE {db} ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
        ))
        .await
        .expect("cut off");
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert_eq!(ready.body["apps"]["simflow"]["database"], "unavailable");
    let list = app.get("/simflow/api/users").await;
    assert_object_error(&list, 503, "UNAVAILABLE");

    admin
        .batch_execute(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"))
        .await
        .expect("restore");
    assert_eq!(
        app.get("/ready").await.status,
        200,
        "recovers without a restart"
    );
    app.stop().await;
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .expect("drop");
}
