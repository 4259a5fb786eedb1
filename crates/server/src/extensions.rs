//! Extension methods over HTTP: `POST /v1/extensions/{extension}/{method}`
//! with the arguments as the JSON body, and for an extension with a
//! `mount`, `POST {mount}/{method}` (the same call) and `GET {mount}`
//! (method `get`, the query string as an object of strings). Client-key
//! auth as for chat; the admin token (or no auth configured at all) also
//! allows methods marked `admin`.

use std::collections::BTreeMap;

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{MethodCall, extension_catalog};

use crate::auth::{authorize_caller, is_admin};
use crate::body::read_body;
use crate::browser::require_json;
use crate::error::ApiError;
use crate::middleware::RequestId;
use crate::response::json_response;
use crate::state::SharedState;

/// The method routes: the generic one and each linked extension's mount.
pub(crate) fn routes() -> Router<SharedState> {
    let mut router = Router::new().route("/v1/extensions/{extension}/{method}", post(call_route));
    if let Ok(catalog) = extension_catalog() {
        for d in catalog.iter().filter(|d| d.mount.starts_with('/')) {
            let name = d.name;
            router = router
                .route(
                    &format!("{}/{{method}}", d.mount.trim_end_matches('/')),
                    post(
                        move |state: State<SharedState>,
                              id: Option<Extension<RequestId>>,
                              Path(method): Path<String>,
                              headers: HeaderMap,
                              body: Body| async move {
                            call_with_body(state.0, id, name, method, headers, body).await
                        },
                    ),
                )
                .route(
                    d.mount,
                    get(
                        move |state: State<SharedState>,
                              id: Option<Extension<RequestId>>,
                              Query(query): Query<BTreeMap<String, String>>,
                              headers: HeaderMap| async move {
                            let args = serde_json::to_value(query).unwrap_or(Value::Null);
                            call(&state.0, id, name, "get".to_owned(), &headers, args).await
                        },
                    ),
                );
        }
    }
    router
}

async fn call_route(
    State(state): State<SharedState>,
    id: Option<Extension<RequestId>>,
    Path((extension, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    call_with_body(state, id, &extension, method, headers, body).await
}

async fn call_with_body(
    state: SharedState,
    id: Option<Extension<RequestId>>,
    extension: &str,
    method: String,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&state.sb, body, crate::error::Format::OpenAi).await?;
    let arguments = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        require_json(&headers, crate::error::Format::OpenAi)?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::openai(Error::invalid_request(format!(
                "the body is not valid JSON: {e}"
            )))
        })?
    };
    call(&state, id, extension, method, &headers, arguments).await
}

/// Authorizes the caller and runs the method.
async fn call(
    state: &SharedState,
    id: Option<Extension<RequestId>>,
    extension: &str,
    method: String,
    headers: &HeaderMap,
    arguments: Value,
) -> Result<Response, ApiError> {
    let admin = is_admin(&state.sb, headers);
    let client_key = if admin {
        None
    } else {
        authorize_caller(&state.sb, headers, crate::error::Format::OpenAi)
            .await?
            .key_info()
    };
    let call = MethodCall {
        method,
        arguments,
        client_key,
        admin,
        request_id: id
            .map(|Extension(RequestId(id))| id)
            .unwrap_or_else(|| std::sync::Arc::from("")),
    };
    let value = state
        .sb
        .call_extension(extension, call)
        .await
        .map_err(ApiError::openai)?;
    let body = serde_json::to_vec(&value)
        .map_err(|e| ApiError::openai(Error::internal(format!("cannot encode the result: {e}"))))?;
    Ok(json_response(StatusCode::OK, body))
}
