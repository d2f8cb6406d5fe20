//! Operator commands that act on an app's data: `plinth token create|revoke` and
//! `plinth user create`. Each opens the app, brings its schema up to date, and prints its
//! result as the last word of its last line (so scripts can take it).

use anyhow::{anyhow, Context, Result};
use serde_json::{Map, Value};

use crate::apps::find;
use crate::config::Config;
use crate::serve::open_app;

async fn open(config: &Config, app: &str) -> Result<plinth_core::AppService> {
    let spec = find(config, app)?;
    let service = open_app(&spec).await?;
    service
        .migrate_up(&service.system_ctx())
        .await
        .with_context(|| format!("app `{app}`: migration refused"))?;
    Ok(service)
}

/// `plinth token create --app A --role R [--name N]`: prints the token, shown only once.
pub async fn create_token(config: &Config, app: &str, role: &str, name: &str) -> Result<()> {
    let service = open(config, app).await?;
    let (id, token) = service
        .create_service_token(&service.system_ctx(), name, role)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "service token {id} for app `{app}`, role {role} (store it now: it is not shown again)"
    );
    println!("token: {token}");
    Ok(())
}

/// `plinth token revoke --app A ID`.
pub async fn revoke_token(config: &Config, app: &str, id: &str) -> Result<()> {
    let service = open(config, app).await?;
    service
        .revoke_service_token(&service.system_ctx(), id)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("revoked service token {id}");
    Ok(())
}

/// A `--field key=value` value: JSON when it parses (numbers, booleans, objects), else text.
fn field_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// `plinth user create --app A --email E --password P --role R [--name N] [--field k=v]...`:
/// prints the new user's id.
pub async fn create_user(
    config: &Config,
    app: &str,
    email: &str,
    password: &str,
    role: &str,
    name: Option<&str>,
    fields: &[String],
) -> Result<()> {
    let service = open(config, app).await?;
    let mut body = Map::new();
    body.insert("email".into(), Value::String(email.to_owned()));
    body.insert("password".into(), Value::String(password.to_owned()));
    if let Some(n) = name {
        body.insert("name".into(), Value::String(n.to_owned()));
    }
    for f in fields {
        let (k, v) = f
            .split_once('=')
            .with_context(|| format!("--field `{f}` is not key=value"))?;
        body.insert(k.to_owned(), field_value(v));
    }
    let user = service
        .create_user(&service.system_ctx(), &Value::Object(body), role)
        .await
        .map_err(|e| match e {
            plinth_core::CoreError::Validation(v) => anyhow!(
                "invalid user: {}",
                v.details
                    .iter()
                    .map(|d| format!("{} {}", d.field, d.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow!("{other}"),
        })?;
    println!(
        "created user {email} with role {role} in app `{app}`, id {}",
        user.id().unwrap_or_default()
    );
    Ok(())
}
