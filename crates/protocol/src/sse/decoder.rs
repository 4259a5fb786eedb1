//! SSE framing, decoding side: bytes → [`SseEvent`]s, synchronously
//! ([`SseDecoder`]) or over a byte stream ([`SseStream`]).

use std::fmt;

use bytes::{Buf, BytesMut};
use switchboard_core::Error;

use crate::framing::{FramedStream, Framing};

/// The largest event (all of its lines together) a decoder accepts by default: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, if the event had one (`None` means the default type, `message`).
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen on the stream so far (the `id:` field persists across events).
    pub id: Option<String>,
    /// The `retry:` value (milliseconds) given within this event, if any.
    pub retry: Option<u64>,
}

impl SseEvent {
    /// An event with only data.
    pub fn data(data: impl Into<String>) -> Self {
        SseEvent {
            data: data.into(),
            ..Default::default()
        }
    }

    /// The event type: the `event:` field, or `message` when there was none.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// Whether this is OpenAI's end-of-stream sentinel `data: [DONE]`. Like the
    /// official client, any data starting with `[DONE]` counts.
    pub fn is_done(&self) -> bool {
        self.data.starts_with("[DONE]")
    }
}

/// Where the decoder is in the life of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// More input may come.
    Open,
    /// [`SseDecoder::finish`] was called: drain what is complete, then check for a partial event.
    Eof,
    /// Nothing more will be produced (after an error, or after the end was checked).
    Closed,
}

/// The fields of the event being assembled.
#[derive(Debug, Default)]
struct EventBuilder {
    data: String,
    has_data: bool,
    event: Option<String>,
    retry: Option<u64>,
    last_id: Option<String>,
    /// Whether any field line was seen since the last dispatch.
    in_event: bool,
    /// Bytes of the lines of the current event so far.
    size: usize,
}

impl EventBuilder {
    /// Interprets one line (without its terminator).
    fn line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        self.in_event = true;
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&String::from_utf8_lossy(value));
                self.has_data = true;
            }
            b"event" => self.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"id" if !value.contains(&0) => {
                self.last_id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Too many digits for a u64 is ignored like any invalid value.
                if let Some(ms) = std::str::from_utf8(value).ok().and_then(|s| s.parse().ok()) {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        self.in_event = false;
        self.size = 0;
        if !self.has_data {
            self.event = None;
            self.retry = None;
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            retry: self.retry.take(),
        })
    }
}

/// An incremental, synchronous SSE decoder: push bytes as they arrive, in
/// pieces of any size, and take events out.
///
/// Call [`feed`](Self::feed) for every piece of input and drain the returned
/// iterator, then call [`finish`](Self::finish) at the end of the input and
/// drain that too: it yields whatever events are still complete and then an
/// [`ErrorKind::Protocol`](switchboard_core::ErrorKind::Protocol) error if the
/// input stopped in the middle of an event.
pub struct SseDecoder {
    buf: BytesMut,
    /// Bytes at the front of `buf` already known to hold no line terminator.
    scanned: usize,
    /// The last line ended with a CR at the very end of the input so far; a
    /// leading LF in the next piece belongs to that line end.
    skip_lf: bool,
    bom_checked: bool,
    builder: EventBuilder,
    max_event_size: usize,
    state: State,
}

