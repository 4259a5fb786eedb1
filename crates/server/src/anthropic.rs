//! The inbound Anthropic API: `POST /v1/messages` (stream and not).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use switchboard_core::{ChatResponse, Error};
use switchboard_protocol::anthropic::{self, AnthropicStreamEncoder};

use crate::chat::{InboundChat, InboundChatApi, handle_chat};
use crate::error::{ApiError, Format};
use crate::overhead::Arrival;
use crate::response::to_json;
use crate::state::SharedState;

/// Create a message (Anthropic Messages API).
#[utoipa::path(
    post, path = "/v1/messages", tag = "anthropic",
    request_body(content = Object, description = "An Anthropic Messages request", content_type = "application/json"),
    responses(
        (status = 200, description = "A `message` object, or with `stream: true` an SSE stream of Messages events (`message_start` … `message_stop`)"),
        (status = 400, description = "Malformed JSON or invalid parameters (`invalid_request_error`)"),
        (status = 401, description = "Missing or invalid client API key (`x-api-key`)"),
        (status = 403, description = "A web page's `Origin` not in `server.cors.allowed_origins`, or a `Host` not allowed on a loopback listener"),
        (status = 404, description = "Unknown model"),
        (status = 415, description = "The body is not sent as JSON (`Content-Type: application/json`)"),
        (status = 429, description = "Rate limited upstream"),
        (status = 529, description = "The upstream is overloaded"),
    )
)]
pub(crate) fn messages(
    arrival: Arrival,
    State(state): State<SharedState>,
    request_id: Option<axum::Extension<crate::middleware::RequestId>>,
    headers: HeaderMap,
    body: Body,
) -> impl Future<Output = Result<Response, ApiError>> {
    handle_chat::<AnthropicMessages>(arrival, state, request_id, headers, body)
}

/// The Anthropic Messages API.
#[derive(Debug)]
pub(crate) struct AnthropicMessages;

impl InboundChatApi for AnthropicMessages {
    const METRICS_LABEL: &'static str = "anthropic";
    const API: switchboard_core::extension::InboundApi =
        switchboard_core::extension::InboundApi::Anthropic;
    const ERROR_FORMAT: Format = Format::Anthropic;
    type StreamOptions = ();
    type Encoder = AnthropicStreamEncoder;

    fn parse(body: &[u8]) -> Result<InboundChat<()>, Error> {
        let inbound = anthropic::parse_messages_request(body)?;
        Ok(InboundChat {
            stream: inbound.is_stream(),
            stream_options: (),
            request: inbound.request,
        })
    }

    fn stream_encoder((): ()) -> AnthropicStreamEncoder {
        AnthropicStreamEncoder::new()
    }

    fn response_body(response: &ChatResponse) -> Result<Vec<u8>, Error> {
        to_json(&anthropic::to_wire_response(response))
    }
}
