//! Streaming, one file per direction: [`decode`] (OpenAI chunks →
//! [`ChatEvent`](switchboard_core::ChatEvent)s, for providers) and [`encode`]
//! (events → chunks, for the gateway).

mod decode;
mod encode;

pub use crate::sse::encode_chat_stream;
pub use decode::{OpenAiEventStream, OpenAiStreamDecoder, chat_event_stream, decode_chat_events};
pub use encode::{FALLBACK_COMPLETION_ID, OpenAiStreamEncoder};
