//! Streaming: Anthropic stream events → [`ChatEvent`]s (providers) and
//! [`ChatEvent`]s → Anthropic stream events (the gateway's answer).

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::{ChatEvent, ChatStream, Error, FinishReason, Usage};

use super::error::{error_from_value, error_to_wire};
use super::origin::{ORIGIN, tag_signature};
use super::response::{delta_usage_to_wire, finish_reason_from_wire, stop_reason_to_wire};
use super::types::{
    BlockDelta, ContentBlock, MessageDeltaBody, MessageUsage, MessagesResponse, StreamEvent,
};
use crate::lenient;
use crate::sse::{self, DecodedEventStream, EventDecoder, SseEvent};

/// What kind of content block is open at a wire index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    RedactedThinking,
    /// A `tool_use` block and its dense tool-call index.
    ToolUse(u32),
    /// A block the core has no events for (`server_tool_use`, ...): its deltas are ignored.
    Other,
}

/// Token counts seen so far, in Anthropic terms.
#[derive(Debug, Clone, Copy, Default)]
struct WireUsage {
    input: u64,
    cache_write: u64,
    cache_read: u64,
    output: u64,
}

impl WireUsage {
    fn to_core(self) -> Usage {
        let input = self
            .input
            .saturating_add(self.cache_write)
            .saturating_add(self.cache_read);
        Usage {
            input_tokens: input,
            output_tokens: self.output,
            cached_input_tokens: self.cache_read,
            cache_write_input_tokens: self.cache_write,
            reasoning_tokens: 0,
            total_tokens: input.saturating_add(self.output),
        }
    }
}

/// Turns the events of an Anthropic Messages stream into [`ChatEvent`]s.
///
/// - `message_start` → [`ChatEvent::Start`] (id, model) and the initial usage.
/// - `content_block_start` of a `tool_use` block → [`ChatEvent::ToolCallStart`]
///   with a dense index: the first `tool_use` block is call 0, the next call
///   1, whatever the blocks' own indices (text and thinking blocks count too
///   on the wire). A start that already carries a non-empty `input` (not
///   seen from the API, but cheap to honour) gives its JSON as a first delta.
/// - `text_delta` → [`ChatEvent::TextDelta`], `thinking_delta` →
///   [`ChatEvent::ReasoningDelta`], `signature_delta` →
///   [`ChatEvent::ReasoningSignature`], `input_json_delta` →
///   [`ChatEvent::ToolCallDelta`] of the block's call, in arrival order.
///   Empty fragments (the API's first `partial_json` is `""`) produce nothing.
///   Deltas of blocks the core has no events for (`server_tool_use`,
///   `web_search_tool_result`), `citations_delta` and unknown delta types are
///   ignored; an `input_json_delta` for a block that never started is a
///   protocol error (its call would have no id).
/// - A `redacted_thinking` block arrives whole in its `content_block_start`
///   → one [`ChatEvent::RedactedReasoning`] with its `data`.
/// - Signatures and redacted data get origin [`ORIGIN`](super::ORIGIN)
///   (`"anthropic"`) and are kept exactly as sent.
/// - `message_delta` gives the stop reason and the **cumulative** usage:
///   each count it carries replaces the one from `message_start`.
/// - **Usage before Finish**: at `message_stop`, [`ChatEvent::Usage`] (if
///   any count was seen) then [`ChatEvent::Finish`]. Usage is converted as
///   in [`usage_from_wire`](super::usage_from_wire): the core's
///   `input_tokens` includes cached and cache-written tokens.
/// - `ping` and unknown event types are ignored.
/// - An `error` event is an `Err` (`overloaded_error` → `unavailable`,
///   retryable; see [`error_from_value`](super::error_from_value)), and the
///   decoder is done.
/// - A stream that ends without `message_stop` finishes anyway if a
///   `message_delta` gave the stop reason; otherwise it is a
///   [`Protocol`](switchboard_core::ErrorKind::Protocol) error, so a
///   truncated answer never looks complete.
///
/// JSON payloads are parsed whatever their whitespace (the live API pads
/// them with spaces before the closing brace).
#[derive(Debug, Default, Clone)]
pub struct AnthropicStreamDecoder {
    started: bool,
    blocks: Vec<(u32, BlockKind)>,
    next_tool: u32,
    usage: Option<WireUsage>,
    finish: Option<FinishReason>,
    done: bool,
}

