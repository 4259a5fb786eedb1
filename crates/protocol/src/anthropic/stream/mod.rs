//! Streaming, one file per direction: [`decode`] (Anthropic stream events
//! → [`ChatEvent`](switchboard_core::ChatEvent)s, for providers) and
//! [`encode`] (events → stream events, for the gateway).

mod decode;
mod encode;

pub use crate::sse::encode_chat_stream;
pub use decode::{
    AnthropicEventStream, AnthropicStreamDecoder, chat_event_stream, decode_chat_events,
};
pub use encode::{AnthropicStreamEncoder, FALLBACK_MESSAGE_ID};
