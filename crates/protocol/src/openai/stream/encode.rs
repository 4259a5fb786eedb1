//! Stream encoding (the gateway's answer): [`ChatEvent`]s → OpenAI
//! `chat.completion.chunk` frames.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde_json::{Map, Value};
use switchboard_core::{ChatEvent, Error, Usage};

use crate::openai::error::error_to_wire;
use crate::openai::response::{extra_keys, usage_to_wire};
use crate::openai::types::{
    ChatCompletionChunk, ChunkChoice, ChunkDelta, FunctionCallChunk, ToolCallChunk,
};
use crate::sse;

/// The id used when no [`ChatEvent::Start`] and no [`with_id`](OpenAiStreamEncoder::with_id) gave one.
pub const FALLBACK_COMPLETION_ID: &str = "chatcmpl-switchboard";

/// Turns [`ChatEvent`]s into `chat.completion.chunk` SSE frames, as OpenAI
/// streams them:
///
/// - every chunk has the same `id`, `created` and `model`; `created` is the
///   upstream's (from [`ChatEvent::Start`]) when it gave one, else the one
///   given to [`new`](Self::new);
/// - each choice carries `index`, `delta` and `finish_reason` (`null` until
///   the last), the fields OpenAI's chunk schema requires; `logprobs`, which
///   the events do not carry, is left out rather than sent as an invented
///   `null`;
/// - the first chunk has `delta: {"role": "assistant", "content": ""}` (sent
///   at [`ChatEvent::Start`], or before the first other event);
/// - text, refusal and reasoning deltas become `content`, `refusal` and
///   `reasoning_content` deltas;
/// - [`ChatEvent::ToolCallStart`] sends `index`, `id`, `type` and
///   `function.name` (with empty `arguments`), later fragments only `index`
///   and `function.arguments`;
/// - [`ChatEvent::Finish`] sends `delta: {}` with the `finish_reason`, and
///   as top-level fields the [`ChatEvent::Extra`] entries seen before it
///   (Cohere's `citations`), where a non-streamed answer has them too;
///   entries named like a chunk field or a
///   [positional extra key](extra_keys::POSITIONAL) are left out;
/// - [`finish`](Self::finish) sends, when `include_usage` was asked for, the
///   usage chunk with `choices: []` (the last [`ChatEvent::Usage`] seen, even
///   one after `Finish`), then `data: [DONE]`. When the stream carried no
///   [`ChatEvent::Usage`] the usage is unknown, and unknown is not zero: the
///   usage chunk is left out, so the client sees no `usage` at all.
///
/// [`ChatEvent::ReasoningSignature`] and [`ChatEvent::RedactedReasoning`]
/// have no OpenAI form and send nothing: signatures and encrypted reasoning
/// never leave through the OpenAI format (reasoning text does).
#[derive(Debug, Clone)]
pub struct OpenAiStreamEncoder {
    id: String,
    model: String,
    created: u64,
    id_fixed: bool,
    model_fixed: bool,
    include_usage: bool,
    started: bool,
    finished: bool,
    done: bool,
    usage: Option<Usage>,
    /// [`ChatEvent::Extra`] entries for the finish chunk's top level.
    extra: Map<String, Value>,
}

impl OpenAiStreamEncoder {
    /// An encoder whose chunks carry `created` (Unix seconds; the gateway's
    /// clock) unless [`ChatEvent::Start`] brings the upstream's;
    /// `include_usage` is the client's `stream_options.include_usage`.
    pub fn new(created: u64, include_usage: bool) -> Self {
        OpenAiStreamEncoder {
            id: String::new(),
            model: String::new(),
            created,
            id_fixed: false,
            model_fixed: false,
            include_usage,
            started: false,
            finished: false,
            done: false,
            usage: None,
            extra: Map::new(),
        }
    }

    /// Uses this completion id instead of the one in [`ChatEvent::Start`].
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

