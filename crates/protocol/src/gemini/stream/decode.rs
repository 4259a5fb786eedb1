//! `streamGenerateContent?alt=sse` events → [`ChatEvent`]s.

use crate::sse::{EventDecoder, SseEvent};
use switchboard_core::{ChatEvent, Error, FinishReason, Usage};

use crate::gemini as convert;
use crate::gemini::types::GenerateContentResponse;

/// Turns the events of a Gemini stream into [`ChatEvent`]s.
///
/// Every SSE event is a whole `GenerateContentResponse` holding the next
/// piece of the answer:
///
/// - the first event gives [`ChatEvent::Start`] (`responseId`, `modelVersion`);
/// - thought parts → [`ChatEvent::ReasoningDelta`] (and their signature →
///   [`ChatEvent::ReasoningSignature`]); text parts → [`ChatEvent::TextDelta`];
///   a signature on a text or function-call part is sent as a signature
///   carrier (an empty `ReasoningDelta` and its `ReasoningSignature`, after
///   closing an unsigned reasoning block with an empty signature) so that a
///   [`ResponseAccumulator`](switchboard_core::ResponseAccumulator) rebuilds
///   the same content as a non-streamed answer (see [`crate::gemini`]);
///   every signature event has origin [`ORIGIN`](crate::gemini::ORIGIN) (`"gemini"`);
/// - a function call arrives whole in one event → [`ChatEvent::ToolCallStart`]
///   (its id, or `call_<responseId>_<n>`) and one [`ChatEvent::ToolCallDelta`]
///   with the complete arguments;
/// - `usageMetadata` is cumulative and repeated: the last one is kept;
///   `finishReason` may also be repeated (older models put `STOP` on every
///   event): the last one is kept. Both are emitted, usage first, when the
///   stream ends — Gemini sends no end marker, the connection just closes;
/// - `promptFeedback.blockReason` (a blocked prompt: no candidates) ends the
///   answer with finish reason `content_filter`;
/// - an `{"error": ...}` event is an `Err`, and the decoder is done;
/// - a stream that ends without a `finishReason` or block reason is a
///   protocol error: a cut-off answer must not look complete.
#[derive(Debug)]
pub struct GeminiStreamDecoder {
    request_model: String,
    id: Option<String>,
    started: bool,
    tool_calls: usize,
    /// A reasoning block is open and has no signature yet.
    reasoning_open: bool,
    finish: Option<String>,
    blocked: bool,
    usage: Option<Usage>,
    done: bool,
}

impl GeminiStreamDecoder {
    /// A decoder for a stream answering a request for `request_model`.
    pub fn new(request_model: &str) -> Self {
        GeminiStreamDecoder {
            request_model: request_model.to_owned(),
            id: None,
            started: false,
            tool_calls: 0,
            reasoning_open: false,
            finish: None,
            blocked: false,
            usage: None,
            done: false,
        }
    }

    pub(crate) fn push_chunk(
        &mut self,
        mut chunk: GenerateContentResponse,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if let Some(error) = chunk.error.take().filter(|e| !e.is_null()) {
            self.done = true;
            return Err(crate::gemini::error::error_from_value(&error));
        }
        if !self.started {
            self.started = true;
            let id = chunk
                .response_id
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(convert::new_id);
            self.id = Some(id.clone());
            out.push(ChatEvent::Start {
                id,
                model: chunk
                    .model_version
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| self.request_model.clone()),
                created: None,
            });
        }
        if let Some(u) = &chunk.usage_metadata {
            self.usage = Some(convert::usage_from_wire(u));
        }
        if chunk
            .prompt_feedback
            .as_ref()
            .is_some_and(|f| f.block_reason.as_deref().is_some_and(|r| !r.is_empty()))
        {
            self.blocked = true;
        }
        let Some(candidate) = convert::first_candidate(std::mem::take(&mut chunk.candidates))
        else {
            return Ok(());
        };
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            let signature = part.thought_signature.filter(|s| !s.is_empty());
            if part.thought {
                if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                    out.push(ChatEvent::ReasoningDelta { text });
                    self.reasoning_open = true;
                }
                if let Some(signature) = signature {
                    if !self.reasoning_open {
                        out.push(ChatEvent::ReasoningDelta {
                            text: String::new(),
                        });
                    }
                    out.push(ChatEvent::ReasoningSignature {
                        signature,
                        origin: Some(convert::ORIGIN.to_owned()),
                    });
                    self.reasoning_open = false;
                }
                continue;
            }
            if let Some(signature) = signature {
                self.carrier(signature, out);
            }
            if let Some(call) = part.function_call {
                let n = self.tool_calls;
                self.tool_calls += 1;
                let index = u32::try_from(n).unwrap_or(u32::MAX);
                let id = call
                    .id
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| {
                        convert::tool_call_id(self.id.as_deref().unwrap_or_default(), n)
                    });
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id,
                    name: call.name.clone(),
                });
                out.push(ChatEvent::ToolCallDelta {
                    index,
                    arguments: call.arguments_text(),
                });
            } else if let Some(text) = part.text.filter(|t| !t.is_empty()) {
                out.push(ChatEvent::TextDelta { text });
                self.reasoning_open = false;
            }
        }
        if let Some(reason) = candidate.finish_reason.filter(|r| !r.is_empty()) {
            self.finish = Some(reason);
        }
        Ok(())
    }

    /// A signature that belongs to a non-thought part.
    fn carrier(&mut self, signature: String, out: &mut Vec<ChatEvent>) {
        if self.reasoning_open {
            // Close the open reasoning block so the carrier starts a new one.
            out.push(ChatEvent::ReasoningSignature {
                signature: String::new(),
                origin: Some(convert::ORIGIN.to_owned()),
            });
        }
        out.push(ChatEvent::ReasoningDelta {
            text: String::new(),
        });
        out.push(ChatEvent::ReasoningSignature {
            signature,
            origin: Some(convert::ORIGIN.to_owned()),
        });
        self.reasoning_open = false;
    }
}

