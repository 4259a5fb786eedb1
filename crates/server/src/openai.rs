//! The inbound OpenAI API: `POST /v1/chat/completions`, `GET /v1/models`,
//! `POST /v1/embeddings`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use switchboard_protocol::openai::{self, EncodingFormat, OpenAiStreamEncoder};

use crate::auth::{authorize, check_model};
use crate::body::read_body;
use crate::error::{ApiError, Format};
use crate::overhead::Arrival;
use crate::response::{event_stream_response, json_response, route_headers, to_json, unix_now};
use crate::state::Shared;

const API: &str = "openai";

/// Create a chat completion (OpenAI Chat Completions API).
#[utoipa::path(
    post, path = "/v1/chat/completions", tag = "openai",
    request_body(content = Object, description = "An OpenAI Chat Completions request", content_type = "application/json"),
    responses(
        (status = 200, description = "A `chat.completion` object, or with `stream: true` an SSE stream of `chat.completion.chunk` objects ending with `data: [DONE]`"),
        (status = 400, description = "Malformed JSON or invalid parameters; `error.param` names the field"),
        (status = 401, description = "Missing or invalid client API key"),
        (status = 404, description = "Unknown model; the message lists the available ones"),
        (status = 429, description = "Rate limited upstream; `Retry-After` says when to retry"),
        (status = 502, description = "The upstream failed"),
    )
)]
pub(crate) async fn chat_completions(
    arrival: Arrival,
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let allowed = authorize(&state.sb, &headers, Format::OpenAi)?;
    let bytes = read_body(&state.sb, body, Format::OpenAi).await?;
    let inbound = openai::parse_chat_request(&bytes).map_err(ApiError::openai)?;
    check_model(allowed.as_deref(), &inbound.request.model, Format::OpenAi)?;
    let stream = inbound.is_stream();
    let include_usage = inbound.include_usage();
    let request = inbound.request;
    if stream {
        let routed = state.sb.chat_stream(request).await.map_err(|e| {
            state.metrics.request(API, e.kind().code());
            ApiError::openai(e)
        })?;
        state.metrics.route(&routed.route);
        let encoder = OpenAiStreamEncoder::new(unix_now(), include_usage);
        let body = crate::stream::sse_body(
            state.clone(),
            API,
            routed.value,
            encoder,
            routed.route.clone(),
            arrival.at,
        );
        return Ok(event_stream_response(body, &routed.route));
    }
    let routed = state.sb.chat(request).await.map_err(|e| {
        state.metrics.request(API, e.kind().code());
        ApiError::openai(e)
    })?;
    let body = to_json(&openai::to_wire_response(&routed.value)).map_err(ApiError::openai)?;
    arrival.answered(&state.metrics, API, &routed.route, &routed.value.usage);
    state.metrics.route(&routed.route);
    state.metrics.request(API, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    Ok(response)
}

/// List models: every ready instance's models as `instance/model`, and the aliases.
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses((status = 200, description = "An OpenAI `list` of `model` objects")))]
pub(crate) async fn models(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let allowed = authorize(&state.sb, &headers, Format::OpenAi)?;
    let mut models = state.sb.models();
    if let Some(allowed) = allowed {
        models.retain(|m| allowed.iter().any(|a| a == &m.id));
    }
    let body = to_json(&openai::to_wire_models(&models)).map_err(ApiError::openai)?;
    Ok(json_response(StatusCode::OK, body))
}

/// Create embeddings (OpenAI Embeddings API).
#[utoipa::path(post, path = "/v1/embeddings", tag = "openai",
    request_body(content = Object, description = "An OpenAI embeddings request", content_type = "application/json"),
    responses((status = 200, description = "An OpenAI `list` of `embedding` objects"),
              (status = 400, description = "Invalid request"), (status = 404, description = "Unknown model")))]
pub(crate) async fn embeddings(
    arrival: Arrival,
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let allowed = authorize(&state.sb, &headers, Format::OpenAi)?;
    let bytes = read_body(&state.sb, body, Format::OpenAi).await?;
    let inbound = openai::parse_embeddings_request(&bytes).map_err(ApiError::openai)?;
    check_model(allowed.as_deref(), &inbound.request.model, Format::OpenAi)?;
    let routed = state.sb.embed(inbound.request).await.map_err(|e| {
        state.metrics.request("openai-embeddings", e.kind().code());
        ApiError::openai(e)
    })?;
    let format = inbound.encoding_format.unwrap_or(EncodingFormat::Float);
    let body = to_json(&openai::to_wire_embeddings_response(&routed.value, format))
        .map_err(ApiError::openai)?;
    arrival.answered(
        &state.metrics,
        "openai-embeddings",
        &routed.route,
        &routed.value.usage,
    );
    state.metrics.request("openai-embeddings", "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    Ok(response)
}
