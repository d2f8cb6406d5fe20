//! The routes a manifest declares under `endpoints:` (docs/jobs.md): enqueue a job with
//! the JSON body as its parameters (202 `{jobId}`), take a multipart upload and enqueue
//! the job that reads it (201 `{jobId}`), report a job's status (`{status, resultUri,
//! ...}`), answer the app's health; and `GET {base}/files/{key}` for a job's output.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, OriginalUri, Path};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter};
use axum::{Json, Router};
use futures_util::TryStreamExt;
use plinth_core::AppService;
use plinth_files::{FileError, Kind, Limits};
use plinth_manifest::{Endpoint, Upload};
use serde_json::{json, Value as J};

use super::App;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{MaybeJsonBody, ReqCtx};

/// Add the manifest's endpoints, and file downloads when the app stores files.
pub(crate) fn routes(
    app: &Arc<AppService>,
    mut api: Router<Arc<AppService>>,
) -> Router<Arc<AppService>> {
    for e in &app.manifest().endpoints {
        let Some((method, path)) = e.method_path() else {
            continue;
        };
        let filter = match method {
            "GET" => MethodFilter::GET,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            "DELETE" => MethodFilter::DELETE,
            _ => MethodFilter::POST,
        };
        let e = Arc::new(e.clone());
        let route = if e.health {
            on(filter, health)
        } else if e.job_status {
            on(filter, status)
        } else if let Some(u) = e.upload.clone() {
            let e = e.clone();
            on(filter, move |app: App, ctx: ReqCtx, form: Multipart| {
                upload(app, ctx, form, e.clone(), u.clone())
            })
            .layer(DefaultBodyLimit::disable())
        } else {
            on(filter, move |app: App, ctx: ReqCtx, body: MaybeJsonBody| {
                enqueue(app, ctx, body, e.clone())
            })
        };
        api = api.route(path, route);
    }
    if app.files().is_some() && !app.manifest().jobs.is_empty() {
        api = api.route("/files/{key}", get(download));
    }
    api
}

fn success(e: &Endpoint, default: StatusCode) -> StatusCode {
    e.status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(default)
}

async fn enqueue(
    app: App,
    ReqCtx(ctx): ReqCtx,
    MaybeJsonBody(body): MaybeJsonBody,
    e: Arc<Endpoint>,
) -> Result<Response, ApiError> {
    let kind = e.enqueue.as_deref().unwrap_or_default();
    let body = if body.is_null() { json!({}) } else { body };
    let id = app.request_job(&ctx, kind, body, &[]).await?;
    let status = success(&e, StatusCode::ACCEPTED);
    Ok((status, Json(json!({"jobId": id}))).into_response())
}

fn file_error(e: FileError) -> ApiError {
    match e {
        FileError::TooLarge { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The file is larger than {limit} bytes"),
        ),
        FileError::UnsupportedType { detected } => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("The file's content is {detected}, which is not accepted here"),
        ),
        FileError::Interrupted(_) => {
            ApiError::new(ErrorCode::Validation, "The upload was interrupted")
        }
        FileError::NotFound | FileError::InvalidKey => ApiError::not_found("File not found"),
        FileError::Storage(_) | FileError::Config(_) => {
            ApiError::new(ErrorCode::Unavailable, "File storage is unavailable")
        }
    }
}

async fn upload(
    app: App,
    ReqCtx(ctx): ReqCtx,
    mut form: Multipart,
    e: Arc<Endpoint>,
    u: Upload,
) -> Result<Response, ApiError> {
    let store = app
        .files()
        .ok_or_else(|| ApiError::new(ErrorCode::Unavailable, "File storage is unavailable"))?
        .clone();
    let limits = Limits::new(
        u.max_bytes,
        u.types.iter().filter_map(|t| Kind::from_name(t)),
    );
    let bad = |m: &str| ApiError::new(ErrorCode::Validation, m.to_owned());
    let stored = loop {
        let field = form
            .next_field()
            .await
            .map_err(|_| bad("The request is not a readable multipart form"))?
            .ok_or_else(|| bad("Send the file in a multipart field named `file`"))?;
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_owned();
        let declared = field.content_type().map(str::to_owned);
        let stream = field.map_err(std::io::Error::other);
        break store
            .put_stream(Box::pin(stream), &name, declared.as_deref(), &limits)
            .await
            .map_err(file_error)?;
    };
    let kind = e.enqueue.as_deref().unwrap_or_default();
    let params = json!({"key": stored.key, "kind": stored.kind.name(), "original_name": stored.original_name,
        "size": stored.size, "sha256": stored.sha256});
    let record = u.record.as_deref().map(|r| {
        (
            r,
            json!({"original_name": stored.original_name, "stored_path": stored.key,
            "mime_type": stored.mime, "size_bytes": stored.size, "status": "pending",
            "uploaded_at": plinth_records::format_timestamp(&ctx.now)}),
        )
    });
    let extra: Vec<(&str, J)> = record.into_iter().collect();
    match app.request_job(&ctx, kind, params, &extra).await {
        Ok(id) => {
            Ok((success(&e, StatusCode::CREATED), Json(json!({"jobId": id}))).into_response())
        }
        Err(err) => {
            // Nothing of a refused upload stays behind.
            let _ = store.delete(&stored.key).await;
            Err(err.into())
        }
    }
}

async fn status(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path(id): Path<String>,
    OriginalUri(original): OriginalUri,
    uri: Uri,
) -> Result<Response, ApiError> {
    let job = app.job_report(&ctx, &id).await?;
    // Stored outputs are `/files/<key>` under the app's base; the client needs the path as
    // it sees it: the mount (what routing took off the front of this request's path) first.
    let mounted = original.path().strip_suffix(uri.path()).unwrap_or("");
    let uri = job.result_uri.map(|u| match u.starts_with("/files/") {
        true => format!("{mounted}{u}"),
        false => u,
    });
    let body = json!({
        "jobId": job.id,
        "type": job.kind,
        "status": job.status,
        "resultUri": uri,
        "progress": job.progress,
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "createdAt": job.created_at,
        "updatedAt": job.updated_at,
    });
    Ok(Json(body).into_response())
}

async fn health(app: App) -> Response {
    let (code, db) = match app.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    let body = json!({
        "service": app.name().as_ref(),
        "version": env!("CARGO_PKG_VERSION"),
        "status": if code == StatusCode::OK { "ok" } else { "degraded" },
        "database": db,
    });
    (code, Json(body)).into_response()
}

async fn download(
    app: App,
    ReqCtx(ctx): ReqCtx,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let store = app
        .files()
        .ok_or_else(|| ApiError::not_found("File not found"))?
        .clone();
    app.file_job(&ctx, &key).await?;
    let (size, stream) = store.get_stream(&key).await.map_err(file_error)?;
    let mime = key
        .rsplit_once('.')
        .and_then(|(_, ext)| Kind::from_name(ext))
        .map_or("application/octet-stream", |k| k.mime());
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{key}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
