//! Frames → [`ChatEvent`]s, whatever the framing: the [`FrameDecoder`] a
//! wire format implements, and [`DecodedStream`], the [`Stream`] that drives
//! one over a byte stream.
//!
//! A wire format does not implement [`FrameDecoder`] itself: it implements
//! [`EventDecoder`](crate::sse::EventDecoder) (SSE) or
//! [`LineDecoder`](crate::ndjson::LineDecoder) (NDJSON), and gets
//! [`FrameDecoder`] from them. Use the aliases
//! [`DecodedEventStream`](crate::sse::DecodedEventStream) and
//! [`DecodedLineStream`](crate::ndjson::DecodedLineStream).

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use switchboard_core::{ChatEvent, Error};

use crate::framing::{FramedStream, Framing};

/// A wire format's stateful decoder from frames of type `Frame` to
/// [`ChatEvent`]s.
pub trait FrameDecoder<Frame: ?Sized> {
    /// Decodes one frame, appending what it yields to `out`.
    fn push_frame(&mut self, frame: &Frame, out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// The byte stream ended: flushes held-back events, or fails when the
    /// answer was not complete.
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// Whether the answer is complete (no more input is needed).
    fn is_done(&self) -> bool;
}

/// Decodes a whole body held in memory (tests, recorded fixtures): every
/// frame until the decoder is done; at the end of the body, the remaining
/// frames, then the decoder's `finish`.
pub fn decode_frames<F, D>(
    body: &[u8],
    mut framing: F,
    mut decoder: D,
) -> Result<Vec<ChatEvent>, Error>
where
    F: Framing,
    D: FrameDecoder<F::Frame>,
{
    let mut out = Vec::new();
    framing.push(body);
    while let Some(frame) = framing.next_frame()? {
        decoder.push_frame(&frame, &mut out)?;
        if decoder.is_done() {
            return Ok(out);
        }
    }
    framing.end_input();
    while let Some(frame) = framing.next_frame()? {
        decoder.push_frame(&frame, &mut out)?;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

/// The [`Stream`] of [`ChatEvent`]s a [`FrameDecoder`] makes of a byte
/// stream cut into frames by `F`. Stops reading (releasing the connection)
/// once the decoder is done; any error (transport, framing or decoding)
/// ends the stream; at the end of the bytes, the decoder's `finish` runs.
pub struct DecodedStream<S, F, D> {
    frames: Option<FramedStream<S, F>>,
    decoder: D,
    pending: VecDeque<ChatEvent>,
    scratch: Vec<ChatEvent>,
}

impl<S, F, D: fmt::Debug> fmt::Debug for DecodedStream<S, F, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedStream")
            .field("decoder", &self.decoder)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<S, F: Default, D: Default> DecodedStream<S, F, D> {
    /// Wraps a byte stream (e.g. `reqwest::Response::bytes_stream()`).
    pub fn new(bytes: S) -> Self {
        Self::with_decoder(bytes, D::default())
    }
}

impl<S, F: Default, D> DecodedStream<S, F, D> {
    /// Wraps a byte stream, decoding with `decoder`.
    pub fn with_decoder(bytes: S, decoder: D) -> Self {
        Self::with_framing(bytes, F::default(), decoder)
    }
}

impl<S, F, D> DecodedStream<S, F, D> {
    /// Wraps a byte stream, framing with `framing` (e.g. a smaller size
    /// limit) and decoding with `decoder`.
    pub fn with_framing(bytes: S, framing: F, decoder: D) -> Self {
        DecodedStream {
            frames: Some(FramedStream::with_decoder(bytes, framing)),
            decoder,
            pending: VecDeque::new(),
            scratch: Vec::new(),
        }
    }
}

impl<S, B, E, F, D> Stream for DecodedStream<S, F, D>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<Error>,
    F: Framing + Unpin,
    D: FrameDecoder<F::Frame> + Unpin,
{
    type Item = Result<ChatEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            let Some(frames) = this.frames.as_mut() else {
                return Poll::Ready(None);
            };
            let result = match frames.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => this.decoder.push_frame(&frame, &mut this.scratch),
                Poll::Ready(Some(Err(err))) => Err(err),
                Poll::Ready(None) => FrameDecoder::finish(&mut this.decoder, &mut this.scratch),
            };
            this.pending.extend(this.scratch.drain(..));
            match result {
                Ok(()) if FrameDecoder::is_done(&this.decoder) => this.frames = None,
                Ok(()) => {}
                Err(err) => {
                    this.frames = None;
                    this.pending.clear();
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}
