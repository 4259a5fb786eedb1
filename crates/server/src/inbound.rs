//! What an inbound chat API is: how it reads a request ([`InboundChat`])
//! and writes an answer or an error ([`InboundChatApi`]). The OpenAI,
//! Anthropic and Gemini routes implement it; `chat.rs` runs the one path
//! and `hooked.rs` its extension-hooked variant, both over these types.

use switchboard_core::extension::InboundApi;
use switchboard_core::{ChatRequest, ChatResponse, Error};
use switchboard_protocol::sse::EventEncoder;

use crate::error::{ApiError, Format};

/// A chat request as an inbound API received it.
#[derive(Debug)]
pub(crate) struct InboundChat<O> {
    /// The request in core terms.
    pub(crate) request: ChatRequest,
    /// Whether the client asked for a streamed answer.
    pub(crate) stream: bool,
    /// What the API's stream encoder needs from the request.
    pub(crate) stream_options: O,
}

/// An inbound chat API: how it reads a request and writes an answer or an
/// error. [`handle_chat`] does the rest, the same for every API.
pub(crate) trait InboundChatApi {
    /// The `api` label of its metrics.
    const METRICS_LABEL: &'static str;
    /// The API as extensions see it.
    const API: InboundApi;
    /// The shape of its error bodies.
    const ERROR_FORMAT: Format;
    /// Whether a complete answer may be forwarded in this API's own wire
    /// format when the provider speaks it (see
    /// [`Switchboard::chat_forward`](switchboard_gateway::Switchboard::chat_forward)).
    const FORWARD: bool = false;
    /// What its stream encoder needs from the request.
    type StreamOptions;
    /// Its stream encoder.
    type Encoder: EventEncoder;

    /// Parses a request body.
    fn parse(body: &[u8]) -> Result<InboundChat<Self::StreamOptions>, Error>;

    /// The encoder of a streamed answer, made once the upstream stream is open.
    fn stream_encoder(options: Self::StreamOptions) -> Self::Encoder;

    /// The JSON body of a complete answer.
    fn response_body(response: &ChatResponse) -> Result<Vec<u8>, Error>;

    /// `error`, to be answered in its format.
    fn error(error: Error) -> ApiError {
        ApiError::new(error, Self::ERROR_FORMAT)
    }
}
