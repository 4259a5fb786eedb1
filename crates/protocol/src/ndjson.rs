//! Newline-delimited JSON (Ollama's streams): an incremental line decoder,
//! the [`LineDecoder`] a wire format implements, and the stream adapters.
//!
//! Lines end with LF; a CR before the LF is dropped (CRLF); lines holding
//! nothing but ASCII whitespace are skipped. One line may take at most
//! [`DEFAULT_MAX_LINE_SIZE`] bytes (see [`NdjsonDecoder::with_max_line_size`]);
//! a longer one is a protocol error, caught before its end arrives. Input
//! that ends in the middle of a line is a protocol error too, so a cut-off
//! answer never looks complete (unless
//! [`NdjsonDecoder::accept_unterminated_last_line`]). Lines are handed out as
//! raw bytes: parsing them is the wire format's business.
//!
//! ```
//! use switchboard_protocol::ndjson::NdjsonDecoder;
//!
//! let mut decoder = NdjsonDecoder::new();
//! let mut lines = Vec::new();
//! for piece in [&b"{\"a\""[..], b":1}\r\n\n{\"b\":2}\n"] {
//!     for line in decoder.feed(piece) {
//!         lines.push(line?);
//!     }
//! }
//! for line in decoder.finish() {
//!     lines.push(line?);
//! }
//! assert_eq!(lines, [&b"{\"a\":1}"[..], b"{\"b\":2}"]);
//! # Ok::<(), switchboard_core::Error>(())
//! ```

use std::fmt;

use bytes::{Bytes, BytesMut};
use switchboard_core::{ChatEvent, Error};

use crate::decoded::{DecodedStream, FrameDecoder};
use crate::framing::{FramedStream, Framing};

/// The longest line a decoder accepts by default: 16 MiB.
pub const DEFAULT_MAX_LINE_SIZE: usize = 16 * 1024 * 1024;

/// Where the decoder is in the life of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// More input may come.
    Open,
    /// [`NdjsonDecoder::finish`] was called: drain what is complete, then check the rest.
    Eof,
    /// Nothing more will be produced (after an error, or after the end was checked).
    Closed,
}

/// An incremental, synchronous NDJSON line decoder: push bytes as they
/// arrive, in pieces of any size, and take lines out (without their line
/// end).
///
/// Call [`feed`](Self::feed) for every piece of input and drain the returned
/// iterator, then call [`finish`](Self::finish) at the end of the input and
/// drain that too: it yields the lines still complete and then an
/// [`ErrorKind::Protocol`](switchboard_core::ErrorKind::Protocol) error if
/// the input stopped in the middle of a line.
pub struct NdjsonDecoder {
    buf: BytesMut,
    /// Bytes at the front of `buf` already known to hold no `\n`.
    scanned: usize,
    max_line_size: usize,
    accept_unterminated: bool,
    state: State,
}

impl fmt::Debug for NdjsonDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdjsonDecoder")
            .field("buffered", &self.buf.len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl NdjsonDecoder {
    /// A decoder with the default line size limit ([`DEFAULT_MAX_LINE_SIZE`]).
    pub fn new() -> Self {
        NdjsonDecoder {
            buf: BytesMut::new(),
            scanned: 0,
            max_line_size: DEFAULT_MAX_LINE_SIZE,
            accept_unterminated: false,
            state: State::Open,
        }
    }

    /// Sets the longest line (in bytes, without its line end) the decoder
    /// accepts; a longer one is a protocol error.
    #[must_use]
    pub fn with_max_line_size(mut self, bytes: usize) -> Self {
        self.max_line_size = bytes;
        self
    }

    /// Takes a last line without a line end, at the end of the input, as a
    /// complete line instead of an error.
    #[must_use]
    pub fn accept_unterminated_last_line(mut self) -> Self {
        self.accept_unterminated = true;
        self
    }

    /// Appends input without taking lines out; see [`next_line`](Self::next_line).
    /// Input after [`finish`](Self::finish) or after an error is ignored.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.state == State::Open {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Appends input and returns an iterator over the lines that are now
    /// complete. Lines the iterator does not reach stay queued for the next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Lines<'_> {
        self.push(bytes);
        Lines { decoder: self }
    }

    /// Marks the end of the input and returns an iterator over the remaining
    /// complete lines, ending with an error if the input stopped mid-line.
    pub fn finish(&mut self) -> Lines<'_> {
        if self.state == State::Open {
            self.state = State::Eof;
        }
        Lines { decoder: self }
    }

    /// Drops the buffered input and closes the decoder for good (after the
    /// end of the answer, or a transport error).
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.buf.clear();
        self.scanned = 0;
    }

    /// Takes the next complete, non-blank line (without its line end) out of
    /// the buffered input, if there is one.
    pub fn next_line(&mut self) -> Result<Option<Bytes>, Error> {
        if self.state == State::Closed {
            return Ok(None);
        }
        loop {
            let found = memchr::memchr(b'\n', &self.buf[self.scanned..]).map(|p| p + self.scanned);
            let Some(pos) = found else {
                self.scanned = self.buf.len();
                if line_len(&self.buf) > self.max_line_size {
                    return Err(self.fail_oversize());
                }
                return self.at_end_of_input();
            };
            let mut line = self.buf.split_to(pos + 1);
            self.scanned = 0;
            line.truncate(pos);
            if line.last() == Some(&b'\r') {
                line.truncate(pos - 1);
            }
            if line.len() > self.max_line_size {
                return Err(self.fail_oversize());
            }
            if is_blank(&line) {
                continue;
            }
            return Ok(Some(line.freeze()));
        }
    }

    /// No complete line is buffered: nothing to do while the input is open;
    /// at its end, what is left is a last line without a line end.
    fn at_end_of_input(&mut self) -> Result<Option<Bytes>, Error> {
        if self.state != State::Eof {
            return Ok(None);
        }
        self.state = State::Closed;
        let mut rest = std::mem::take(&mut self.buf);
        self.scanned = 0;
        if is_blank(&rest) {
            return Ok(None);
        }
        if !self.accept_unterminated {
            return Err(Error::protocol("the stream closed in the middle of a line"));
        }
        if rest.last() == Some(&b'\r') {
            rest.truncate(rest.len() - 1);
        }
        Ok(Some(rest.freeze()))
    }

    fn fail_oversize(&mut self) -> Error {
        self.close();
        Error::protocol(format!(
            "an NDJSON line is longer than {} bytes",
            self.max_line_size
        ))
    }
}

