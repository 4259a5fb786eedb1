//! The same-format fast path for streams: a client's streamed OpenAI
//! request sent on with only `model` changed and usage asked for
//! ([`stream_request`]), and the upstream's chunks passed back as they came
//! with only what the gateway must know read from them ([`ForwardedChunks`]).
//!
//! A chunk is read without being built: its members are borrowed
//! ([`RawValue`]) and only `choices[].delta`, `choices[].finish_reason`,
//! `usage` and `error` are looked at. Its JSON goes back to the client byte
//! for byte, so `created`, the member order and fields the gateway has no
//! name for stay as the upstream sent them.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;
use switchboard_core::upstream::Upstream;
use switchboard_core::{Error, ForwardRequest, ForwardedFrame, ForwardedStream, Usage};

use super::error::error_from_value;
use super::forward::{Members, write_member};
use super::response::usage_from_wire;
use super::types::{CompletionUsage, StreamOptions};
use crate::framing::FramedStream;
use crate::lenient;
use crate::sse::{self, SseDecoder, SseEvent};

/// A provider's [`forward_stream`](switchboard_core::Provider::forward_stream)
/// for an OpenAI Chat Completions endpoint: `POST path` on `upstream` with
/// the client's body as [`stream_request`] makes it, and the answer's
/// chunks as [`ForwardedChunks`] reads them.
pub async fn forward_chat_stream(
    upstream: &Upstream,
    path: &str,
    request: &ForwardRequest,
) -> Result<ForwardedStream, Error> {
    let model = request
        .retargeted()
        .then_some(request.request.model.as_str());
    let (body, usage_asked) =
        stream_request(&request.body, model).map_err(|e| upstream.error(e))?;
    let reply = upstream.post_stream(path, body).await?;
    Ok(reply.frames(|body| ForwardedChunks::new(body, usage_asked)))
}

/// The streamed request `body` (a JSON object) to send upstream: its
/// `model` set to `model` when given, and `stream_options.include_usage`
/// set (the gateway counts every answer's tokens). Every other member is
/// written back byte for byte, in order. Also says whether the client asked
/// for usage itself: if not, [`ForwardedChunks`] leaves it out of what the
/// client gets. A body that needs neither change is returned as is.
pub fn stream_request(body: &Bytes, model: Option<&str>) -> Result<(Bytes, bool), Error> {
    let members = Members::parse(body)?;
    let options = members.get("stream_options");
    let usage_asked = options.is_some_and(|raw| {
        serde_json::from_str::<StreamOptions>(raw.get())
            .is_ok_and(|o| o.include_usage == Some(true))
    });
    let model = model.filter(|m| !members.names_model(m));
    if usage_asked && model.is_none() {
        return Ok((body.clone(), true));
    }
    let mut out = Vec::with_capacity(body.len() + 40);
    out.push(b'{');
    let mut first = true;
    for (key, value) in members.iter() {
        match (key, model) {
            ("model", Some(model)) => {
                write_member(&mut out, &mut first, key, |out| {
                    let _ = serde_json::to_writer(out, model);
                });
            }
            ("stream_options", _) if !usage_asked => {
                write_member(&mut out, &mut first, key, |out| {
                    write_usage_options(out, value);
                });
            }
            _ => write_member(&mut out, &mut first, key, |out| {
                out.extend_from_slice(value.get().as_bytes());
            }),
        }
    }
    if options.is_none() {
        write_member(&mut out, &mut first, "stream_options", |out| {
            out.extend_from_slice(br#"{"include_usage":true}"#);
        });
    }
    out.push(b'}');
    Ok((Bytes::from(out), usage_asked))
}

/// The client's `stream_options` (an object, or anything else) with
/// `include_usage: true`, its other members kept.
fn write_usage_options(out: &mut Vec<u8>, options: &RawValue) {
    out.push(b'{');
    let mut first = true;
    if let Ok(members) = Members::parse(options.get().as_bytes()) {
        for (key, value) in members.iter().filter(|(k, _)| *k != "include_usage") {
            write_member(out, &mut first, key, |out| {
                out.extend_from_slice(value.get().as_bytes());
            });
        }
    }
    write_member(out, &mut first, "include_usage", |out| {
        out.extend_from_slice(b"true");
    });
    out.push(b'}');
}

/// What the gateway reads of one chunk it passes on.
#[derive(Deserialize)]
struct ChunkRead<'a> {
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "lenient::null_as_default")]
    choices: Vec<ChoiceRead<'a>>,
    /// `Some` whenever the member is there, `null` included.
    #[serde(default, borrow, deserialize_with = "present")]
    usage: Option<&'a RawValue>,
    #[serde(default, borrow)]
    x_groq: Option<GroqRead<'a>>,
}