impl EventDecoder for GeminiStreamDecoder {
    /// Handles one SSE event.
    fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done || event.data.trim().is_empty() {
            return Ok(());
        }
        let chunk: GenerateContentResponse = serde_json::from_str(&event.data).map_err(|e| {
            self.done = true;
            Error::protocol(format!("invalid event in Gemini's stream: {e}")).with_source(e)
        })?;
        self.push_chunk(chunk, out)
    }

    /// The stream ended: emits usage and finish, or fails if the answer is incomplete.
    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let reason = match (&self.finish, self.blocked) {
            (Some(r), _) => convert::finish_reason(r, self.tool_calls > 0),
            (None, true) => FinishReason::ContentFilter,
            (None, false) => {
                return Err(Error::protocol(
                    "Gemini's stream ended before the answer finished (no finishReason)",
                ));
            }
        };
        if !self.started {
            out.push(ChatEvent::Start {
                id: convert::new_id(),
                model: self.request_model.clone(),
                created: None,
            });
        }
        if let Some(u) = self.usage.take() {
            out.push(ChatEvent::Usage(u));
        }
        out.push(ChatEvent::Finish { reason });
        Ok(())
    }

    /// Set after the end (or an error): Gemini sends no end marker, so the
    /// answer is complete only when the stream closed.
    fn is_done(&self) -> bool {
        self.done
    }
}

