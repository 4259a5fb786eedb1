//! Stream decoding (providers): an upstream's OpenAI chunks → [`ChatEvent`]s.

use std::borrow::Cow;

use futures::Stream;
use switchboard_core::{ChatEvent, ChatStream, Error, FinishReason, Usage};

use crate::openai::error::error_from_value;
use crate::openai::response::usage_from_wire;
use crate::openai::types::{ChatCompletionChunk, FunctionCallChunk, ToolCallChunk};
use crate::sse::{self, DecodedEventStream, EventDecoder, SseEvent};

/// A tool call seen in the stream.
#[derive(Debug, Clone)]
struct ToolSlot {
    /// The `index` the server gave it, if any.
    wire_index: Option<u32>,
    /// The server's id for it (empty if none was sent).
    id: String,
    /// The index in our events.
    index: u32,
}

/// Turns the `data:` payloads of an OpenAI chat completion stream into
/// [`ChatEvent`]s.
///
/// - The first chunk with choices gives [`ChatEvent::Start`] (with the first
///   non-empty `id` and `model` and the first non-zero `created` seen;
///   Azure's leading chunk with empty `choices`, no id and `created: 0` is
///   skipped for that).
/// - `delta.reasoning_content` (DeepSeek, vLLM) or else `delta.reasoning`
///   (OpenRouter, Groq) → [`ChatEvent::ReasoningDelta`]; `delta.content` →
///   [`ChatEvent::TextDelta`]; `delta.refusal` → [`ChatEvent::RefusalDelta`].
///   Empty strings produce nothing.
/// - A tool-call fragment whose `index` is new gives
///   [`ChatEvent::ToolCallStart`] (its `id` and `function.name`), and any
///   argument text gives [`ChatEvent::ToolCallDelta`]. The server's index is
///   kept, except that a fragment with a new `id` on an index already in use
///   (a server numbering parallel calls wrongly) gets the next free index, and
///   fragments without an `index` are matched by `id`, else continue the last call.
/// - Only choice 0 is read; `n` > 1 streams are not split into several answers.
/// - **Usage before Finish**: the `finish_reason` and the usage (top-level
///   `usage`, or Groq's `x_groq.usage`; the last one wins) are held back and
///   emitted as [`ChatEvent::Usage`] then [`ChatEvent::Finish`] at `[DONE]` or
///   at the end of the stream ([`finish`](Self::finish)). OpenAI sends the
///   usage chunk *after* the finish chunk, so this is the only order in which
///   a consumer that stops at `Finish` still sees the usage.
/// - A chunk with an `error` object (OpenRouter's mid-stream errors, Groq's
///   `x_groq.error`) is an `Err`, and the decoder is done.
/// - A stream that ends without a `finish_reason` is a
///   [`Protocol`](switchboard_core::ErrorKind::Protocol) error: a truncated
///   answer must not look complete.
#[derive(Debug, Default, Clone)]
pub struct OpenAiStreamDecoder {
    id: Option<String>,
    model: Option<String>,
    created: Option<u64>,
    started: bool,
    tools: Vec<ToolSlot>,
    last_tool: Option<usize>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    done: bool,
}