impl AnthropicStreamDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the stream is over (`message_stop`, [`finish`](Self::finish), or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Handles one SSE event (its `data:` is the JSON event; the `event:`
    /// name is not needed, as the JSON's `type` says the same).
    pub fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        self.push_data(&event.data, out)
    }

    /// Handles one event's JSON payload.
    pub fn push_data(&mut self, data: &str, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        // The hot path: most events are `content_block_delta`s, which a flat
        // struct reads without serde's buffering of internally tagged enums.
        if let Ok(fast) = serde_json::from_str::<FastDelta<'_>>(data)
            && fast.kind == "content_block_delta"
            && let Some(delta) = fast.delta.into_block_delta()
        {
            return self.push(
                StreamEvent::ContentBlockDelta {
                    index: fast.index,
                    delta,
                },
                out,
            );
        }
        let event: StreamEvent<'_> = match serde_json::from_str(data) {
            Ok(e) => e,
            Err(e) => {
                self.done = true;
                let preview: String = data.chars().take(200).collect();
                return Err(Error::protocol(format!(
                    "the upstream sent a stream event that could not be read ({e}): {preview}"
                ))
                .with_source(e));
            }
        };
        self.push(event, out)
    }

    /// Handles one parsed event.
    pub fn push(&mut self, event: StreamEvent<'_>, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        match event {
            StreamEvent::MessageStart { message } => {
                if !self.started {
                    self.started = true;
                    out.push(ChatEvent::Start {
                        id: message.id.into_owned(),
                        model: message.model.into_owned(),
                    });
                }
                // The docs' extended-thinking example has no `usage` here;
                // then only `message_delta` can report it.
                let u = &message.usage;
                let seen = u.input_tokens > 0
                    || u.output_tokens > 0
                    || u.cache_creation_input_tokens.is_some()
                    || u.cache_read_input_tokens.is_some()
                    || !u.extra.is_empty();
                if seen {
                    self.usage = Some(WireUsage {
                        input: u.input_tokens,
                        cache_write: u.cache_creation_input_tokens.unwrap_or(0),
                        cache_read: u.cache_read_input_tokens.unwrap_or(0),
                        output: u.output_tokens,
                    });
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                self.ensure_started(out);
                let kind = match content_block {
                    ContentBlock::Text { text, .. } => {
                        if !text.is_empty() {
                            out.push(ChatEvent::TextDelta {
                                text: text.into_owned(),
                            });
                        }
                        BlockKind::Text
                    }
                    ContentBlock::Thinking {
                        thinking,
                        signature,
                        ..
                    } => {
                        if !thinking.is_empty() {
                            out.push(ChatEvent::ReasoningDelta {
                                text: thinking.into_owned(),
                            });
                        }
                        if !signature.is_empty() {
                            out.push(ChatEvent::ReasoningSignature {
                                signature: signature.into_owned(),
                                origin: Some(ORIGIN.to_owned()),
                            });
                        }
                        BlockKind::Thinking
                    }
                    ContentBlock::RedactedThinking { data, .. } => {
                        if !data.is_empty() {
                            out.push(ChatEvent::RedactedReasoning {
                                data: data.into_owned(),
                                origin: Some(ORIGIN.to_owned()),
                            });
                        }
                        BlockKind::RedactedThinking
                    }
                    ContentBlock::ToolUse {
                        id, name, input, ..
                    } => {
                        let call = self.next_tool;
                        self.next_tool += 1;
                        out.push(ChatEvent::ToolCallStart {
                            index: call,
                            id: id.into_owned(),
                            name: name.into_owned(),
                        });
                        if input.as_object().is_some_and(|o| !o.is_empty()) {
                            out.push(ChatEvent::ToolCallDelta {
                                index: call,
                                arguments: input.to_string(),
                            });
                        }
                        BlockKind::ToolUse(call)
                    }
                    _ => BlockKind::Other,
                };
                self.set_block(index, kind);
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                self.ensure_started(out);
                let kind = self.block(index);
                match delta {
                    BlockDelta::TextDelta { text } => {
                        if kind.is_none() {
                            self.set_block(index, BlockKind::Text);
                        }
                        if !text.is_empty() && kind != Some(BlockKind::Other) {
                            out.push(ChatEvent::TextDelta {
                                text: text.into_owned(),
                            });
                        }
                    }
                    BlockDelta::ThinkingDelta { thinking } => {
                        if kind.is_none() {
                            self.set_block(index, BlockKind::Thinking);
                        }
                        if !thinking.is_empty() && kind != Some(BlockKind::Other) {
                            out.push(ChatEvent::ReasoningDelta {
                                text: thinking.into_owned(),
                            });
                        }
                    }
                    BlockDelta::SignatureDelta { signature } => {
                        if !signature.is_empty() && kind != Some(BlockKind::Other) {
                            out.push(ChatEvent::ReasoningSignature {
                                signature: signature.into_owned(),
                                origin: Some(ORIGIN.to_owned()),
                            });
                        }
                    }
                    BlockDelta::InputJsonDelta { partial_json } => match kind {
                        Some(BlockKind::ToolUse(call)) => {
                            if !partial_json.is_empty() {
                                out.push(ChatEvent::ToolCallDelta {
                                    index: call,
                                    arguments: partial_json.into_owned(),
                                });
                            }
                        }
                        Some(_) => {}
                        None => {
                            self.done = true;
                            return Err(Error::protocol(format!(
                                "the upstream sent tool input for content block {index}, which never started"
                            )));
                        }
                    },
                    BlockDelta::CitationsDelta { .. } | BlockDelta::Unknown => {}
                }
            }
            StreamEvent::ContentBlockStop { .. } | StreamEvent::Ping | StreamEvent::Unknown => {}
            StreamEvent::MessageDelta { delta, usage } => {
                self.ensure_started(out);
                if let Some(reason) = delta.stop_reason.as_deref().filter(|r| !r.is_empty()) {
                    self.finish = Some(finish_reason_from_wire(reason));
                }
                if let Some(u) = usage {
                    let acc = self.usage.get_or_insert_with(WireUsage::default);
                    if let Some(n) = u.input_tokens {
                        acc.input = n;
                    }
                    if let Some(n) = u.cache_creation_input_tokens {
                        acc.cache_write = n;
                    }
                    if let Some(n) = u.cache_read_input_tokens {
                        acc.cache_read = n;
                    }
                    acc.output = u.output_tokens;
                }
            }
            StreamEvent::MessageStop => {
                self.ensure_started(out);
                if self.finish.is_none() {
                    self.finish = Some(FinishReason::Stop);
                }
                self.finish(out)?;
            }
            StreamEvent::Error { error } => {
                self.done = true;
                let value = serde_json::json!({
                    "type": "error",
                    "error": {"type": error.kind, "message": error.message},
                });
                return Err(error_from_value(&value));
            }
        }
        Ok(())
    }

    fn ensure_started(&mut self, out: &mut Vec<ChatEvent>) {
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Start {
                id: String::new(),
                model: String::new(),
            });
        }
    }

    fn block(&self, index: u32) -> Option<BlockKind> {
        self.blocks
            .iter()
            .rev()
            .find(|(i, _)| *i == index)
            .map(|(_, k)| *k)
    }

    fn set_block(&mut self, index: u32, kind: BlockKind) {
        match self.blocks.iter_mut().rev().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = kind,
            None => self.blocks.push((index, kind)),
        }
    }

    /// Ends the stream (at `message_stop`, or when the connection closes
    /// cleanly): emits the usage and the finish. Without a stop reason this
    /// is a protocol error. Calling it again does nothing.
    pub fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let Some(reason) = self.finish.take() else {
            return Err(Error::protocol(
                "the stream ended before the answer finished (no message_stop)",
            ));
        };
        self.ensure_started(out);
        if let Some(u) = self.usage.take() {
            out.push(ChatEvent::Usage(u.to_core()));
        }
        out.push(ChatEvent::Finish { reason });
        Ok(())
    }
}