/// The length of a line still missing its end: a trailing CR may be the
/// first half of a CRLF, so it does not count.
fn line_len(partial: &[u8]) -> usize {
    partial.len() - usize::from(partial.last() == Some(&b'\r'))
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

impl Framing for NdjsonDecoder {
    type Frame = Bytes;

    fn push(&mut self, bytes: &[u8]) {
        NdjsonDecoder::push(self, bytes);
    }

    fn next_frame(&mut self) -> Result<Option<Bytes>, Error> {
        self.next_line()
    }

    fn end_input(&mut self) {
        let _ = self.finish();
    }

    fn close(&mut self) {
        NdjsonDecoder::close(self);
    }
}

/// Lines decoded so far; see [`NdjsonDecoder::feed`] and [`NdjsonDecoder::finish`].
#[derive(Debug)]
#[must_use = "lines are only decoded when the iterator is drained"]
pub struct Lines<'a> {
    decoder: &'a mut NdjsonDecoder,
}

impl Iterator for Lines<'_> {
    type Item = Result<Bytes, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.decoder.next_line().transpose()
    }
}

/// A wire format's stateful decoder from NDJSON lines to [`ChatEvent`]s
/// (Ollama's `/api/chat` chunks). The NDJSON twin of
/// [`EventDecoder`](crate::sse::EventDecoder).
pub trait LineDecoder {
    /// Decodes one line (without its line end, never blank), appending
    /// what it yields to `out`.
    fn push_line(&mut self, line: &[u8], out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// The byte stream ended: flushes held-back events, or fails when the
    /// answer was not complete.
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error>;
    /// Whether the answer is complete (no more input is needed).
    fn is_done(&self) -> bool;
}

impl<D: LineDecoder> FrameDecoder<Bytes> for D {
    fn push_frame(&mut self, frame: &Bytes, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        self.push_line(frame, out)
    }

    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        LineDecoder::finish(self, out)
    }

    fn is_done(&self) -> bool {
        LineDecoder::is_done(self)
    }
}

/// A [`Stream`](futures::Stream) of NDJSON lines over a stream of byte
/// chunks: a [`FramedStream`] with an [`NdjsonDecoder`]
/// (`NdjsonStream::new(bytes)`, `NdjsonStream::with_decoder(bytes, decoder)`).
/// A transport error, an over-long line or input ending mid-line ends the
/// stream with an error.
pub type NdjsonStream<S> = FramedStream<S, NdjsonDecoder>;

/// The [`Stream`](futures::Stream) of [`ChatEvent`]s a [`LineDecoder`]
/// makes of an NDJSON byte stream: a [`DecodedStream`] with an
/// [`NdjsonDecoder`] (`DecodedLineStream::new(bytes)`,
/// `with_decoder(bytes, decoder)`, `with_framing(bytes, lines, decoder)`).
/// Stops reading (releasing the connection) once the decoder is done; any
/// error ends the stream; at the end of the bytes, the decoder's `finish`
/// runs.
pub type DecodedLineStream<S, D> = DecodedStream<S, NdjsonDecoder, D>;

/// Decodes a whole NDJSON body held in memory with `decoder` (tests,
/// recordings): every line until the decoder is done, then its `finish`.
pub fn decode_body<D: LineDecoder>(body: &[u8], decoder: D) -> Result<Vec<ChatEvent>, Error> {
    crate::decoded::decode_frames(body, NdjsonDecoder::new(), decoder)
}

#[cfg(test)]
mod tests;