/// Decodes a whole SSE body held in memory (tests, recordings).
#[cfg(test)]
fn decode_all(body: &[u8], split: usize, model: &str) -> Result<Vec<ChatEvent>, Error> {
    let mut sse = crate::sse::SseDecoder::new();
    let mut decoder = GeminiStreamDecoder::new(model);
    let mut out = Vec::new();
    for piece in body.chunks(split.max(1)) {
        for event in sse.feed(piece) {
            decoder.push_event(&event?, &mut out)?;
        }
    }
    for event in sse.finish() {
        decoder.push_event(&event?, &mut out)?;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gemini::ORIGIN;
    use serde_json::json;
    use switchboard_core::{ContentPart, ErrorKind, ResponseAccumulator};

    fn frame(events: &[serde_json::Value]) -> Vec<u8> {
        let mut out = Vec::new();
        for e in events {
            out.extend_from_slice(format!("data: {e}\r\n\r\n").as_bytes());
        }
        out
    }

    #[test]
    fn text_usage_and_finish() {
        let body = frame(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}, "index": 0}],
                   "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4},
                   "modelVersion": "gemini-2.5-flash", "responseId": "r1"}),
            json!({"candidates": [{"content": {"parts": [{"text": "lo"}], "role": "model"}, "finishReason": "STOP", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "thoughtsTokenCount": 5, "totalTokenCount": 10},
                   "modelVersion": "gemini-2.5-flash", "responseId": "r1"}),
        ]);
        for split in [1, 7, 1000] {
            let events = decode_all(&body, split, "m").expect("ok");
            assert_eq!(
                events,
                vec![
                    ChatEvent::Start {
                        id: "r1".into(),
                        model: "gemini-2.5-flash".into(),
                        created: None,
                    },
                    ChatEvent::TextDelta { text: "Hel".into() },
                    ChatEvent::TextDelta { text: "lo".into() },
                    ChatEvent::Usage(Usage {
                        input_tokens: 3,
                        output_tokens: 7,
                        reasoning_tokens: 5,
                        total_tokens: 10,
                        ..Usage::default()
                    }),
                    ChatEvent::Finish {
                        reason: FinishReason::Stop
                    },
                ]
            );
        }
    }

    #[test]
    fn no_finish_reason_is_a_protocol_error() {
        let body = frame(&[json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]})]);
        assert_eq!(
            decode_all(&body, 5, "m").expect_err("cut").kind(),
            &ErrorKind::Protocol
        );
        let cut = &body[..body.len() - 6];
        assert_eq!(
            decode_all(cut, 5, "m").expect_err("mid-event").kind(),
            &ErrorKind::Protocol
        );
    }

    #[test]
    fn error_events_end_the_stream() {
        let body = frame(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Hel"}]}}]}),
            json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}),
        ]);
        let err = decode_all(&body, 9, "m").expect_err("error event");
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
        assert_eq!(err.message(), "The model is overloaded.");
    }

    #[test]
    fn streamed_signatures_rebuild_the_same_content() {
        let body = frame(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Think", "thought": true}]}}], "responseId": "r"}),
            json!({"candidates": [{"content": {"parts": [{"text": "ing.", "thought": true}]}}]}),
            json!({"candidates": [{"content": {"parts": [
                {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "SIG"},
                {"functionCall": {"name": "g", "args": {}}}
            ]}, "finishReason": "STOP"}]}),
        ]);
        let events = decode_all(&body, 13, "m").expect("ok");
        let mut acc = ResponseAccumulator::new();
        for e in &events {
            acc.push(e);
        }
        let resp = acc.finish();
        assert_eq!(
            resp.content,
            vec![
                ContentPart::Reasoning {
                    text: "Thinking.".into(),
                    signature: Some(String::new()),
                    redacted: None,
                    origin: Some(ORIGIN.into()),
                },
                ContentPart::Reasoning {
                    text: String::new(),
                    signature: Some("SIG".into()),
                    redacted: None,
                    origin: Some(ORIGIN.into()),
                },
            ]
        );
        assert_eq!(resp.tool_calls[0].id, "call_r_0");
        assert_eq!(resp.tool_calls[1].arguments, "{}");
        assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // A fixed xorshift sequence: reproducible, no dependency.
        let mut state: u64 = 11;
        let mut below = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap_or(0)
        };
        let alphabet: &[u8] = b"data: {}[]\":,\n\r tfnul0123456789.-candidatescontentpartstextthoughtfunctionCallargsnamefinishReasonSTOPerrorcodeusageMetadata\xff";
        for _ in 0..2000 {
            let len = below(240);
            let body: Vec<u8> = (0..len).map(|_| alphabet[below(alphabet.len())]).collect();
            let _ = decode_all(&body, 1 + below(16), "m");
        }
        for event in [
            json!({"candidates": "x"}),
            json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": 5, "args": [1]}}]}, "finishReason": 3}]}),
            json!({"candidates": [{"content": {"parts": [{"text": null, "thought": "yes", "thoughtSignature": 1}]}}]}),
            json!({"usageMetadata": {"promptTokenCount": "12", "totalTokenCount": -1, "thoughtsTokenCount": 1e40}}),
            json!({"error": "plain"}),
            json!({"error": {"code": 99999, "details": "x"}}),
            json!([1, 2]),
            json!(null),
        ] {
            let _ = decode_all(&frame(&[event]), 5, "m");
        }
    }

    #[test]
    fn a_blocked_prompt_ends_with_content_filter() {
        let body = include_bytes!("../../../tests/data/gemini/stream_raw_crlf_prompt_blocked.sse");
        let events = decode_all(body, 17, "gemini-pro").expect("ok");
        assert!(matches!(events[0], ChatEvent::Start { .. }));
        assert_eq!(
            events.last(),
            Some(&ChatEvent::Finish {
                reason: FinishReason::ContentFilter
            })
        );
    }

    #[test]
    fn repeated_finish_reasons_do_not_end_early() {
        // Every event of this old recording says STOP; all the text must arrive.
        let body =
            include_bytes!("../../../tests/data/gemini/stream_raw_crlf_basic_reply_long.sse");
        let events = decode_all(body, 64, "gemini-pro").expect("ok");
        let texts = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::TextDelta { .. }))
            .count();
        assert_eq!(texts, 6);
        assert_eq!(
            events.last(),
            Some(&ChatEvent::Finish {
                reason: FinishReason::Stop
            })
        );
        assert!(
            !events.iter().any(|e| matches!(e, ChatEvent::Usage(_))),
            "this recording has no usage"
        );
    }
}
