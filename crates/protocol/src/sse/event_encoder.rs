//! [`EventEncoder`]: the gateway-side twin of [`EventDecoder`](super::EventDecoder).

use bytes::Bytes;
use switchboard_core::{ChatEvent, Error};

/// A wire format's stateful encoder from [`ChatEvent`]s to SSE bytes (OpenAI
/// chunks, Anthropic events): what the server writes for a streamed answer.
pub trait EventEncoder: Send + 'static {
    /// The bytes of one event (possibly none).
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error>;
    /// The bytes that end the stream.
    fn finish(&mut self) -> Result<Bytes, Error>;
    /// The in-stream error event for `err`, the stream's last bytes.
    fn error_frame(&mut self, err: &Error) -> Bytes;
}