/// A `content_block_delta` event read as a flat struct (see [`AnthropicStreamDecoder::push_data`]).
#[derive(Deserialize)]
struct FastDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    index: u32,
    #[serde(borrow)]
    delta: FastDeltaBody<'a>,
}

/// The delta of a [`FastDelta`]: the one field its `type` names.
#[derive(Deserialize)]
struct FastDeltaBody<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    signature: Option<Cow<'a, str>>,
}

impl<'a> FastDeltaBody<'a> {
    /// The delta, when its type is one of the four the decoder turns into
    /// events and it carries its field; anything else takes the general path.
    fn into_block_delta(self) -> Option<BlockDelta<'a>> {
        Some(match &*self.kind {
            "text_delta" => BlockDelta::TextDelta { text: self.text? },
            "input_json_delta" => BlockDelta::InputJsonDelta {
                partial_json: self.partial_json?,
            },
            "thinking_delta" => BlockDelta::ThinkingDelta {
                thinking: self.thinking?,
            },
            "signature_delta" => BlockDelta::SignatureDelta {
                signature: self.signature?,
            },
            _ => return None,
        })
    }
}

/// The [`Stream`] of [`ChatEvent`]s decoded from an Anthropic SSE byte stream;
/// see [`chat_event_stream`].
pub type AnthropicEventStream<S> = DecodedEventStream<S, AnthropicStreamDecoder>;

