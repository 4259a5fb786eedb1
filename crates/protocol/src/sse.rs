//! Server-sent events: an incremental decoder, a [`Stream`] adapter over a
//! byte stream, and an encoder.
//!
//! # Why our own decoder
//!
//! The `eventsource-stream` crate follows the WHATWG rule that an event cut
//! off by the end of the stream is discarded silently. For a gateway that is
//! the wrong answer: an upstream that drops the connection in the middle of a
//! chunk must surface as an error (and count against the upstream's health),
//! not as a shorter, seemingly complete answer. Owning the decoder also lets
//! us bound the memory one event may take, keep the hot path free of
//! per-line allocations (lines are sliced out of one [`BytesMut`] and located
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

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use futures::Stream;
use serde::Serialize;
use switchboard_core::{ChatEvent, Error};

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

/// A [`Stream`] of [`SseEvent`]s over a stream of byte chunks, such as
/// `reqwest::Response::bytes_stream()`.
///
/// A transport error is passed on (converted with `Into<Error>`) and ends the
/// stream; so does a protocol error (an oversized event, or the input ending
/// mid-event). The inner stream is boxed once so that any stream (pinned or
/// not) can be wrapped without `unsafe`.
pub struct SseStream<S> {
    inner: Option<Pin<Box<S>>>,
    decoder: SseDecoder,
}

impl<S> fmt::Debug for SseStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseStream")
            .field("decoder", &self.decoder)
            .field("inner_done", &self.inner.is_none())
            .finish()
    }
}

impl<S> SseStream<S> {
    /// Wraps a byte stream with a default [`SseDecoder`].
    pub fn new(inner: S) -> Self {
        Self::with_decoder(inner, SseDecoder::new())
    }

    /// Wraps a byte stream with a configured decoder.
    pub fn with_decoder(inner: S, decoder: SseDecoder) -> Self {
        SseStream {
            inner: Some(Box::pin(inner)),
            decoder,
        }
    }
}

impl<S, B, E> Stream for SseStream<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<Error>,
{
    type Item = Result<SseEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.decoder.next_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(event))),
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
                    this.decoder.state = State::Closed;
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Ready(None) => {
                    this.inner = None;
                    let _ = this.decoder.finish();
                }
            }
        }
    }
}

/// The OpenAI end-of-stream frame, `data: [DONE]` and a blank line.
pub const DONE_FRAME: &[u8] = b"data: [DONE]\n\n";

/// [`DONE_FRAME`] as [`Bytes`].
pub fn done_frame() -> Bytes {
    Bytes::from_static(DONE_FRAME)
}

fn put_event_name(buf: &mut BytesMut, event: &str) {
    buf.put_slice(b"event: ");
    // A line break in the name would end the field early and let the rest be
    // read as other fields, so line breaks are dropped.
    for piece in event.split(['\r', '\n']) {
        buf.put_slice(piece.as_bytes());
    }
    buf.put_u8(b'\n');
}

