//! Stream encoding (the gateway's answer): [`ChatEvent`]s →
//! `streamGenerateContent?alt=sse` chunks.

use bytes::{Bytes, BytesMut};
use switchboard_core::{ChatEvent, Error, FinishReason, ToolCall, Usage};

use super::error::{error_status, error_value};
use super::to_wire::{call_part, finish_reason_to_wire, gemini_signature, usage_to_wire};
use super::types::{OutCandidate, OutContent, OutPart, OutResponse};
use crate::sse;

/// The most bytes of tool-call arguments buffered for one answer (Gemini
/// sends each call whole, so arguments are held until the answer ends).
const MAX_ARGUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Turns [`ChatEvent`]s into Gemini stream chunks: each `data:` line is a
/// `GenerateContentResponse` with one candidate (index 0, role `model`)
/// holding the new parts, plus `modelVersion` and `responseId`:
///
/// - text and refusal deltas → a `text` part; reasoning deltas → a thought
///   part (`thought: true`); a Gemini-compatible reasoning signature → a
///   thought part with empty text and the `thoughtSignature` (another
///   family's signatures and encrypted reasoning are left out);
/// - tool calls are collected (Gemini sends a function call whole, its
///   `args` an object) and sent as `functionCall` parts in the last chunk;
/// - [`finish`](Self::finish) sends the last chunk: the function calls (if
///   any), `finishReason` and `usageMetadata` (the last usage seen).
///
/// A failure part-way ends the stream with [`error_frame`](Self::error_frame):
/// `data: {"error": {"code", "message", "status"}}`.
#[derive(Debug, Clone, Default)]
pub struct GeminiStreamEncoder {
    id: String,
    model: String,
    calls: Vec<(u32, ToolCall)>,
    argument_bytes: usize,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    done: bool,
}

impl GeminiStreamEncoder {
    /// An encoder at the start of an answer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether a [`ChatEvent::Finish`] was encoded.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    fn chunk(&self, parts: Vec<OutPart>) -> OutResponse {
        OutResponse {
            candidates: vec![OutCandidate {
                content: Some(OutContent {
                    parts,
                    role: "model",
                }),
                finish_reason: None,
                index: 0,
            }],
            usage_metadata: None,
            model_version: self.model.clone(),
            response_id: self.id.clone(),
        }
    }

    fn emit(&self, part: OutPart) -> Result<Bytes, Error> {
        sse::encode_json(None, &self.chunk(vec![part]))
    }

    /// Encodes one event; the result holds zero or one chunk.
    pub fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        if self.done {
            return Ok(Bytes::new());
        }
        if let ChatEvent::Usage(u) = event {
            self.usage = Some(*u);
            return Ok(Bytes::new());
        }
        if self.finish.is_some() {
            return Ok(Bytes::new());
        }
        match event {
            ChatEvent::Start { id, model, .. } => {
                self.id.clone_from(id);
                self.model.clone_from(model);
                Ok(Bytes::new())
            }
            ChatEvent::TextDelta { text } | ChatEvent::RefusalDelta { text } => {
                if text.is_empty() {
                    return Ok(Bytes::new());
                }
                self.emit(OutPart {
                    text: Some(text.clone()),
                    ..OutPart::default()
                })
            }
            ChatEvent::ReasoningDelta { text } => {
                if text.is_empty() {
                    return Ok(Bytes::new());
                }
                self.emit(OutPart {
                    text: Some(text.clone()),
                    thought: Some(true),
                    ..OutPart::default()
                })
            }
            ChatEvent::ReasoningSignature { signature, origin } => {
                match gemini_signature(Some(signature), origin.as_deref()) {
                    Some(signature) => self.emit(OutPart {
                        text: Some(String::new()),
                        thought: Some(true),
                        thought_signature: Some(signature),
                        ..OutPart::default()
                    }),
                    None => Ok(Bytes::new()),
                }
            }
            ChatEvent::RedactedReasoning { .. } => Ok(Bytes::new()),
            ChatEvent::ToolCallStart { index, id, name } => {
                self.calls.push((
                    *index,
                    ToolCall {
                        id: id.clone(),
                        name: name.clone(),
                        arguments: String::new(),
                    },
                ));
                Ok(Bytes::new())
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                self.argument_bytes = self.argument_bytes.saturating_add(arguments.len());
                if self.argument_bytes > MAX_ARGUMENT_BYTES {
                    return Err(Error::protocol(
                        "the answer's tool-call arguments are too large to buffer",
                    ));
                }
                match self.calls.iter_mut().rev().find(|(i, _)| i == index) {
                    Some((_, call)) => call.arguments.push_str(arguments),
                    None => self.calls.push((
                        *index,
                        ToolCall {
                            id: String::new(),
                            name: String::new(),
                            arguments: arguments.clone(),
                        },
                    )),
                }
                Ok(Bytes::new())
            }
            ChatEvent::Finish { reason } => {
                self.finish = Some(reason.clone());
                Ok(Bytes::new())
            }
            // Provider data has no Gemini form.
            ChatEvent::Usage(_) | ChatEvent::Extra { .. } => Ok(Bytes::new()),
        }
    }

    /// Ends the answer: the last chunk, with the buffered function calls,
    /// `finishReason` (`STOP` without a [`ChatEvent::Finish`]) and
    /// `usageMetadata` (when usage was reported). Calling it again gives nothing.
    pub fn finish(&mut self) -> Result<Bytes, Error> {
        if self.done {
            return Ok(Bytes::new());
        }
        self.done = true;
        let parts: Vec<OutPart> = self
            .calls
            .iter()
            .map(|(_, call)| call_part(call, None))
            .collect();
        let mut last = self.chunk(parts);
        if let Some(candidate) = last.candidates.first_mut() {
            if candidate
                .content
                .as_ref()
                .is_some_and(|c| c.parts.is_empty())
            {
                candidate.content = None;
            }
            candidate.finish_reason = Some(finish_reason_to_wire(
                &self.finish.clone().unwrap_or_default(),
            ));
        }
        last.usage_metadata = self.usage.as_ref().map(usage_to_wire);
        let mut buf = BytesMut::new();
        sse::encode_json_into(&mut buf, None, &last)?;
        Ok(buf.freeze())
    }

    /// The chunk that reports an error inside a stream (`data: {"error":
    /// {...}}`, as Google sends one); nothing is encoded after it.
    pub fn error_frame(&mut self, err: &Error) -> Bytes {
        self.done = true;
        sse::encode_json(None, &error_value(err, error_status(err))).unwrap_or_else(|_| {
            Bytes::from_static(
                b"data: {\"error\":{\"code\":500,\"message\":\"internal error\",\"status\":\"INTERNAL\"}}\n\n",
            )
        })
    }
}

impl crate::sse::EventEncoder for GeminiStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        GeminiStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        GeminiStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        GeminiStreamEncoder::error_frame(self, err)
    }
    fn is_finished(&self) -> bool {
        GeminiStreamEncoder::is_finished(self)
    }
}
