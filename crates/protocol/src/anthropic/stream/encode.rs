//! Stream encoding (the gateway's answer): [`ChatEvent`]s → Anthropic
//! stream events.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};
use switchboard_core::{ChatEvent, Error, FinishReason, Usage};

use crate::anthropic::error::error_to_wire;
use crate::anthropic::origin::tag_signature;
use crate::anthropic::response::{delta_usage_to_wire, stop_reason_to_wire};
use crate::anthropic::types::{
    BlockDelta, ContentBlock, MessageDeltaBody, MessageDeltaUsage, MessageUsage, MessagesResponse,
    StreamEvent,
};
use crate::sse;

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
///   tagged, `sb1:<origin>:<signature>` (see [`tag_signature`](crate::anthropic::tag_signature));
///   one whose origin name cannot be written is withheld (an empty
///   `signature_delta`, no `redacted_thinking` block);
/// - [`ChatEvent::Finish`] closes the open block; [`finish`](Self::finish)
///   then sends `message_delta` (the stop reason, see
///   [`stop_reason_to_wire`](crate::anthropic::stop_reason_to_wire), and the usage:
///   the last [`ChatEvent::Usage`] seen, even one after `Finish`, with
///   `input_tokens` excluding cached tokens as the API counts them) and
///   `message_stop`. When the stream carried no [`ChatEvent::Usage`] the
///   usage is unknown: `message_delta` then carries only the required
///   `output_tokens` (0; the SDKs type it as a non-null integer) and none of
///   the optional prompt counts, which the format reads as "unchanged".
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
            Some(u) => crate::anthropic::response::usage_to_wire(u),
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
        if let ChatEvent::Start { id, model, .. } = event {
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
            // Provider data has no Anthropic form.
            ChatEvent::Start { .. } | ChatEvent::Usage(_) | ChatEvent::Extra { .. } => Ok(()),
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
        // Unknown is not zero, but `output_tokens` is the one field the
        // format requires (the SDKs type it as a non-null integer): with no
        // usage from upstream only it is sent, and the prompt counts, which
        // may be absent, are left out.
        let usage = match &self.usage {
            Some(u) => delta_usage_to_wire(u),
            None => MessageDeltaUsage::default(),
        };
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

impl crate::sse::EventEncoder for AnthropicStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        AnthropicStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        AnthropicStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        AnthropicStreamEncoder::error_frame(self, err)
    }
    fn is_finished(&self) -> bool {
        AnthropicStreamEncoder::is_finished(self)
    }
}