    fn chunk<'s>(
        &'s self,
        delta: ChunkDelta<'s>,
        finish_reason: Option<&'s str>,
    ) -> ChatCompletionChunk<'s> {
        ChatCompletionChunk {
            id: Cow::Borrowed(&self.id),
            object: Cow::Borrowed("chat.completion.chunk"),
            created: self.created,
            model: Cow::Borrowed(&self.model),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish_reason.map(Cow::Borrowed),
                logprobs: None,
            }],
            ..Default::default()
        }
    }

    fn start(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        if self.id.is_empty() {
            FALLBACK_COMPLETION_ID.clone_into(&mut self.id);
        }
        let delta = ChunkDelta {
            role: Some(Cow::Borrowed("assistant")),
            content: Some(Cow::Borrowed("")),
            ..Default::default()
        };
        sse::encode_json_into(buf, None, &self.chunk(delta, None))
    }

    /// Encodes one event; the result may hold zero, one or two frames.
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
        if self.finished {
            // Nothing but usage may follow the finish chunk.
            return Ok(());
        }
        if let ChatEvent::Extra { key, value } = event {
            if !extra_keys::POSITIONAL.contains(&key.as_str()) {
                self.extra.insert(key.clone(), value.clone());
            }
            return Ok(());
        }
        if let ChatEvent::Start { id, model, created } = event {
            if !self.started {
                if let Some(created) = created.filter(|c| *c > 0) {
                    self.created = created;
                }
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
        let delta = match event {
            ChatEvent::TextDelta { text } => ChunkDelta {
                content: Some(Cow::Borrowed(text)),
                ..Default::default()
            },
            ChatEvent::ReasoningDelta { text } => ChunkDelta {
                reasoning_content: Some(Cow::Borrowed(text)),
                ..Default::default()
            },
            ChatEvent::RefusalDelta { text } => ChunkDelta {
                refusal: Some(Cow::Borrowed(text)),
                ..Default::default()
            },
            ChatEvent::ToolCallStart { index, id, name } => ChunkDelta {
                tool_calls: Some(vec![ToolCallChunk {
                    index: Some(*index),
                    id: Some(Cow::Borrowed(id)),
                    kind: Some(Cow::Borrowed("function")),
                    function: Some(FunctionCallChunk {
                        name: Some(Cow::Borrowed(name)),
                        arguments: Some(Cow::Borrowed("")),
                    }),
                }]),
                ..Default::default()
            },
            ChatEvent::ToolCallDelta { index, arguments } => ChunkDelta {
                tool_calls: Some(vec![ToolCallChunk {
                    index: Some(*index),
                    function: Some(FunctionCallChunk {
                        name: None,
                        arguments: Some(Cow::Borrowed(arguments)),
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            },
            ChatEvent::Finish { reason } => {
                self.finished = true;
                let chunk = self.chunk(ChunkDelta::default(), Some(reason.as_str()));
                if self.extra.is_empty() {
                    return sse::encode_json_into(buf, None, &chunk);
                }
                let mut object = serde_json::to_value(&chunk).map_err(|e| {
                    Error::internal(format!("could not encode a chunk as JSON: {e}"))
                })?;
                if let Value::Object(fields) = &mut object {
                    for (key, value) in std::mem::take(&mut self.extra) {
                        fields.entry(key).or_insert(value);
                    }
                }
                return sse::encode_json_into(buf, None, &object);
            }
            ChatEvent::ReasoningSignature { .. }
            | ChatEvent::RedactedReasoning { .. }
            | ChatEvent::Start { .. }
            | ChatEvent::Extra { .. }
            | ChatEvent::Usage(_) => {
                return Ok(());
            }
        };
        sse::encode_json_into(buf, None, &self.chunk(delta, None))
    }

    /// Ends the stream: the usage chunk (when asked for) and `data: [DONE]`.
    /// Calling it again gives nothing.
    pub fn finish(&mut self) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        if self.done {
            return Ok(buf.freeze());
        }
        self.start(&mut buf)?;
        self.done = true;
        // Unknown is not zero: with no usage from upstream, the usage chunk
        // is left out (the client sees no `usage`) rather than 0/0/0.
        if let (true, Some(usage)) = (self.include_usage, self.usage.as_ref()) {
            let chunk = ChatCompletionChunk {
                id: Cow::Borrowed(&self.id),
                object: Cow::Borrowed("chat.completion.chunk"),
                created: self.created,
                model: Cow::Borrowed(&self.model),
                choices: Vec::new(),
                usage: Some(usage_to_wire(usage)),
                ..Default::default()
            };
            sse::encode_json_into(&mut buf, None, &chunk)?;
        }
        buf.extend_from_slice(sse::DONE_FRAME);
        Ok(buf.freeze())
    }

    /// The frame that reports an error inside a stream, `data: {"error": {...}}`
    /// (what OpenAI's and OpenRouter's clients recognise). Send it instead of
    /// [`finish`](Self::finish) when the answer fails part-way.
    pub fn error_frame(&mut self, err: &Error) -> Bytes {
        self.done = true;
        let (_, body) = error_to_wire(err);
        sse::encode_json(None, &body).unwrap_or_else(|_| {
            Bytes::from_static(b"data: {\"error\":{\"message\":\"internal error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n")
        })
    }
}

impl crate::sse::EventEncoder for OpenAiStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        OpenAiStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        OpenAiStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        OpenAiStreamEncoder::error_frame(self, err)
    }
    fn is_finished(&self) -> bool {
        self.finished
    }
}