/// A member's value, `null` included (`Option`'s own `Deserialize` reads
/// `null` as absent).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Groq's chunk extension: usage and errors live here.
#[derive(Deserialize)]
struct GroqRead<'a> {
    #[serde(default, borrow)]
    error: Option<&'a RawValue>,
    #[serde(default, borrow)]
    usage: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChoiceRead<'a> {
    #[serde(default, borrow)]
    delta: Option<DeltaRead<'a>>,
    #[serde(default, borrow)]
    finish_reason: Option<&'a RawValue>,
}

/// The delta members that carry content (what the full path's decoder
/// turns into text, reasoning, refusal and tool-call events).
#[derive(Deserialize)]
struct DeltaRead<'a> {
    #[serde(default, borrow)]
    content: Option<&'a RawValue>,
    #[serde(default, borrow)]
    refusal: Option<&'a RawValue>,
    #[serde(default, borrow)]
    reasoning_content: Option<&'a RawValue>,
    #[serde(default, borrow)]
    reasoning: Option<&'a RawValue>,
    #[serde(default, borrow)]
    tool_calls: Option<&'a RawValue>,
    #[serde(default, borrow)]
    function_call: Option<&'a RawValue>,
}

impl DeltaRead<'_> {
    fn has_content(&self) -> bool {
        [
            self.content,
            self.refusal,
            self.reasoning_content,
            self.reasoning,
            self.tool_calls,
            self.function_call,
        ]
        .into_iter()
        .flatten()
        .any(|raw| !matches!(raw.get(), "null" | "\"\"" | "[]" | "{}"))
    }
}

/// Whether `raw` is present and not `null`.
fn set(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|r| r.get() != "null")
}

/// An upstream's OpenAI chunk stream as [`ForwardedFrame`]s: each `data:`
/// event passed on as it came (re-framed as `data: <json>\n\n`; SSE
/// comments are not passed on), with what the gateway must know read from
/// it. Checked as the full path's decoder checks a stream:
///
/// - a chunk with an `error` object (or Groq's `x_groq.error`), or an
///   `event: error`, ends the stream with that error;
/// - a chunk that is not JSON is a protocol error;
/// - `[DONE]` ends the stream; so does the end of the body once a choice
///   finished (a `[DONE]` is added for the client then); a stream that ends
///   without a `finish_reason` is a protocol error: a truncated answer
///   must not look complete.
///
/// When the client did not ask for usage (see [`stream_request`]), the
/// usage-only chunk is read and not passed on, and `usage` is removed from
/// the other chunks: the client gets what it would have got from the
/// upstream directly.
pub struct ForwardedChunks<S> {
    events: FramedStream<S, SseDecoder>,
    usage_asked: bool,
    finished: bool,
    done: bool,
}

impl<S> std::fmt::Debug for ForwardedChunks<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardedChunks")
            .field("events", &self.events)
            .field("usage_asked", &self.usage_asked)
            .field("finished", &self.finished)
            .field("done", &self.done)
            .finish()
    }
}

impl<S> ForwardedChunks<S> {
    /// Reads the SSE body `bytes`; `usage_asked` is what [`stream_request`]
    /// said of the client's request.
    pub fn new(bytes: S, usage_asked: bool) -> Self {
        ForwardedChunks {
            events: FramedStream::new(bytes),
            usage_asked,
            finished: false,
            done: false,
        }
    }