impl EventDecoder for AnthropicStreamDecoder {
    fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        AnthropicStreamDecoder::push_event(self, event, out)
    }
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        AnthropicStreamDecoder::finish(self, out)
    }
    fn is_done(&self) -> bool {
        AnthropicStreamDecoder::is_done(self)
    }
}

/// Decodes an Anthropic Messages SSE body into a [`ChatStream`].
///
/// Transport errors (`E: Into<Error>`, e.g. `reqwest::Error`), malformed
/// events, `error` events, a connection closed mid-event and a stream
/// without a stop reason all end the stream with an `Err`.
pub fn chat_event_stream<S, B, E>(bytes: S) -> ChatStream
where
    S: Stream<Item = Result<B, E>> + Send + 'static,
    B: AsRef<[u8]> + 'static,
    E: Into<Error> + 'static,
{
    Box::pin(AnthropicEventStream::new(bytes))
}

/// Decodes a whole SSE body held in memory (tests, recorded fixtures).
pub fn decode_chat_events(body: &[u8]) -> Result<Vec<ChatEvent>, Error> {
    sse::decode_body(body, AnthropicStreamDecoder::new())
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// The message id used when no [`ChatEvent::Start`] and no
/// [`with_id`](AnthropicStreamEncoder::with_id) gave one.
pub const FALLBACK_MESSAGE_ID: &str = "msg_switchboard";

/// The block the encoder has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenBlock {
    Text,
    /// A thinking block; `signed` once its signature was sent.
    Thinking {
        signed: bool,
    },
    /// A `redacted_thinking` block (whole in its start).
    Redacted,
    Tool(u32),
}

/// Turns [`ChatEvent`]s into Anthropic stream events (`event: <type>\ndata:
/// <json>\n\n`), in the sequence the API sends and its SDKs expect:
///
/// - `message_start` first (at [`ChatEvent::Start`], or before the first
///   other event): a message with empty `content`, `stop_reason: null` and
///   the usage known so far (usually none yet: `input_tokens: 0`);
/// - each run of text, reasoning or one tool call's arguments is one content
///   block: `content_block_start` (`{"type": "text", "text": ""}`,
///   `{"type": "thinking", "thinking": "", "signature": ""}` or
///   `{"type": "tool_use", "id", "name", "input": {}}`), its deltas
///   (`text_delta`, `thinking_delta` then `signature_delta`,
///   `input_json_delta`), and `content_block_stop` before the next block
///   starts. Block indices count from 0 in order. Refusal text is sent as
///   text (Anthropic signals refusals with `stop_reason: refusal`);
///   arguments for a tool call whose block was already closed (interleaved
///   calls) are sent as `input_json_delta` on that call's own index, which
///   the SDKs accumulate by index;
/// - [`ChatEvent::RedactedReasoning`] is a whole block: `content_block_start`
///   with `{"type": "redacted_thinking", "data"}`, then `content_block_stop`;
/// - a signature or redacted data whose origin is another family's is written
///   tagged, `sb1:<origin>:<signature>` (see [`tag_signature`](super::tag_signature));
///   one whose origin name cannot be written is withheld (an empty
///   `signature_delta`, no `redacted_thinking` block);
/// - [`ChatEvent::Finish`] closes the open block; [`finish`](Self::finish)
///   then sends `message_delta` (the stop reason, see
///   [`stop_reason_to_wire`](super::stop_reason_to_wire), and the usage:
///   the last [`ChatEvent::Usage`] seen, even one after `Finish`, with
///   `input_tokens` excluding cached tokens as the API counts them) and
///   `message_stop`.
///
/// An answer that fails part-way ends with [`error_frame`](Self::error_frame)
/// (`event: error`) instead.
#[derive(Debug, Clone)]
pub struct AnthropicStreamEncoder {
    id: String,
    model: String,
    id_fixed: bool,
    model_fixed: bool,
    started: bool,
    open: Option<(u32, OpenBlock)>,
    next_block: u32,
    /// Tool-call index → its block index.
    tool_blocks: Vec<(u32, u32)>,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    done: bool,
}

