//! Server-sent events: an incremental decoder, a [`Stream`](futures::Stream) adapter over a
//! byte stream, and an encoder.
//!
//! The framing is in `decoder.rs` (bytes → [`SseEvent`]s) and `encoder.rs`
//! (frames out); `event_encoder.rs` holds [`EventEncoder`], which the
//! gateway's stream encoders implement; `adapter.rs` holds [`EventDecoder`] and
//! [`DecodedEventStream`], which turn events into
//! [`ChatEvent`](switchboard_core::ChatEvent)s (the SSE forms of
//! [`FrameDecoder`](crate::decoded::FrameDecoder) and
//! [`DecodedStream`](crate::decoded::DecodedStream)).
//!
//! # Why our own decoder
//!
//! The `eventsource-stream` crate follows the WHATWG rule that an event cut
//! off by the end of the stream is discarded silently. For a gateway that is
//! the wrong answer: an upstream that drops the connection in the middle of a
//! chunk must surface as an error (and count against the upstream's health),
//! not as a shorter, seemingly complete answer. Owning the decoder also lets
//! us bound the memory one event may take, keep the hot path free of
//! per-line allocations (lines are sliced out of one [`BytesMut`](bytes::BytesMut) and located
//! with `memchr`), and expose a synchronous decoder that tests and benches
//! can drive without an async runtime.
//!
//! Everything else follows the WHATWG "event stream interpretation" rules:
//! lines end with CRLF, LF or CR (a CRLF split across two reads is still one
//! line end); a UTF-8 byte order mark at the very start is skipped; lines
//! starting with `:` are comments (OpenRouter's `: OPENROUTER PROCESSING`
//! keep-alives); `data:` lines are joined with `\n`; one space after the colon
//! is removed; `event:`, `id:` and `retry:` are honoured and unknown fields are
//! ignored; an event is dispatched at a blank line and only if it had at least
//! one `data:` line. Invalid UTF-8 is replaced with U+FFFD, as the spec says.
//! The OpenAI `data: [DONE]` sentinel is an ordinary event here; see
//! [`SseEvent::is_done`].
//!
//! ```
//! use switchboard_protocol::sse::SseDecoder;
//!
//! let mut decoder = SseDecoder::new();
//! let mut data = Vec::new();
//! for piece in [&b"data: {\"a\""[..], b":1}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n"] {
//!     for event in decoder.feed(piece) {
//!         data.push(event?.data);
//!     }
//! }
//! for event in decoder.finish() {
//!     data.push(event?.data);
//! }
//! assert_eq!(data, ["{\"a\":1}", "[DONE]"]);
//! # Ok::<(), switchboard_core::Error>(())
//! ```

mod adapter;
mod decoder;
mod encoder;
mod event_encoder;
#[cfg(test)]
mod tests;

pub use adapter::{DecodedEventStream, EventDecoder, decode_body};
pub use decoder::{DEFAULT_MAX_EVENT_SIZE, Events, SseDecoder, SseEvent, SseStream};
pub use encoder::{
    DONE_FRAME, done_frame, encode_comment, encode_data, encode_event, encode_json,
    encode_json_into,
};
pub use event_encoder::{EventEncoder, encode_chat_stream};
