//! Extension management under `/extensions`, behind the admin token (the
//! same guard as `/plugins`): list, enable, disable, replace the settings,
//! config schema. Runtime changes last until the next reload from file.
//! Each listed extension carries its description and its settings with
//! credentials redacted (`config`); a `PUT` that sends a redacted value back
//! (`"***"`) keeps the current one, so a form can round-trip settings it
//! cannot show.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};
use switchboard_core::extension::extension_catalog;
use switchboard_core::{Error, Secret};
use switchboard_gateway::config::redact;

use crate::admin::{as_client_error, env_refs_under, json_body, ok_json};
use crate::error::ApiError;
use crate::state::SharedState;

/// Every linked or configured extension's status, with its description
/// and its settings (credentials redacted) under `config`.
pub(crate) async fn list(State(state): State<SharedState>) -> Result<Response, ApiError> {
    let config = state.sb.config();
    let catalog = extension_catalog().ok();
    let mut out = Vec::new();
    for status in state.sb.extension_statuses() {
        let mut v = serde_json::to_value(&status)
            .map_err(|e| ApiError::openai(Error::internal(e.to_string())))?;
        let descriptor = catalog.as_ref().and_then(|c| c.get(&status.name));
        if let Some(o) = v.as_object_mut() {
            if let Some(d) = descriptor {
                o.insert("description".into(), Value::String(d.description.into()));
            }
            let settings = config
                .extensions
                .get(&status.name)
                .map(|c| Value::Object(c.settings.clone()))
                .unwrap_or_else(|| Value::Object(Map::new()));
            let schema = descriptor.map(|d| d.config_schema());
            o.insert(
                "config".into(),
                redact(&settings, schema.as_ref(), schema.as_ref()),
            );
            o.insert(
                "env_refs".into(),
                env_refs_under(&state, &format!("extensions.{}", status.name)),
            );
        }
        out.push(v);
    }
    ok_json(&out)
}

fn status_of(state: &SharedState, name: &str) -> Result<Response, ApiError> {
    let status = state
        .sb
        .extension_statuses()
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ApiError::openai(Error::not_found(format!("no extension `{name}`"))))?;
    ok_json(&status)
}

/// Enables an extension (built first; a failed build changes nothing).
pub(crate) async fn enable(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .sb
        .set_extension_enabled(&name, true)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    status_of(&state, &name)
}

/// Disables an extension (shut down at once).
pub(crate) async fn disable(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .sb
        .set_extension_enabled(&name, false)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    status_of(&state, &name)
}

/// Replaces an extension's own settings (a JSON object).
pub(crate) async fn put_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let mut settings = match json_body(&state, &headers, body).await? {
        Some(Value::Object(m)) => m,
        _ => {
            return Err(ApiError::openai(Error::invalid_request(
                "send the extension's settings as a JSON object",
            )));
        }
    };
    // A redacted value sent back means "unchanged": keep the current one.
    let config = state.sb.config();
    let current = config.extensions.get(&name);
    if let Some(current) = current {
        for (key, value) in settings.iter_mut() {
            if value.as_str() == Some(Secret::REDACTED)
                && let Some(old) = current.settings.get(key)
            {
                *value = old.clone();
            }
        }
    }
    // The keys whose value changes (or goes) no longer come from the file.
    let mut changed = Map::new();
    let before = current.map(|c| c.settings.clone()).unwrap_or_default();
    for key in before.keys().chain(settings.keys()) {
        if before.get(key) != settings.get(key) {
            changed.insert(key.clone(), Value::Null);
        }
    }
    state
        .sb
        .set_extension_config(&name, settings)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    state
        .sb
        .forget_env_references(&format!("extensions.{name}"), &Value::Object(changed));
    status_of(&state, &name)
}

/// The JSON Schema of an extension's settings.
pub(crate) async fn config_schema(Path(name): Path<String>) -> Result<Response, ApiError> {
    let catalog = extension_catalog().map_err(ApiError::openai)?;
    let d = catalog.get(&name).ok_or_else(|| {
        ApiError::openai(Error::not_found(format!(
            "no extension `{name}` is linked; linked extensions: {}",
            catalog.names().join(", ")
        )))
    })?;
    ok_json(&d.config_schema())
}
