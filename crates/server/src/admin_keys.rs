//! Virtual keys under the management API (`/keys`, behind the admin token):
//! the REST face of the `keys` extension's methods. `POST /keys` creates
//! (201, the key shown once), `GET /keys` lists, `GET /keys/{id}` shows,
//! `PATCH /keys/{id}` updates, `DELETE /keys/{id}` revokes. Without the
//! extension enabled, each answers 404 saying how to enable it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};
use switchboard_core::Error;
use switchboard_core::extension::MethodCall;

use crate::admin::{as_client_error, json_body};
use crate::error::ApiError;
use crate::response::json_response;
use crate::state::SharedState;

/// The extension these routes speak to.
const KEYS: &str = "keys";

async fn run(
    state: &SharedState,
    method: &str,
    arguments: Map<String, Value>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    if !state
        .sb
        .extension_statuses()
        .iter()
        .any(|s| s.name == KEYS && s.enabled)
    {
        return Err(ApiError::openai(Error::not_found(
            "virtual keys are off: enable `[extensions.keys]` (and set `[state] path`)",
        )));
    }
    let call = MethodCall {
        method: method.to_owned(),
        arguments: Value::Object(arguments),
        client_key: None,
        admin: true,
        request_id: Arc::from("admin"),
    };
    let value = state
        .sb
        .call_extension(KEYS, call)
        .await
        .map_err(|e| ApiError::openai(as_client_error(e)))?;
    let body =
        serde_json::to_vec(&value).map_err(|e| ApiError::openai(Error::internal(e.to_string())))?;
    Ok(json_response(status, body))
}

async fn object_body(
    state: &SharedState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Map<String, Value>, ApiError> {
    match json_body(state, headers, body).await? {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(ApiError::openai(Error::invalid_request(
            "the body must be a JSON object",
        ))),
    }
}

fn with_id(mut args: Map<String, Value>, id: String) -> Map<String, Value> {
    args.insert("id".to_owned(), Value::String(id));
    args
}

/// `POST /keys`: a new key (201), shown once.
pub(crate) async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let args = object_body(&state, &headers, body).await?;
    run(&state, "create", args, StatusCode::CREATED).await
}

/// `GET /keys`: every key (never the key itself).
pub(crate) async fn list(State(state): State<SharedState>) -> Result<Response, ApiError> {
    run(&state, "list", Map::new(), StatusCode::OK).await
}

/// `GET /keys/{id}`.
pub(crate) async fn show(
    State(state): State<SharedState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    run(&state, "get", with_id(Map::new(), id), StatusCode::OK).await
}

/// `PATCH /keys/{id}`: changes the fields the body names.
pub(crate) async fn update(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let args = object_body(&state, &headers, body).await?;
    if args.contains_key("id") {
        return Err(ApiError::openai(
            Error::invalid_request("a key's id cannot be changed").with_param("id"),
        ));
    }
    run(&state, "update", with_id(args, id), StatusCode::OK).await
}

/// `DELETE /keys/{id}`: revokes the key.
pub(crate) async fn revoke(
    State(state): State<SharedState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    run(&state, "revoke", with_id(Map::new(), id), StatusCode::OK).await
}