fn put_data_lines(buf: &mut BytesMut, data: &str) {
    let bytes = data.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => {
                buf.put_slice(b"data: ");
                buf.put_slice(&bytes[start..i]);
                buf.put_u8(b'\n');
                if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    buf.put_slice(b"data: ");
    buf.put_slice(&bytes[start..]);
    buf.put_u8(b'\n');
}

/// Frames `data` as one event with no name: `data: <data>\n\n`. Line breaks in
/// `data` become separate `data:` lines, which a decoder joins back with `\n`.
pub fn encode_data(data: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(data.len() + 8);
    put_data_lines(&mut buf, data);
    buf.put_u8(b'\n');
    buf.freeze()
}

/// Frames a named event (Anthropic style): `event: <name>\ndata: <data>\n\n`.
pub fn encode_event(event: &str, data: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(event.len() + data.len() + 16);
    put_event_name(&mut buf, event);
    put_data_lines(&mut buf, data);
    buf.put_u8(b'\n');
    buf.freeze()
}

/// Serializes `value` as compact JSON straight into one frame, with an
/// optional event name. Compact JSON never contains a raw line break, so the
/// frame always has exactly one `data:` line.
pub fn encode_json<T: Serialize + ?Sized>(event: Option<&str>, value: &T) -> Result<Bytes, Error> {
    let mut buf = BytesMut::with_capacity(256);
    encode_json_into(&mut buf, event, value)?;
    Ok(buf.freeze())
}

/// Like [`encode_json`], appending to `buf` (to batch several frames in one write).
pub fn encode_json_into<T: Serialize + ?Sized>(
    buf: &mut BytesMut,
    event: Option<&str>,
    value: &T,
) -> Result<(), Error> {
    if let Some(event) = event {
        put_event_name(buf, event);
    }
    buf.put_slice(b"data: ");
    serde_json::to_writer(buf.writer(), value).map_err(|e| {
        Error::protocol(format!("could not serialize an event: {e}")).with_source(e)
    })?;
    buf.put_slice(b"\n\n");
    Ok(())
}

/// A comment frame (`: <text>\n\n`), e.g. a keep-alive that clients ignore.
pub fn encode_comment(text: &str) -> Bytes {
    let mut buf = BytesMut::with_capacity(text.len() + 4);
    for line in text.split(['\r', '\n']) {
        buf.put_slice(b": ");
        buf.put_slice(line.as_bytes());
        buf.put_u8(b'\n');
    }
    buf.put_u8(b'\n');
    buf.freeze()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use switchboard_core::ErrorKind;

    fn decode_all(input: &[u8], split: usize) -> Result<Vec<SseEvent>, Error> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for piece in input.chunks(split.max(1)) {
            for event in decoder.feed(piece) {
                out.push(event?);
            }
        }
        for event in decoder.finish() {
            out.push(event?);
        }
        Ok(out)
    }

    fn datas(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn every_line_ending_and_split_gives_the_same_events() {
        let lf = "data: one\n\n: comment\ndata: two\ndata: lines\n\nevent: ping\ndata: é€😀\n\ndata: [DONE]\n\n";
        let crlf = lf.replace('\n', "\r\n");
        let cr = lf.replace('\n', "\r");
        for input in [lf.to_owned(), crlf, cr] {
            for split in 1..=9 {
                let events = decode_all(input.as_bytes(), split).expect("well-formed");
                assert_eq!(
                    datas(&events),
                    ["one", "two\nlines", "é€😀", "[DONE]"],
                    "split {split}, input {input:?}"
                );
                assert_eq!(events[2].event_type(), "ping");
                assert_eq!(events[0].event_type(), "message");
                assert!(events[3].is_done());
                assert!(!events[0].is_done());
            }
        }
    }

    #[test]
    fn crlf_split_between_cr_and_lf_is_one_line_end() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.feed(b"data: a\r").count(), 0);
        // The LF completes the CR line end; the next CR LF is the blank line.
        let events: Vec<_> = decoder
            .feed(b"\n\r\n")
            .collect::<Result<_, _>>()
            .expect("ok");
        assert_eq!(datas(&events), ["a"]);
        assert_eq!(decoder.finish().count(), 0);
    }

    #[test]
    fn bom_is_skipped_even_when_split() {
        let input = b"\xEF\xBB\xBFdata: x\n\n";
        for split in 1..=4 {
            let events = decode_all(input, split).expect("ok");
            assert_eq!(datas(&events), ["x"], "split {split}");
        }
        // Only one BOM is skipped; a second one is part of the field name.
        let events = decode_all(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", 1).expect("ok");
        assert_eq!(datas(&events), ["y"]);
    }

    #[test]
    fn fields_follow_the_spec() {
        let input = b"id: 7\nretry: 1500\nevent: delta\ndata:no-space\ndata:  two-spaces\nfoo: ignored\ndata\n\nretry: x\ndata: next\n\n";
        let events = decode_all(input, 3).expect("ok");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].data, "no-space\n two-spaces\n");
        assert_eq!(events[0].event.as_deref(), Some("delta"));
        assert_eq!(events[0].id.as_deref(), Some("7"));
        assert_eq!(events[0].retry, Some(1500));
        // The id persists, the event type and retry do not.
        assert_eq!(events[1].id.as_deref(), Some("7"));
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].retry, None);
    }

    #[test]
    fn blocks_without_data_are_not_dispatched() {
        let events = decode_all(b"event: ping\n\n: hi\n\nid: 3\n\ndata:\n\n", 2).expect("ok");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "");
        assert_eq!(
            events[0].event, None,
            "the event type was reset by the empty block"
        );
        assert_eq!(events[0].id.as_deref(), Some("3"));
    }

    #[test]
    fn utf8_split_inside_a_character_survives() {
        let input = "data: 😀 ünïcödé\n\n".as_bytes();
        for split in 1..=5 {
            assert_eq!(
                datas(&decode_all(input, split).expect("ok")),
                ["😀 ünïcödé"]
            );
        }
        let events = decode_all(b"data: \xFFok\n\n", 1).expect("lossy, not an error");
        assert_eq!(events[0].data, "\u{FFFD}ok");
    }

    #[test]
    fn closing_mid_event_is_an_error() {
        for input in [
            &b"data: {\"partial\":"[..],
            b"data: complete line\n",
            b"event: x\n",
            b"data: a\n\ndata: b",
        ] {
            for split in [1, 4, 100] {
                let err = decode_all(input, split).expect_err("mid-event");
                assert_eq!(err.kind(), &ErrorKind::Protocol);
                assert_eq!(err.message(), "stream closed mid-event");
            }
        }
        // Trailing noise that is not part of an event is fine.
        for input in [
            &b"data: a\n\n"[..],
            b"data: a\n\n\n",
            b"data: a\n\n: ping",
            b"data: a\n\n  ",
        ] {
            assert_eq!(datas(&decode_all(input, 2).expect("clean end")), ["a"]);
        }
    }

    #[test]
    fn complete_events_before_a_mid_event_close_are_delivered() {
        let mut decoder = SseDecoder::new();
        assert_eq!(decoder.feed(b"data: a\n\ndata: b").count(), 1);
        let rest: Vec<_> = decoder.finish().collect();
        assert_eq!(rest.len(), 1);
        assert!(rest[0].is_err());
        // Closed for good afterwards.
        assert_eq!(decoder.finish().count(), 0);
        assert_eq!(decoder.feed(b"data: c\n\n").count(), 0);
    }

    #[test]
    fn finish_yields_events_left_undrained() {
        let mut decoder = SseDecoder::new();
        decoder.push(b"data: a\n\ndata: b\r");
        let err = decoder
            .finish()
            .collect::<Result<Vec<_>, _>>()
            .expect_err("b is cut");
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        let mut decoder = SseDecoder::new();
        decoder.push(b"data: a\n\ndata: b\n\r");
        let events: Vec<_> = decoder
            .finish()
            .collect::<Result<_, _>>()
            .expect("complete");
        assert_eq!(datas(&events), ["a", "b"]);
    }

    #[test]
    fn oversized_events_are_rejected() {
        let mut decoder = SseDecoder::new().with_max_event_size(16);
        let results: Vec<_> = decoder.feed(b"data: 0123456789abcdef\n\n").collect();
        assert_eq!(results.len(), 1);
        let err = results[0].as_ref().expect_err("too big");
        assert_eq!(err.kind(), &ErrorKind::Protocol);
        // A huge line without a terminator is caught before it completes.
        let mut decoder = SseDecoder::new().with_max_event_size(16);
        let results: Vec<_> = decoder.feed(&[b'x'; 64]).collect();
        assert!(results[0].is_err());
        let mut decoder = SseDecoder::new().with_max_event_size(16);
        let ok: Vec<_> = decoder.feed(b"data: 0123\n\ndata: 4567\n\n").collect();
        assert_eq!(ok.len(), 2, "the limit is per event");
        assert!(ok.iter().all(Result::is_ok));
    }

    #[test]
    fn encoder_frames_decode_back() {
        let mut wire = BytesMut::new();
        wire.extend_from_slice(&encode_data("plain"));
        wire.extend_from_slice(&encode_data("two\nlines\r\nand\rthree"));
        wire.extend_from_slice(&encode_event("message_start", "{\"a\":1}"));
        wire.extend_from_slice(&encode_event("bad\r\nname", "x"));
        wire.extend_from_slice(&encode_comment("keep-alive"));
        wire.extend_from_slice(
            &encode_json(Some("delta"), &serde_json::json!({"t": "a\nb"})).expect("json"),
        );
        wire.extend_from_slice(&done_frame());
        assert_eq!(&encode_data("x")[..], b"data: x\n\n");
        assert_eq!(&encode_event("e", "x")[..], b"event: e\ndata: x\n\n");
        let events = decode_all(&wire, 5).expect("ok");
        assert_eq!(
            datas(&events),
            [
                "plain",
                "two\nlines\nand\nthree",
                "{\"a\":1}",
                "x",
                "{\"t\":\"a\\nb\"}",
                "[DONE]"
            ]
        );
        assert_eq!(events[2].event_type(), "message_start");
        assert_eq!(events[3].event_type(), "badname");
        assert_eq!(events[4].event_type(), "delta");
    }

    #[derive(Debug)]
    struct Boom;
    impl From<Boom> for Error {
        fn from(_: Boom) -> Error {
            Error::unavailable("connection reset")
        }
    }

    #[tokio::test]
    async fn stream_adapter_decodes_and_reports_errors() {
        let pieces: Vec<Result<Vec<u8>, Boom>> = vec![
            Ok(b"da".to_vec()),
            Ok(b"ta: a\n".to_vec()),
            Ok(b"\ndata: b\n\n".to_vec()),
        ];
        let events: Vec<_> = SseStream::new(futures::stream::iter(pieces))
            .collect()
            .await;
        let events: Vec<SseEvent> = events.into_iter().collect::<Result<_, _>>().expect("ok");
        assert_eq!(datas(&events), ["a", "b"]);

        let cut: Vec<Result<Bytes, Boom>> = vec![Ok(Bytes::from_static(b"data: a\n\ndata: {"))];
        let items: Vec<_> = SseStream::new(futures::stream::iter(cut)).collect().await;
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().map(|e| e.data.as_str()).ok(), Some("a"));
        let err = items[1].as_ref().expect_err("cut mid-event");
        assert_eq!(err.message(), "stream closed mid-event");

        let broken: Vec<Result<Bytes, Boom>> = vec![
            Ok(Bytes::from_static(b"data: a\n\n")),
            Err(Boom),
            Ok(Bytes::from_static(b"data: late\n\n")),
        ];
        let items: Vec<_> = SseStream::new(futures::stream::iter(broken))
            .collect()
            .await;
        assert_eq!(items.len(), 2, "the stream ends after the transport error");
        assert_eq!(
            items[1].as_ref().expect_err("transport").kind(),
            &ErrorKind::Unavailable
        );
    }
}
