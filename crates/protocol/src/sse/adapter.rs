//! SSE events → [`ChatEvent`]s: the [`EventDecoder`] a wire format
//! implements, and [`DecodedEventStream`], the stream adapter that drives it
//! over a byte stream (the SSE form of [`DecodedStream`]).

use switchboard_core::{ChatEvent, Error};

use super::decoder::{SseDecoder, SseEvent};
use crate::decoded::{DecodedStream, FrameDecoder};

/// A wire format's stateful decoder from SSE events to [`ChatEvent`]s
/// (OpenAI chunks, Anthropic events, Gemini responses).
pub trait EventDecoder {
    /// Decodes one SSE event, appending what it yields to `out`.
    fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// The byte stream ended: flushes held-back events, or fails when the
    /// answer was not complete.
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// Whether the answer is complete (no more input is needed).
    fn is_done(&self) -> bool;
}

/// Decodes a whole SSE body held in memory with `decoder` (tests, recorded
/// fixtures): every event until the decoder is done, then its `finish`.
pub fn decode_body<D: EventDecoder>(body: &[u8], mut decoder: D) -> Result<Vec<ChatEvent>, Error> {
    let mut sse = SseDecoder::new();
    let mut out = Vec::new();
    for event in sse.feed(body) {
        decoder.push_event(&event?, &mut out)?;
        if decoder.is_done() {
            return Ok(out);
        }
    }
    for event in sse.finish() {
        decoder.push_event(&event?, &mut out)?;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

impl<D: EventDecoder> FrameDecoder<SseEvent> for D {
    fn push_frame(&mut self, frame: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        self.push_event(frame, out)
    }

    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        EventDecoder::finish(self, out)
    }

    fn is_done(&self) -> bool {
        EventDecoder::is_done(self)
    }
}

/// The [`Stream`](futures::Stream) of [`ChatEvent`]s an [`EventDecoder`]
/// makes of an SSE byte stream: a [`DecodedStream`] with an [`SseDecoder`]
/// (`DecodedEventStream::new(bytes)`, `with_decoder(bytes, decoder)`).
/// Stops reading (releasing the connection) once the decoder is done; any
/// error ends the stream.
pub type DecodedEventStream<S, D> = DecodedStream<S, SseDecoder, D>;
