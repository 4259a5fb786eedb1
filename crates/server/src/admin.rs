//! The plugin-management API under `/plugins`, behind the admin bearer token.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_gateway::config::types::InstanceConfig;

use crate::body::read_body;
use crate::browser::require_json;
use crate::error::{ApiError, Format};
use crate::response::json_response;
use crate::state::SharedState;

pub(crate) fn ok_json(value: &impl serde::Serialize) -> Result<Response, ApiError> {
    serde_json::to_vec(value)
        .map(|body| json_response(StatusCode::OK, body))
        .map_err(|e| ApiError::openai(Error::protocol(e.to_string())))
}

/// Requires `Authorization: Bearer <server.admin_token>` (constant-time
/// comparison). Without a configured token the whole API answers 404.
pub(crate) async fn require_admin(
    State(state): State<SharedState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let config = state.sb.config();
    let Some(token) = &config.server.admin_token else {
        return Err(ApiError::openai(Error::not_found(
            "the management API is disabled: set `server.admin_token` to enable it",
        )));
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if presented.is_empty() || token.is_empty() || !token.constant_time_eq(presented) {
        return Err(ApiError::openai(Error::auth(
            "the management API needs `Authorization: Bearer <admin token>`",
        )));
    }
    Ok(next.run(req).await)
}

fn instance(
    state: &SharedState,
    name: &str,
) -> Result<std::sync::Arc<switchboard_gateway::Instance>, ApiError> {
    state.sb.registry().get(name).ok_or_else(|| {
        ApiError::openai(Error::not_found(format!(
            "no provider instance named `{name}`; instances: {}",
            state.sb.registry().names().join(", ")
        )))
    })
}

/// The `${VAR}` references of the config file under `prefix`
/// (`providers.openai`), keyed by the path below it (`api_key`):
/// `{"api_key": ["OPENAI_API_KEY"]}`. Names only, never values.
pub(crate) fn env_refs_under(state: &SharedState, prefix: &str) -> Value {
    let refs = state.sb.env_references();
    let start = format!("{prefix}.");
    let out: serde_json::Map<String, Value> = refs
        .iter()
        .filter_map(|(k, vars)| {
            k.strip_prefix(&start)
                .map(|rest| (rest.to_owned(), json!(vars)))
        })
        .collect();
    Value::Object(out)
}

/// An instance's status as JSON, with its `env_refs`.
fn status_json(state: &SharedState, name: &str) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(instance(state, name)?.status())
        .map_err(|e| ApiError::openai(Error::internal(e.to_string())))?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "env_refs".into(),
            env_refs_under(state, &format!("providers.{name}")),
        );
    }
    Ok(v)
}

/// The JSON body, `None` when empty; a non-empty body must say it is JSON.
pub(crate) async fn json_body(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Option<Value>, ApiError> {
    let bytes = read_body(&state.sb, body, Format::OpenAi).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    require_json(headers, Format::OpenAi)?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        ApiError::openai(Error::invalid_request(format!(
            "the body is not valid JSON: {e}"
        )))
    })
}

/// Every provider instance (`kind: "provider"`, the provider kind under
/// `provider`) with its state, capabilities, health and redacted config,
/// then every configured extension (`kind: "extension"`) with its state,
/// hooks, methods and dropped records.
#[utoipa::path(get, path = "/plugins", tag = "management", security(("admin" = [])),
    responses((status = 200, description = "Instances"), (status = 401, description = "No or wrong admin token")))]
pub(crate) async fn list(State(state): State<SharedState>) -> Result<Response, ApiError> {
    let mut out: Vec<Value> = Vec::new();
    for s in state.sb.registry().statuses() {
        let mut v = serde_json::to_value(&s)
            .map_err(|e| ApiError::openai(Error::internal(e.to_string())))?;
        if let Some(o) = v.as_object_mut() {
            // The provider kind moves to `provider`; `kind` says the plugin kind.
            if let Some(provider) = o.remove("kind") {
                o.insert("provider".into(), provider);
            }
            o.insert("kind".into(), json!("provider"));
            o.insert(
                "env_refs".into(),
                env_refs_under(&state, &format!("providers.{}", s.name)),
            );
        }
        out.push(v);
    }
    for s in state
        .sb
        .extension_statuses()
        .into_iter()
        .filter(|s| s.state != "not_configured")
    {
        let mut v = serde_json::to_value(&s)
            .map_err(|e| ApiError::openai(Error::internal(e.to_string())))?;
        if let Some(o) = v.as_object_mut() {
            o.insert("kind".into(), json!("extension"));
        }
        out.push(v);
    }
    ok_json(&out)
}

/// Every provider linked into this binary (descriptors).
#[utoipa::path(get, path = "/plugins/metadata", tag = "management", security(("admin" = [])),
    responses((status = 200, description = "Descriptors")))]
pub(crate) async fn metadata(State(state): State<SharedState>) -> Result<Response, ApiError> {
    let catalog = state.sb.registry().catalog();
    let list: Vec<_> = catalog.iter().collect();
    ok_json(&list)
}

