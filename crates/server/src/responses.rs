//! The inbound OpenAI Responses API: `POST /v1/responses` (stream and not),
//! `GET /v1/responses/{id}`, `DELETE /v1/responses/{id}`. Any provider
//! answers through the router; finished responses are kept (see
//! [`responses_store`](crate::responses_store)) unless `store: false`.

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::extension::InboundApi;
use switchboard_protocol::openai_responses::{
    self as wire, InboundResponsesRequest, ResponseTemplate, ResponsesStreamEncoder,
};

use crate::auth::{Caller, authorize_caller, check_model};
use crate::body::read_body;
use crate::browser::require_json;
use crate::chat::InboundChat;
use crate::error::{ApiError, Format};
use crate::hooked::request_context;
use crate::middleware::RequestId;
use crate::overhead::Arrival;
use crate::response::{event_stream_response, json_response, route_headers, to_json, unix_now};
use crate::responses_store::{self as store, StoredResponse};
use crate::state::SharedState;
use crate::stream::{Answer, sse_body};

/// The `api` label of the Responses API's metrics.
const API: &str = "openai-responses";

/// Create a response (OpenAI Responses API).
pub(crate) async fn create(
    arrival: Arrival,
    State(state): State<SharedState>,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_json(&headers, Format::OpenAi)?;
    let caller = authorize_caller(&state.sb, &headers, Format::OpenAi).await?;
    let bytes = read_body(&state.sb, body, Format::OpenAi).await?;
    let mut inbound = wire::parse_responses_request(&bytes).map_err(ApiError::openai)?;
    check_model(
        caller.models.as_deref(),
        &inbound.request.model,
        Format::OpenAi,
    )?;
    let owner = owner(&caller);
    let earlier = earlier_items(&state, &inbound, &owner).await?;
    if !earlier.is_empty() {
        let prior = wire::items_to_messages(&earlier).map_err(ApiError::openai)?;
        let at = usize::from(!inbound.echo.get("instructions").is_none_or(Value::is_null));
        inbound.request.messages.splice(at..at, prior);
    }
    let template = ResponseTemplate {
        id: new_response_id(),
        created_at: unix_now(),
        model: inbound.request.model.clone(),
        echo: std::mem::take(&mut inbound.echo),
    };
    let mut items = earlier;
    items.append(&mut inbound.input_items);
    let keep = inbound.store.then_some((owner, items));
    let mut ctx = state.sb.has_extensions().then(|| {
        let chat = InboundChat {
            request: inbound.request.clone(),
            stream: inbound.stream,
            stream_options: (),
        };
        request_context(&headers, request_id, caller, InboundApi::OpenAi, &chat)
    });
    let request = inbound.request;
    let fail = |e: Error| {
        state.metrics.request(API, e.kind().code());
        ApiError::openai(e)
    };
    if inbound.stream {
        let routed = match &mut ctx {
            Some(ctx) => state.sb.chat_stream_with(ctx, request).await,
            None => state.sb.chat_stream(request).await,
        }
        .map_err(fail)?;
        state.metrics.route(&routed.route);
        let mut encoder = ResponsesStreamEncoder::new(template.clone());
        if let Some((owner, items)) = keep {
            let state = state.clone();
            let id = template.id.clone();
            encoder = encoder.on_complete(Box::new(move |response| {
                let record = StoredResponse {
                    owner,
                    created_at: template.created_at,
                    items,
                    response,
                };
                tokio::spawn(async move {
                    if let Err(e) = store::put(&state, id, record).await {
                        tracing::warn!(error = %e, "could not store a response");
                    }
                });
            }));
        }
        let answer = Answer::new(
            state.clone(),
            API,
            encoder,
            routed.route.clone(),
            arrival.at,
        );
        let body = sse_body(answer, routed.value);
        let body = if arrival.h2 {
            let ms = state.sb.config().server.write_timeout_ms.max(1);
            crate::stall::watch(body, std::time::Duration::from_millis(ms))
        } else {
            body
        };
        return Ok(event_stream_response(body, &routed.route));
    }
    let routed = match &mut ctx {
        Some(ctx) => state.sb.chat_with(ctx, request).await,
        None => state.sb.chat(request).await,
    }
    .map_err(fail)?;
    let object = wire::to_wire_response(&template, &routed.value);
    let body = to_json(&object).map_err(ApiError::openai)?;
    if let Some((owner, items)) = keep {
        let record = StoredResponse {
            owner,
            created_at: template.created_at,
            items,
            response: object,
        };
        store::put(&state, template.id.clone(), record)
            .await
            .map_err(ApiError::openai)?;
    }
    arrival.answered(&state.metrics, API, &routed.route, &routed.value.usage);
    state.metrics.route(&routed.route);
    state.metrics.request(API, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    Ok(response)
}

/// Get a stored response.
pub(crate) async fn retrieve(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize_caller(&state.sb, &headers, Format::OpenAi).await?;
    match store::get(&state, &id, &owner(&caller))
        .await
        .map_err(ApiError::openai)?
    {
        Some(record) => {
            let body = to_json(&record.response).map_err(ApiError::openai)?;
            Ok(json_response(StatusCode::OK, body))
        }
        None => Ok(not_found(&id)),
    }
}

/// Delete a stored response: `{"id", "object": "response", "deleted": true}`.
pub(crate) async fn delete(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize_caller(&state.sb, &headers, Format::OpenAi).await?;
    let found = store::get(&state, &id, &owner(&caller))
        .await
        .map_err(ApiError::openai)?;
    if found.is_none() || !store::delete(&state, &id).await.map_err(ApiError::openai)? {
        return Ok(not_found(&id));
    }
    let body = json!({"id": id, "object": "response", "deleted": true});
    Ok(json_response(StatusCode::OK, body.to_string().into_bytes()))
}

/// The conversation `previous_response_id` names (empty without one).
async fn earlier_items(
    state: &SharedState,
    inbound: &InboundResponsesRequest,
    owner: &str,
) -> Result<Vec<Value>, ApiError> {
    let Some(previous) = &inbound.previous_response_id else {
        return Ok(Vec::new());
    };
    match store::get(state, previous, owner)
        .await
        .map_err(ApiError::openai)?
    {
        Some(record) => Ok(record.conversation()),
        None => Err(ApiError::openai(Error::invalid_param(
            "previous_response_id",
            format!("Previous response with id '{previous}' not found."),
        ))),
    }
}

/// The id of the caller's key ("" without keys): responses are visible only to it.
fn owner(caller: &Caller) -> String {
    caller
        .key_info()
        .map(|k| k.id.to_string())
        .unwrap_or_default()
}

/// A new response id: `resp_` and 48 random hex digits.
fn new_response_id() -> String {
    format!(
        "resp_{:016x}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

/// OpenAI's 404 for an unknown response id (`invalid_request_error`, no code).
fn not_found(id: &str) -> Response {
    let body = json!({"error": {
        "message": format!("Response with id '{id}' not found."),
        "type": "invalid_request_error",
        "param": null,
        "code": null,
    }});
    json_response(StatusCode::NOT_FOUND, body.to_string().into_bytes())
}
