//! SSE events → [`ChatEvent`]s: the [`EventDecoder`] a wire format
//! implements, and the [`Stream`] adapter that drives it over a byte stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use switchboard_core::{ChatEvent, Error};

use super::decoder::{SseDecoder, SseEvent, SseStream};

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

/// The [`Stream`] of [`ChatEvent`]s an [`EventDecoder`] makes of an SSE byte
/// stream. Stops reading (releasing the connection) once the decoder is
/// done; any error ends the stream.
pub struct DecodedEventStream<S, D> {
    sse: Option<SseStream<S>>,
    decoder: D,
    pending: std::collections::VecDeque<ChatEvent>,
    scratch: Vec<ChatEvent>,
}

impl<S, D: fmt::Debug> fmt::Debug for DecodedEventStream<S, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedEventStream")
            .field("decoder", &self.decoder)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<S, D: Default> DecodedEventStream<S, D> {
    /// Wraps a byte stream (e.g. `reqwest::Response::bytes_stream()`).
    pub fn new(bytes: S) -> Self {
        Self::with_decoder(bytes, D::default())
    }
}

impl<S, D> DecodedEventStream<S, D> {
    /// Wraps a byte stream, decoding with `decoder`.
    pub fn with_decoder(bytes: S, decoder: D) -> Self {
        DecodedEventStream {
            sse: Some(SseStream::new(bytes)),
            decoder,
            pending: std::collections::VecDeque::new(),
            scratch: Vec::new(),
        }
    }
}

impl<S, B, E, D> Stream for DecodedEventStream<S, D>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<Error>,
    D: EventDecoder + Unpin,
{
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        use futures::StreamExt;
        let this = self.get_mut();
        loop {
            if let Some(event) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            let Some(sse) = this.sse.as_mut() else {
                return Poll::Ready(None);
            };
            let result = match sse.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => this.decoder.push_event(&event, &mut this.scratch),
                Poll::Ready(Some(Err(err))) => Err(err),
                Poll::Ready(None) => this.decoder.finish(&mut this.scratch),
            };
            this.pending.extend(this.scratch.drain(..));
            match result {
                Ok(()) if this.decoder.is_done() => this.sse = None,
                Ok(()) => {}
                Err(err) => {
                    this.sse = None;
                    this.pending.clear();
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}