/// Runs every instance's health check now, concurrently.
#[utoipa::path(get, path = "/plugins/health", tag = "management", security(("admin" = [])),
    responses((status = 200, description = "Health of each instance")))]
pub(crate) async fn health(State(state): State<SharedState>) -> Result<Response, ApiError> {
    let results = state.sb.registry().health_check_all().await;
    let out: Vec<Value> = results
        .into_iter()
        .map(|(name, r)| match r {
            Ok(report) => json!({"name": name, "healthy": true, "latency_ms": report.latency.as_secs_f64() * 1000.0, "detail": report.detail}),
            Err(e) => json!({"name": name, "healthy": false, "error": e.to_string(), "kind": e.kind().code()}),
        })
        .collect();
    ok_json(&out)
}

/// Re-reads the config file: adds, removes and reloads instances to match.
#[utoipa::path(post, path = "/plugins/discover", tag = "management", security(("admin" = [])),
    responses((status = 200, description = "What changed"), (status = 500, description = "The file does not load; nothing changed")))]
pub(crate) async fn discover(State(state): State<SharedState>) -> Result<Response, ApiError> {
    let report = state
        .sb
        .reload_from_file()
        .await
        .map_err(ApiError::openai)?;
    ok_json(&report)
}

/// One instance's status.
#[utoipa::path(get, path = "/plugins/{name}/status", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    responses((status = 200, description = "Status"), (status = 404, description = "No such instance")))]
pub(crate) async fn status(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    ok_json(&status_json(&state, &name)?)
}

/// The JSON Schema of an instance's provider config.
#[utoipa::path(get, path = "/plugins/{name}/config-schema", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    responses((status = 200, description = "JSON Schema"), (status = 404, description = "No such instance")))]
pub(crate) async fn config_schema(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let inst = instance(&state, &name)?;
    let descriptor = inst.descriptor().ok_or_else(|| {
        ApiError::openai(Error::not_found(format!(
            "provider kind `{}` is not linked into this binary",
            inst.kind()
        )))
    })?;
    ok_json(&descriptor.config_schema())
}

/// Merges a partial config (JSON merge patch), validates it, and reloads.
#[utoipa::path(put, path = "/plugins/{name}/config", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    request_body(content = Object, description = "A JSON merge patch of the instance config"),
    responses((status = 200, description = "The new status"), (status = 400, description = "Invalid config; nothing changed")))]
pub(crate) async fn put_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    instance(&state, &name)?;
    let patch = json_body(&state, &headers, body)
        .await?
        .ok_or_else(|| ApiError::openai(Error::invalid_request("send a JSON object to merge")))?;
    state
        .sb
        .registry()
        .update_config(&name, &patch)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    state
        .sb
        .forget_env_references(&format!("providers.{name}"), &patch);
    ok_json(&status_json(&state, &name)?)
}

/// Rebuilds an instance, optionally with a whole new config.
#[utoipa::path(post, path = "/plugins/{name}/reload", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    request_body(content = Option<Object>, description = "Optional full instance config"),
    responses((status = 200, description = "The new status"), (status = 400, description = "Invalid config; the old one keeps serving")))]
pub(crate) async fn reload(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    instance(&state, &name)?;
    let body = json_body(&state, &headers, body).await?;
    let config = match &body {
        Some(v) => Some(
            serde_json::from_value::<InstanceConfig>(v.clone()).map_err(|e| {
                ApiError::openai(Error::invalid_request(format!(
                    "invalid instance config: {e}"
                )))
            })?,
        ),
        None => None,
    };
    state
        .sb
        .registry()
        .reload(&name, config)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    if let Some(replaced) = &body {
        state
            .sb
            .forget_env_references(&format!("providers.{name}"), replaced);
    }
    ok_json(&status_json(&state, &name)?)
}

/// Turns an instance on.
#[utoipa::path(post, path = "/plugins/{name}/enable", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    responses((status = 200, description = "The new status")))]
pub(crate) async fn enable(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    instance(&state, &name)?;
    state
        .sb
        .registry()
        .enable(&name)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    ok_json(&status_json(&state, &name)?)
}

/// Turns an instance off; the router stops using it at once.
#[utoipa::path(post, path = "/plugins/{name}/disable", tag = "management", security(("admin" = [])),
    params(("name" = String, Path, description = "Instance name")),
    responses((status = 200, description = "The new status")))]
pub(crate) async fn disable(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    instance(&state, &name)?;
    state
        .sb
        .registry()
        .disable(&name)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    ok_json(&status_json(&state, &name)?)
}

/// A config the operator sent that does not validate is their mistake (400),
/// not the server's (500).
pub(crate) fn as_client_error(e: Error) -> Error {
    match e.kind() {
        switchboard_core::ErrorKind::Config => {
            let mut out = Error::invalid_request(e.message().to_owned());
            if let Some(p) = e.param() {
                out = out.with_param(p.to_owned());
            }
            out
        }
        _ => e,
    }
}
