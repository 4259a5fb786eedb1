//! Framing: cutting a byte stream into frames (server-sent events, NDJSON
//! lines), whatever the frames then mean.
//!
//! A [`Framing`] is an incremental, synchronous decoder: bytes in, in pieces
//! of any size, frames out. [`FramedStream`] drives one over a [`Stream`] of
//! byte chunks. The implementations are [`SseDecoder`](crate::sse::SseDecoder)
//! (frames: [`SseEvent`](crate::sse::SseEvent)s) and
//! [`NdjsonDecoder`](crate::ndjson::NdjsonDecoder) (frames: lines).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use switchboard_core::Error;

/// An incremental decoder from bytes to frames.
///
/// The contract, which [`FramedStream`] relies on: [`push`](Self::push)
/// input as it arrives and take frames out with
/// [`next_frame`](Self::next_frame) until it returns `Ok(None)`; at the end
/// of the input call [`end_input`](Self::end_input) and drain
/// [`next_frame`](Self::next_frame) again: the remaining complete frames
/// come out, then an error if the input stopped in the middle of a frame.
/// After an error the decoder yields nothing more.
pub trait Framing {
    /// One decoded frame.
    type Frame;
    /// Appends input. Input after the end or after an error is ignored.
    fn push(&mut self, bytes: &[u8]);
    /// Takes the next complete frame out of the buffered input, if any.
    fn next_frame(&mut self) -> Result<Option<Self::Frame>, Error>;
    /// Marks the end of the input (see the trait docs).
    fn end_input(&mut self);
    /// Closes the decoder for good (the transport failed): buffered input
    /// is dropped and no more frames come out.
    fn close(&mut self);
}

/// A [`Stream`] of frames over a stream of byte chunks, such as
/// `reqwest::Response::bytes_stream()`.
///
/// A transport error is passed on (converted with `Into<Error>`) and ends the
/// stream; so does a framing error (an oversized frame, or the input ending
/// mid-frame). The inner stream is boxed once so that any stream (pinned or
/// not) can be wrapped without `unsafe`.
pub struct FramedStream<S, F> {
    inner: Option<Pin<Box<S>>>,
    decoder: F,
}

impl<S, F: fmt::Debug> fmt::Debug for FramedStream<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FramedStream")
            .field("decoder", &self.decoder)
            .field("inner_done", &self.inner.is_none())
            .finish()
    }
}

impl<S, F: Default> FramedStream<S, F> {
    /// Wraps a byte stream with a default decoder.
    pub fn new(inner: S) -> Self {
        Self::with_decoder(inner, F::default())
    }
}

impl<S, F> FramedStream<S, F> {
    /// Wraps a byte stream with a configured decoder.
    pub fn with_decoder(inner: S, decoder: F) -> Self {
        FramedStream {
            inner: Some(Box::pin(inner)),
            decoder,
        }
    }
}

impl<S, B, E, F> Stream for FramedStream<S, F>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<Error>,
    F: Framing + Unpin,
{
    type Item = Result<F::Frame, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.decoder.next_frame() {
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) => {}
                Err(err) => {
                    this.inner = None;
                    return Poll::Ready(Some(Err(err)));
                }
            }
            let Some(inner) = this.inner.as_mut() else {
                return Poll::Ready(None);
            };
            match inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.decoder.push(chunk.as_ref()),
                Poll::Ready(Some(Err(err))) => {
                    this.inner = None;
                    this.decoder.close();
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Ready(None) => {
                    this.inner = None;
                    this.decoder.end_input();
                }
            }
        }
    }
}