impl Default for AnthropicStreamEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AnthropicStreamEncoder {
    /// An encoder at the start of an answer.
    pub fn new() -> Self {
        AnthropicStreamEncoder {
            id: String::new(),
            model: String::new(),
            id_fixed: false,
            model_fixed: false,
            started: false,
            open: None,
            next_block: 0,
            tool_blocks: Vec::new(),
            usage: None,
            finish: None,
            done: false,
        }
    }

    /// Uses this message id instead of the one in [`ChatEvent::Start`].
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self.id_fixed = true;
        self
    }

    /// Uses this model name (e.g. the alias the client asked for) instead of
    /// the one in [`ChatEvent::Start`].
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self.model_fixed = true;
        self
    }

    /// Whether a [`ChatEvent::Finish`] was encoded.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    fn emit(buf: &mut BytesMut, event: &StreamEvent<'_>) -> Result<(), Error> {
        sse::encode_json_into(buf, Some(event.name()), event)
    }

    fn start(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.id.is_empty() {
            FALLBACK_MESSAGE_ID.clone_into(&mut self.id);
        }
        let usage = match &self.usage {
            Some(u) => super::usage_to_wire(u),
            None => MessageUsage::default(),
        };
        let message = MessagesResponse {
            id: Cow::Borrowed(&self.id),
            model: Cow::Borrowed(&self.model),
            usage,
            ..Default::default()
        };
        Self::emit(buf, &StreamEvent::MessageStart { message })
    }

    fn close(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        if let Some((index, _)) = self.open.take() {
            Self::emit(buf, &StreamEvent::ContentBlockStop { index })?;
        }
        Ok(())
    }

    fn open(
        &mut self,
        buf: &mut BytesMut,
        kind: OpenBlock,
        block: ContentBlock<'_>,
    ) -> Result<u32, Error> {
        self.close(buf)?;
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some((index, kind));
        Self::emit(
            buf,
            &StreamEvent::ContentBlockStart {
                index,
                content_block: block,
            },
        )?;
        Ok(index)
    }

    fn delta(buf: &mut BytesMut, index: u32, delta: BlockDelta<'_>) -> Result<(), Error> {
        Self::emit(buf, &StreamEvent::ContentBlockDelta { index, delta })
    }

    fn text_block(&mut self, buf: &mut BytesMut) -> Result<u32, Error> {
        match self.open {
            Some((index, OpenBlock::Text)) => Ok(index),
            _ => self.open(buf, OpenBlock::Text, ContentBlock::text("")),
        }
    }

    fn thinking_block(&mut self, buf: &mut BytesMut) -> Result<u32, Error> {
        match self.open {
            Some((index, OpenBlock::Thinking { signed: false })) => Ok(index),
            _ => self.open(
                buf,
                OpenBlock::Thinking { signed: false },
                ContentBlock::Thinking {
                    thinking: Cow::Borrowed(""),
                    signature: Cow::Borrowed(""),
                    extra: Map::new(),
                },
            ),
        }
    }

    fn tool_block(
        &mut self,
        buf: &mut BytesMut,
        call: u32,
        id: &str,
        name: &str,
    ) -> Result<u32, Error> {
        let index = self.open(
            buf,
            OpenBlock::Tool(call),
            ContentBlock::ToolUse {
                id: Cow::Borrowed(id),
                name: Cow::Borrowed(name),
                input: Cow::Owned(Value::Object(Map::new())),
                extra: Map::new(),
            },
        )?;
        self.tool_blocks.push((call, index));
        Ok(index)
    }

    /// Encodes one event; the result may hold zero or more frames.
    pub fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        self.encode_into(event, &mut buf)?;
        Ok(buf.freeze())
    }

    /// Like [`encode`](Self::encode), appending to `buf`.
    pub fn encode_into(&mut self, event: &ChatEvent, buf: &mut BytesMut) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if let ChatEvent::Usage(u) = event {
            self.usage = Some(*u);
            return Ok(());
        }
        if self.finish.is_some() {
            // Nothing but usage may follow the finish.
            return Ok(());
        }
        if let ChatEvent::Start { id, model } = event {
            if !self.started {
                if !self.id_fixed {
                    self.id.clone_from(id);
                }
                if !self.model_fixed {
                    self.model.clone_from(model);
                }
            }
            return self.start(buf);
        }
        self.start(buf)?;
        match event {
            ChatEvent::TextDelta { text } | ChatEvent::RefusalDelta { text } => {
                if text.is_empty() {
                    return Ok(());
                }
                let index = self.text_block(buf)?;
                Self::delta(
                    buf,
                    index,
                    BlockDelta::TextDelta {
                        text: Cow::Borrowed(text),
                    },
                )
            }
            ChatEvent::ReasoningDelta { text } => {
                if text.is_empty() {
                    return Ok(());
                }
                let index = self.thinking_block(buf)?;
                Self::delta(
                    buf,
                    index,
                    BlockDelta::ThinkingDelta {
                        thinking: Cow::Borrowed(text),
                    },
                )
            }
            ChatEvent::ReasoningSignature { signature, origin } => {
                let index = self.thinking_block(buf)?;
                self.open = Some((index, OpenBlock::Thinking { signed: true }));
                // An origin that cannot be written withholds the signature.
                let signature = tag_signature(signature, origin.as_deref()).unwrap_or_default();
                Self::delta(buf, index, BlockDelta::SignatureDelta { signature })
            }
            ChatEvent::RedactedReasoning { data, origin } => {
                let Some(data) = tag_signature(data, origin.as_deref()) else {
                    return Ok(());
                };
                self.open(
                    buf,
                    OpenBlock::Redacted,
                    ContentBlock::RedactedThinking {
                        data,
                        extra: Map::new(),
                    },
                )?;
                self.close(buf)
            }
            ChatEvent::ToolCallStart { index, id, name } => {
                self.tool_block(buf, *index, id, name).map(|_| ())
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                if arguments.is_empty() {
                    return Ok(());
                }
                let block = match self.tool_blocks.iter().rev().find(|(c, _)| c == index) {
                    Some((_, block)) => *block,
                    // Arguments without a start: open a block without id and name.
                    None => self.tool_block(buf, *index, "", "")?,
                };
                Self::delta(
                    buf,
                    block,
                    BlockDelta::InputJsonDelta {
                        partial_json: Cow::Borrowed(arguments),
                    },
                )
            }
            ChatEvent::Finish { reason } => {
                self.finish = Some(reason.clone());
                self.close(buf)
            }
            ChatEvent::Start { .. } | ChatEvent::Usage(_) => Ok(()),
        }
    }

    /// Ends the answer: `message_delta` with the stop reason and usage, then
    /// `message_stop`. Without a [`ChatEvent::Finish`] the stop reason is
    /// `end_turn`. Calling it again gives nothing.
    pub fn finish(&mut self) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        if self.done {
            return Ok(buf.freeze());
        }
        self.start(&mut buf)?;
        self.close(&mut buf)?;
        self.done = true;
        let reason = self.finish.clone().unwrap_or_default();
        let usage = delta_usage_to_wire(&self.usage.unwrap_or_default());
        let delta = StreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: Some(Cow::Borrowed(stop_reason_to_wire(&reason, false))),
                stop_sequence: None,
                extra: Map::new(),
            },
            usage: Some(usage),
        };
        Self::emit(&mut buf, &delta)?;
        Self::emit(&mut buf, &StreamEvent::MessageStop)?;
        Ok(buf.freeze())
    }

    /// The frame that reports an error inside a stream (`event: error`, as
    /// the API sends e.g. `overloaded_error`), which the SDKs raise as an
    /// API error. Send it instead of [`finish`](Self::finish) when the answer
    /// fails part-way; nothing is encoded after it.
    pub fn error_frame(&mut self, err: &Error) -> Bytes {
        self.done = true;
        let (_, body) = error_to_wire(err);
        sse::encode_json(Some("error"), &body).unwrap_or_else(|_| {
            Bytes::from_static(
                b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"internal error\"}}\n\n",
            )
        })
    }

    /// A `ping` frame, for keeping an idle connection alive (the API sends
    /// them too; clients ignore them).
    pub fn ping_frame() -> Bytes {
        Bytes::from_static(b"event: ping\ndata: {\"type\":\"ping\"}\n\n")
    }
}

/// Encodes a [`ChatStream`] as an Anthropic SSE body: `message_start`,
/// content blocks, then `message_delta` and `message_stop`; or an `error`
/// event if the stream fails or ends without a [`ChatEvent::Finish`] (after
/// which the body ends).
pub fn encode_chat_stream(
    events: ChatStream,
    encoder: AnthropicStreamEncoder,
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
