//! The inbound OpenAI API: `POST /v1/chat/completions`, `GET /v1/models`,
//! `POST /v1/embeddings`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use switchboard_core::{ChatResponse, Error};
use switchboard_protocol::openai::{self, EncodingFormat, OpenAiStreamEncoder};

use crate::auth::{authorize, check_model, is_admin};
use crate::body::read_body;
use crate::browser::require_json;
use crate::chat::{InboundChat, InboundChatApi, handle_chat};
use crate::error::{ApiError, Format};
use crate::overhead::Arrival;
use crate::response::{json_response, route_headers, to_json, unix_now};
use crate::state::SharedState;

/// The `api` label of the embeddings API's metrics.
const EMBEDDINGS_API: &str = "openai-embeddings";

/// Create a chat completion (OpenAI Chat Completions API).
#[utoipa::path(
    post, path = "/v1/chat/completions", tag = "openai",
    request_body(content = Object, description = "An OpenAI Chat Completions request", content_type = "application/json"),
    responses(
        (status = 200, description = "A `chat.completion` object, or with `stream: true` an SSE stream of `chat.completion.chunk` objects ending with `data: [DONE]`"),
        (status = 400, description = "Malformed JSON or invalid parameters; `error.param` names the field"),
        (status = 401, description = "Missing or invalid client API key"),
        (status = 403, description = "A web page's `Origin` not in `server.cors.allowed_origins`, or a `Host` not allowed on a loopback listener"),
        (status = 404, description = "Unknown model; the message lists the available ones"),
        (status = 415, description = "The body is not sent as JSON (`Content-Type: application/json`)"),
        (status = 429, description = "Rate limited upstream; `Retry-After` says when to retry"),
        (status = 502, description = "The upstream failed"),
    )
)]
pub(crate) fn chat_completions(
    arrival: Arrival,
    State(state): State<SharedState>,
    request_id: Option<axum::Extension<crate::middleware::RequestId>>,
    headers: HeaderMap,
    body: Body,
) -> impl Future<Output = Result<Response, ApiError>> {
    handle_chat::<OpenAiChat>(arrival, state, request_id, headers, body)
}

/// The OpenAI Chat Completions API.
#[derive(Debug)]
pub(crate) struct OpenAiChat;

impl InboundChatApi for OpenAiChat {
    const METRICS_LABEL: &'static str = "openai";
    const API: switchboard_core::extension::InboundApi =
        switchboard_core::extension::InboundApi::OpenAi;
    const ERROR_FORMAT: Format = Format::OpenAi;
    const FORWARD: bool = true;
    /// `stream_options.include_usage`: end the stream with a usage chunk.
    type StreamOptions = bool;
    type Encoder = OpenAiStreamEncoder;

    fn parse(body: &[u8]) -> Result<InboundChat<bool>, Error> {
        let inbound = openai::parse_chat_request(body)?;
        Ok(InboundChat {
            stream: inbound.is_stream(),
            stream_options: inbound.include_usage(),
            request: inbound.request,
        })
    }

    fn stream_encoder(include_usage: bool) -> OpenAiStreamEncoder {
        OpenAiStreamEncoder::new(unix_now(), include_usage)
    }

    fn response_body(response: &ChatResponse) -> Result<Vec<u8>, Error> {
        to_json(&openai::to_wire_response(response))
    }
}

/// List models: every ready instance's models as `instance/model`, and the aliases
/// (all of them for the admin token; a client key sees the models it may use).
#[utoipa::path(get, path = "/v1/models", tag = "openai",
    responses((status = 200, description = "An OpenAI `list` of `model` objects")))]
pub(crate) async fn models(
    State(state): State<SharedState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The admin token sees every model (the web console's pickers and price
    // tables), as it sees every instance under /plugins.
    let allowed = if is_admin(&state.sb, &headers) {
        None
    } else {
        authorize(&state.sb, &headers, Format::OpenAi).await?
    };
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
              (status = 400, description = "Invalid request"), (status = 404, description = "Unknown model"),
              (status = 415, description = "The body is not sent as JSON (`Content-Type: application/json`)")))]
pub(crate) async fn embeddings(
    arrival: Arrival,
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    require_json(&headers, Format::OpenAi)?;
    let allowed = authorize(&state.sb, &headers, Format::OpenAi).await?;
    let bytes = read_body(&state.sb, body, Format::OpenAi).await?;
    let inbound = openai::parse_embeddings_request(&bytes).map_err(ApiError::openai)?;
    check_model(allowed.as_deref(), &inbound.request.model, Format::OpenAi)?;
    let routed = state.sb.embed(inbound.request).await.map_err(|e| {
        state.metrics.request(EMBEDDINGS_API, e.kind().code());
        ApiError::openai(e)
    })?;
    let format = inbound.encoding_format.unwrap_or(EncodingFormat::Float);
    let body = to_json(&openai::to_wire_embeddings_response(&routed.value, format))
        .map_err(ApiError::openai)?;
    arrival.answered(
        &state.metrics,
        EMBEDDINGS_API,
        &routed.route,
        &routed.value.usage,
    );
    state.metrics.request(EMBEDDINGS_API, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    Ok(response)
}
