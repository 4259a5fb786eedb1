//! The inbound Anthropic API: `POST /v1/messages` (stream and not).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use switchboard_core::Error;
use switchboard_protocol::anthropic::{self, AnthropicStreamEncoder};

use crate::auth::{authorize, check_model};
use crate::body::read_body;
use crate::error::{ApiError, Format};
use crate::overhead::Arrival;
use crate::response::{event_stream_response, json_response, route_headers};
use crate::state::Shared;

const API: &str = "anthropic";

/// Create a message (Anthropic Messages API).
#[utoipa::path(
    post, path = "/v1/messages", tag = "anthropic",
    request_body(content = Object, description = "An Anthropic Messages request", content_type = "application/json"),
    responses(
        (status = 200, description = "A `message` object, or with `stream: true` an SSE stream of Messages events (`message_start` … `message_stop`)"),
        (status = 400, description = "Malformed JSON or invalid parameters (`invalid_request_error`)"),
        (status = 401, description = "Missing or invalid client API key (`x-api-key`)"),
        (status = 404, description = "Unknown model"),
        (status = 429, description = "Rate limited upstream"),
        (status = 529, description = "The upstream is overloaded"),
    )
)]
pub(crate) async fn messages(
    arrival: Arrival,
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let allowed = authorize(&state.sb, &headers, Format::Anthropic)?;
    let bytes = read_body(&state.sb, body, Format::Anthropic).await?;
    let inbound = anthropic::parse_messages_request(&bytes).map_err(ApiError::anthropic)?;
    check_model(
        allowed.as_deref(),
        &inbound.request.model,
        Format::Anthropic,
    )?;
    let stream = inbound.is_stream();
    let request = inbound.request;
    if stream {
        let routed = state.sb.chat_stream(request).await.map_err(|e| {
            state.metrics.request(API, e.kind().code());
            ApiError::anthropic(e)
        })?;
        state.metrics.route(&routed.route);
        let body = crate::stream::sse_body(
            state.clone(),
            API,
            routed.value,
            AnthropicStreamEncoder::new(),
            routed.route.clone(),
            arrival.at,
        );
        return Ok(event_stream_response(body, &routed.route));
    }
    let routed = state.sb.chat(request).await.map_err(|e| {
        state.metrics.request(API, e.kind().code());
        ApiError::anthropic(e)
    })?;
    let body = serde_json::to_vec(&anthropic::to_wire_response(&routed.value)).map_err(|e| {
        ApiError::anthropic(Error::protocol(format!("cannot encode the response: {e}")))
    })?;
    arrival.answered(&state.metrics, API, &routed.route, &routed.value.usage);
    state.metrics.route(&routed.route);
    state.metrics.request(API, "ok");
    let mut response = json_response(StatusCode::OK, body);
    route_headers(response.headers_mut(), &routed.route);
    Ok(response)
}
