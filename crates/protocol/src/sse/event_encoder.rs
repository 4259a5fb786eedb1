//! [`EventEncoder`]: the gateway-side twin of [`EventDecoder`](super::EventDecoder).

use bytes::Bytes;
use futures::{Stream, StreamExt};
use switchboard_core::{ChatEvent, ChatStream, Error};

/// A wire format's stateful encoder from [`ChatEvent`]s to SSE bytes (OpenAI
/// chunks, Anthropic events): what the server writes for a streamed answer.
pub trait EventEncoder: Send + 'static {
    /// The bytes of one event (possibly none).
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error>;
    /// The bytes that end the stream.
    fn finish(&mut self) -> Result<Bytes, Error>;
    /// The in-stream error event for `err`, the stream's last bytes.
    fn error_frame(&mut self, err: &Error) -> Bytes;
    /// Whether the answer's [`ChatEvent::Finish`] was encoded.
    fn is_finished(&self) -> bool;
}

/// Encodes a [`ChatStream`] as an SSE body with `encoder` (OpenAI: chunks,
/// then the usage chunk and `[DONE]`; Anthropic: `message_start`, content
/// blocks, `message_delta` and `message_stop`), or ends it with the format's
/// error event if the stream fails or ends without a [`ChatEvent::Finish`].
pub fn encode_chat_stream<E: EventEncoder>(
    events: ChatStream,
    encoder: E,
) -> impl Stream<Item = Bytes> + Send + 'static {
    futures::stream::unfold(Some((events, encoder)), |state| async move {
        let (mut events, mut encoder) = state?;
        loop {
            match events.next().await {
                Some(Ok(event)) => match encoder.encode(&event) {
                    Ok(bytes) if bytes.is_empty() => {}
                    Ok(bytes) => return Some((bytes, Some((events, encoder)))),
                    Err(err) => return Some((encoder.error_frame(&err), None)),
                },
                Some(Err(err)) => return Some((encoder.error_frame(&err), None)),
                None if !encoder.is_finished() => {
                    let err = Error::protocol("the answer ended before it finished");
                    return Some((encoder.error_frame(&err), None));
                }
                None => {
                    let frame = encoder
                        .finish()
                        .unwrap_or_else(|err| encoder.error_frame(&err));
                    return Some((frame, None));
                }
            }
        }
    })
}