    /// One event: `Ok(None)` for an event with nothing to pass on.
    fn read(&mut self, event: &SseEvent) -> Result<Option<ForwardedFrame>, Error> {
        if event.is_done() {
            self.done = true;
            if !self.finished {
                return Err(Error::protocol(
                    "the upstream stream ended before the answer finished",
                ));
            }
            return Ok(Some(ForwardedFrame {
                bytes: sse::done_frame(),
                progress: true,
                usage: None,
            }));
        }
        if event.event_type() == "error" {
            let value = serde_json::from_str(&event.data)
                .unwrap_or_else(|_| Value::String(event.data.clone()));
            return Err(error_from_value(&value));
        }
        if event.data.trim().is_empty() {
            return Ok(None);
        }
        let chunk: ChunkRead<'_> = serde_json::from_str(&event.data).map_err(|e| {
            Error::protocol(format!("invalid chat completion chunk: {e}")).with_source(e)
        })?;
        let groq = chunk.x_groq.as_ref();
        if let Some(err) = set(chunk.error).or_else(|| groq.and_then(|g| set(g.error))) {
            let value = serde_json::from_str(err.get()).unwrap_or(Value::Null);
            return Err(error_from_value(&value));
        }
        let mut progress = false;
        for choice in &chunk.choices {
            if set(choice.finish_reason).is_some() {
                self.finished = true;
                progress = true;
            }
            if choice.delta.as_ref().is_some_and(DeltaRead::has_content) {
                progress = true;
            }
        }
        let wire_usage = set(chunk.usage).or_else(|| groq.and_then(|g| set(g.usage)));
        let usage = wire_usage.map(read_usage).transpose()?;
        progress |= usage.is_some();
        let bytes = if self.usage_asked || chunk.usage.is_none() {
            sse::encode_data(&event.data)
        } else if chunk.choices.is_empty() && usage.is_some() {
            // The usage chunk the gateway asked for: read, not passed on.
            Bytes::new()
        } else {
            sse::encode_data(&without_usage(&event.data)?)
        };
        Ok(Some(ForwardedFrame {
            bytes,
            progress,
            usage,
        }))
    }
}

/// A chunk's `usage` in the core's terms.
fn read_usage(raw: &RawValue) -> Result<Usage, Error> {
    let wire: CompletionUsage = serde_json::from_str(raw.get()).map_err(|e| {
        Error::protocol(format!("invalid usage in a chat completion chunk: {e}")).with_source(e)
    })?;
    Ok(usage_from_wire(&wire))
}

/// The chunk `data` without its top-level `usage` member, the rest byte for
/// byte.
fn without_usage(data: &str) -> Result<String, Error> {
    let members = Members::parse(data.as_bytes())
        .map_err(|_| Error::protocol("invalid chat completion chunk: not a JSON object"))?;
    let mut out = Vec::with_capacity(data.len());
    out.push(b'{');
    let mut first = true;
    for (key, value) in members.iter().filter(|(k, _)| *k != "usage") {
        write_member(&mut out, &mut first, key, |out| {
            out.extend_from_slice(value.get().as_bytes());
        });
    }
    out.push(b'}');
    // Member names come from a `str` and values are valid JSON text.
    String::from_utf8(out).map_err(|e| Error::protocol(format!("invalid chunk: {e}")))
}

impl<S, B, E> Stream for ForwardedChunks<S>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<Error>,
{
    type Item = Result<ForwardedFrame, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            let event = match Pin::new(&mut this.events).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(event))) => event,
                Poll::Ready(Some(Err(err))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if this.finished {
                        // Some servers end the body without `[DONE]`; the
                        // client still gets one.
                        return Poll::Ready(Some(Ok(ForwardedFrame {
                            bytes: sse::done_frame(),
                            progress: true,
                            usage: None,
                        })));
                    }
                    return Poll::Ready(Some(Err(Error::protocol(
                        "the upstream stream ended before the answer finished",
                    ))));
                }
            };
            match this.read(&event) {
                Ok(Some(frame)) => return Poll::Ready(Some(Ok(frame))),
                Ok(None) => {}
                Err(err) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}
