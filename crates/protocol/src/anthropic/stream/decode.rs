//! Stream decoding (providers): an upstream's Anthropic stream events →
//! [`ChatEvent`]s.

use std::borrow::Cow;

use futures::Stream;
use serde::Deserialize;
use switchboard_core::{ChatEvent, ChatStream, Error, FinishReason, Usage};

use crate::anthropic::error::error_from_value;
use crate::anthropic::origin::ORIGIN;
use crate::anthropic::response::finish_reason_from_wire;
use crate::anthropic::types::{BlockDelta, ContentBlock, StreamEvent};
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
/// - Signatures and redacted data get origin [`ORIGIN`](crate::anthropic::ORIGIN)
///   (`"anthropic"`) and are kept exactly as sent.
/// - `message_delta` gives the stop reason and the **cumulative** usage:
///   each count it carries replaces the one from `message_start`.
/// - **Usage before Finish**: at `message_stop`, [`ChatEvent::Usage`] (if
///   any count was seen) then [`ChatEvent::Finish`]. Usage is converted as
///   in [`usage_from_wire`](crate::anthropic::usage_from_wire): the core's
///   `input_tokens` includes cached and cache-written tokens.
/// - `ping` and unknown event types are ignored.
/// - An `error` event is an `Err` (`overloaded_error` → `unavailable`,
///   retryable; see [`error_from_value`](crate::anthropic::error_from_value)), and the
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
                        created: None,
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
                created: None,
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