impl OpenAiStreamDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the stream is over (`[DONE]`, [`finish`](Self::finish), or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Handles one SSE event: `[DONE]` ends the stream, an `event: error`
    /// is an error, anything else is a chunk. Events after the end are ignored.
    pub fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if event.is_done() {
            return self.finish(out);
        }
        if event.event_type() == "error" {
            // `event: error` (vLLM and some proxies): the data is the error,
            // whatever its shape.
            self.done = true;
            let value = serde_json::from_str(&event.data)
                .unwrap_or_else(|_| serde_json::Value::String(event.data.clone()));
            return Err(error_from_value(&value));
        }
        self.push_data(&event.data, out)
    }

    /// Handles one `data:` payload (a JSON chunk). Blank payloads are ignored.
    pub fn push_data(&mut self, data: &str, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done || data.trim().is_empty() {
            return Ok(());
        }
        let chunk: ChatCompletionChunk<'_> = serde_json::from_str(data).map_err(|e| {
            self.done = true;
            Error::protocol(format!("invalid chat completion chunk: {e}")).with_source(e)
        })?;
        self.push_chunk(chunk, out)
    }

    /// Handles one parsed chunk.
    pub fn push_chunk(
        &mut self,
        chunk: ChatCompletionChunk<'_>,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let groq_error = chunk.x_groq.as_ref().and_then(|x| x.error.as_ref());
        if let Some(err) = chunk.error.as_ref().or(groq_error).filter(|e| !e.is_null()) {
            self.done = true;
            return Err(error_from_value(err));
        }
        if self.id.is_none() && !chunk.id.is_empty() {
            self.id = Some(chunk.id.clone().into_owned());
        }
        if self.model.is_none() && !chunk.model.is_empty() {
            self.model = Some(chunk.model.clone().into_owned());
        }
        if self.created.is_none() && chunk.created > 0 {
            self.created = Some(chunk.created);
        }
        if !chunk.choices.is_empty() {
            self.ensure_started(out);
        }
        for choice in chunk.choices {
            if choice.index != 0 {
                continue;
            }
            let delta = choice.delta;
            if let Some(r) = delta
                .reasoning_content
                .or(delta.reasoning)
                .filter(|r| !r.is_empty())
            {
                out.push(ChatEvent::ReasoningDelta {
                    text: r.into_owned(),
                });
            }
            if let Some(t) = delta.content.filter(|t| !t.is_empty()) {
                out.push(ChatEvent::TextDelta {
                    text: t.into_owned(),
                });
            }
            if let Some(r) = delta.refusal.filter(|r| !r.is_empty()) {
                out.push(ChatEvent::RefusalDelta {
                    text: r.into_owned(),
                });
            }
            for call in delta.tool_calls.into_iter().flatten() {
                self.push_tool_call(call, out);
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.finish = Some(FinishReason::parse(&reason));
            }
        }
        let usage = chunk
            .usage
            .as_ref()
            .or_else(|| chunk.x_groq.as_ref().and_then(|x| x.usage.as_ref()));
        if let Some(u) = usage {
            self.usage = Some(usage_from_wire(u));
        }
        Ok(())
    }

    fn ensure_started(&mut self, out: &mut Vec<ChatEvent>) {
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Start {
                id: self.id.clone().unwrap_or_default(),
                model: self.model.clone().unwrap_or_default(),
                created: self.created,
            });
        }
    }

    fn push_tool_call(&mut self, call: ToolCallChunk<'_>, out: &mut Vec<ChatEvent>) {
        let id = call.id.filter(|s| !s.is_empty());
        let existing = match (call.index, id.as_deref()) {
            (Some(w), _) => self.tools.iter().rposition(|s| s.wire_index == Some(w)),
            (None, Some(id)) => self.tools.iter().rposition(|s| s.id == id),
            (None, None) => self.last_tool,
        };
        let reused = match (existing, id.as_deref()) {
            (Some(pos), Some(id)) => !self.tools[pos].id.is_empty() && self.tools[pos].id != id,
            _ => false,
        };
        let FunctionCallChunk { name, arguments } = call.function.unwrap_or_default();
        let slot = match existing {
            Some(pos) if !reused => pos,
            _ => {
                let taken = |i: u32| self.tools.iter().any(|s| s.index == i);
                let next_free = self
                    .tools
                    .iter()
                    .map(|s| s.index.saturating_add(1))
                    .max()
                    .unwrap_or(0);
                let index = match call.index {
                    Some(w) if !taken(w) => w,
                    _ => next_free,
                };
                self.tools.push(ToolSlot {
                    wire_index: call.index,
                    id: id.as_deref().unwrap_or_default().to_owned(),
                    index,
                });
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id: id.map(Cow::into_owned).unwrap_or_default(),
                    name: name.map(Cow::into_owned).unwrap_or_default(),
                });
                self.tools.len() - 1
            }
        };
        self.last_tool = Some(slot);
        if let Some(args) = arguments.filter(|a| !a.is_empty()) {
            out.push(ChatEvent::ToolCallDelta {
                index: self.tools[slot].index,
                arguments: args.into_owned(),
            });
        }
    }

    /// Ends the stream (at `[DONE]` or when the connection closes cleanly):
    /// emits the held-back usage and finish. Without a `finish_reason` this is
    /// a protocol error. Calling it again does nothing.
    pub fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let Some(reason) = self.finish.take() else {
            return Err(Error::protocol(
                "the stream ended before the answer finished (no finish_reason)",
            ));
        };
        self.ensure_started(out);
        if let Some(u) = self.usage.take() {
            out.push(ChatEvent::Usage(u));
        }
        out.push(ChatEvent::Finish { reason });
        Ok(())
    }
}

/// The [`Stream`] of [`ChatEvent`]s decoded from an OpenAI SSE byte stream;
/// see [`chat_event_stream`].
pub type OpenAiEventStream<S> = DecodedEventStream<S, OpenAiStreamDecoder>;

impl EventDecoder for OpenAiStreamDecoder {
    fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        OpenAiStreamDecoder::push_event(self, event, out)
    }
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        OpenAiStreamDecoder::finish(self, out)
    }
    fn is_done(&self) -> bool {
        OpenAiStreamDecoder::is_done(self)
    }
}

/// Decodes an OpenAI chat completion SSE body into a [`ChatStream`].
///
/// Transport errors (`E: Into<Error>`, e.g. `reqwest::Error`), malformed
/// chunks, in-stream error objects, a connection closed mid-event and a
/// stream without a `finish_reason` all end the stream with an `Err`.
pub fn chat_event_stream<S, B, E>(bytes: S) -> ChatStream
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + 'static,
    E: Into<Error> + 'static,
{
    Box::pin(OpenAiEventStream::new(bytes))
}

/// Decodes a whole SSE body held in memory (tests, recorded fixtures).
pub fn decode_chat_events(body: &[u8]) -> Result<Vec<ChatEvent>, Error> {
    sse::decode_body(body, OpenAiStreamDecoder::new())
}
