//! Service tokens as a running server checks them: one it found valid is kept for a second
//! (no read per request), so a revocation made by another process (the CLI) takes effect
//! within that second, and one made through the server itself at once. On both databases.

mod common;

use common::Fresh;
use plinth_context::Caller;
use plinth_core::{AppService, CoreError, SERVICE_TOKEN_SEEN_FOR};

const MANIFEST: &str =
    "name: units\ncollections:\n  items:\n    fields:\n      title: { type: text }\n";

fn refused(r: Result<Caller, CoreError>) -> bool {
    matches!(r, Err(CoreError::Unauthenticated(_)))
}

async fn revocations_take_effect_within_the_cache_time(postgres: bool) {
    let Some(fresh) = Fresh::new(postgres) else {
        return;
    };
    let server = fresh.app(MANIFEST).await;
    // The CLI: another app service on the same database, as `plinth token revoke` opens.
    let cli: AppService = fresh.app(MANIFEST).await;
    let ctx = server.system_ctx();
    let (id, token) = cli
        .create_service_token(&ctx, "scanner", "SERVICE")
        .await
        .expect("token");

    let caller = server.authenticate(&ctx, &token).await.expect("valid");
    assert_eq!(
        caller,
        Caller::Service {
            id,
            role: "SERVICE".into()
        }
    );
    cli.revoke_service_token(&ctx, &id.to_string())
        .await
        .expect("revoked");
    // Found valid just now, so not read again yet...
    assert_eq!(
        server.authenticate(&ctx, &token).await.expect("kept"),
        caller
    );
    let mut almost = ctx.clone();
    almost.now += SERVICE_TOKEN_SEEN_FOR - chrono::TimeDelta::milliseconds(1);
    assert!(server.authenticate(&almost, &token).await.is_ok());
    // ...but read again once the second is over: revoked.
    let mut later = ctx.clone();
    later.now += SERVICE_TOKEN_SEEN_FOR;
    assert!(refused(server.authenticate(&later, &token).await));
    // And a refused token is not kept as refused or as valid: still refused at `ctx`.
    assert!(refused(server.authenticate(&ctx, &token).await));

    // Revoked through the server itself: refused at once.
    let (id, token) = cli
        .create_service_token(&ctx, "other", "SERVICE")
        .await
        .expect("token");
    assert!(server.authenticate(&ctx, &token).await.is_ok());
    server
        .revoke_service_token(&ctx, &id.to_string())
        .await
        .expect("revoked");
    assert!(refused(server.authenticate(&ctx, &token).await));
    assert!(refused(server.authenticate(&ctx, "pst_forged").await));
    fresh.drop_schema().await;
}

#[tokio::test]
async fn revocations_take_effect_within_the_cache_time_sqlite() {
    revocations_take_effect_within_the_cache_time(false).await;
}

#[tokio::test]
async fn revocations_take_effect_within_the_cache_time_postgres() {
    revocations_take_effect_within_the_cache_time(true).await;
}