impl fmt::Debug for SseDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseDecoder")
            .field("buffered", &self.buf.len())
            .field("in_event", &self.builder.in_event)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder with the default event size limit ([`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn new() -> Self {
        SseDecoder {
            buf: BytesMut::new(),
            scanned: 0,
            skip_lf: false,
            bom_checked: false,
            builder: EventBuilder::default(),
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            state: State::Open,
        }
    }

    /// Sets the largest event (in bytes, all lines together) the decoder
    /// accepts; a larger one is a protocol error.
    #[must_use]
    pub fn with_max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Appends input without taking events out; see [`next_event`](Self::next_event).
    /// Input after [`finish`](Self::finish) or after an error is ignored.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.state == State::Open {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Appends input and returns an iterator over the events that are now
    /// complete. Events the iterator does not reach stay queued for the next call.
    pub fn feed(&mut self, bytes: &[u8]) -> Events<'_> {
        self.push(bytes);
        Events { decoder: self }
    }

    /// Marks the end of the input and returns an iterator over the remaining
    /// complete events, ending with an error if the input stopped mid-event.
    pub fn finish(&mut self) -> Events<'_> {
        if self.state == State::Open {
            self.state = State::Eof;
        }
        Events { decoder: self }
    }

    /// The id of the last `id:` field seen (what a client would send as `Last-Event-ID`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.builder.last_id.as_deref()
    }

    /// Takes the next complete event out of the buffered input, if there is one.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, Error> {
        if self.state == State::Closed {
            return Ok(None);
        }
        loop {
            if !self.bom_checked {
                if self.buf.len() < BOM.len()
                    && BOM.starts_with(&self.buf)
                    && self.state == State::Open
                {
                    return Ok(None);
                }
                if self.buf.starts_with(BOM) {
                    self.buf.advance(BOM.len());
                }
                self.bom_checked = true;
            }
            if self.skip_lf {
                match self.buf.first() {
                    None if self.state == State::Open => return Ok(None),
                    Some(b'\n') => self.buf.advance(1),
                    _ => {}
                }
                self.skip_lf = false;
            }
            let found = memchr::memchr2(b'\n', b'\r', &self.buf[self.scanned..]);
            let Some(pos) = found.map(|p| p + self.scanned) else {
                self.scanned = self.buf.len();
                if self.builder.size.saturating_add(self.buf.len()) > self.max_event_size {
                    return Err(self.fail_oversize());
                }
                return self.at_end_of_input();
            };
            let consumed = if self.buf[pos] == b'\n' {
                pos + 1
            } else if pos + 1 < self.buf.len() {
                if self.buf[pos + 1] == b'\n' {
                    pos + 2
                } else {
                    pos + 1
                }
            } else {
                // A CR at the end of what we have: the line is complete, but an
                // LF at the start of the next piece still belongs to it.
                self.skip_lf = true;
                pos + 1
            };
            self.builder.size = self.builder.size.saturating_add(consumed);
            if self.builder.size > self.max_event_size {
                return Err(self.fail_oversize());
            }
            let event = self.builder.line(&self.buf[..pos]);
            self.buf.advance(consumed);
            self.scanned = 0;
            if let Some(event) = event {
                return Ok(Some(event));
            }
        }
    }

    /// No complete line is buffered: nothing to do while the input is open;
    /// at its end, check that no event was left half-way.
    fn at_end_of_input(&mut self) -> Result<Option<SseEvent>, Error> {
        if self.state != State::Eof {
            return Ok(None);
        }
        self.state = State::Closed;
        let partial = &self.buf[..];
        let partial_is_noise =
            partial.first() == Some(&b':') || partial.iter().all(u8::is_ascii_whitespace);
        let mid_event = self.builder.in_event || !partial_is_noise;
        self.buf.clear();
        if mid_event {
            return Err(Error::protocol("stream closed mid-event"));
        }
        Ok(None)
    }

    fn fail_oversize(&mut self) -> Error {
        self.state = State::Closed;
        self.buf.clear();
        Error::protocol(format!(
            "server-sent event larger than {} bytes",
            self.max_event_size
        ))
    }
}

/// Events decoded so far; see [`SseDecoder::feed`] and [`SseDecoder::finish`].
#[derive(Debug)]
#[must_use = "events are only decoded when the iterator is drained"]
pub struct Events<'a> {
    decoder: &'a mut SseDecoder,
}

impl Iterator for Events<'_> {
    type Item = Result<SseEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.decoder.next_event().transpose()
    }
}

/// A [`Stream`](futures::Stream) of [`SseEvent`]s over a stream of byte
/// chunks, such as `reqwest::Response::bytes_stream()`: a [`FramedStream`]
/// with an [`SseDecoder`] (`SseStream::new(bytes)`,
/// `SseStream::with_decoder(bytes, decoder)`).
///
/// A transport error is passed on (converted with `Into<Error>`) and ends the
/// stream; so does a protocol error (an oversized event, or the input ending
/// mid-event).
pub type SseStream<S> = FramedStream<S, SseDecoder>;

impl Framing for SseDecoder {
    type Frame = SseEvent;

    fn push(&mut self, bytes: &[u8]) {
        SseDecoder::push(self, bytes);
    }

    fn next_frame(&mut self) -> Result<Option<SseEvent>, Error> {
        self.next_event()
    }

    fn end_input(&mut self) {
        let _ = self.finish();
    }

    fn close(&mut self) {
        self.state = State::Closed;
        self.buf.clear();
    }
}
