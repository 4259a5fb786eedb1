//! Chat v2 stream events → [`ChatEvent`]s.

use serde_json::{Value, json};
use switchboard_core::{ChatEvent, Error};
use switchboard_protocol::sse::{EventDecoder, SseEvent};

use crate::convert::{BILLED_UNITS, CITATIONS, finish_reason, usage};
use crate::wire::WireUsage;

/// Turns the SSE events of a `POST /v2/chat` stream into [`ChatEvent`]s,
/// dispatching on the JSON's `type` (SPEC `StreamedChatResponseV2`):
///
/// - `message-start` → [`ChatEvent::Start`] (its `id`, the requested model);
/// - `content-start` / `content-delta` → [`ChatEvent::TextDelta`] for
///   `content.text`, [`ChatEvent::ReasoningDelta`] for `content.thinking`;
/// - `tool-plan-delta` → [`ChatEvent::ReasoningDelta`] (`tool_plan`);
/// - `tool-call-start` → [`ChatEvent::ToolCallStart`] at the event's `index`
///   (and a [`ChatEvent::ToolCallDelta`] if it carries arguments already);
///   `tool-call-delta` → [`ChatEvent::ToolCallDelta`]; `delta.message.tool_calls`
///   is one object here, not an array;
/// - `citation-start` carries one citation (`delta.message.citations`, an
///   object here, not the array of a whole answer); they are collected in
///   order, and `citation-end` (only an `index`) adds nothing;
/// - `message-end` → [`ChatEvent::Extra`] `citations` (the collected
///   array, when there is any) and `billed_units` (`delta.usage.billed_units`,
///   when sent), so a collected stream has the `extra` of a whole answer
///   (see [`crate::convert::response`]); then [`ChatEvent::Usage`] and
///   [`ChatEvent::Finish`]; with `delta.error` set, an upstream error
///   instead; the decoder is then done;
/// - `content-end`, `tool-call-end`, `debug` and unknown types yield nothing
///   (the official SDK skips what it does not know);
/// - `data: [DONE]` ends the stream; a stream that ends without
///   `message-end` is a protocol error (a cut-off answer must not look whole).
#[derive(Debug)]
pub struct StreamDecoder {
    model: String,
    done: bool,
    citations: Vec<Value>,
}

impl StreamDecoder {
    /// A decoder for an answer from `model`.
    pub fn new(model: &str) -> Self {
        StreamDecoder {
            model: model.to_owned(),
            done: false,
            citations: Vec::new(),
        }
    }

    /// The citations of the `citation-start` events seen so far, in order.
    pub fn citations(&self) -> &[Value] {
        &self.citations
    }

    /// Decodes one event's JSON.
    pub fn push_json(&mut self, event: &Value, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let kind = event.get("type").and_then(Value::as_str).unwrap_or("");
        let delta = event.get("delta");
        let message = delta.and_then(|d| d.get("message"));
        let index = || {
            event
                .get("index")
                .and_then(Value::as_u64)
                .and_then(|i| u32::try_from(i).ok())
                .unwrap_or(0)
        };
        let str_at = |v: Option<&Value>, key: &str| {
            v.and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match kind {
            "message-start" => out.push(ChatEvent::Start {
                id: str_at(Some(event), "id").unwrap_or_default(),
                model: self.model.clone(),
                created: None,
            }),
            "content-start" | "content-delta" => {
                let content = message.and_then(|m| m.get("content"));
                if let Some(text) = str_at(content, "thinking").filter(|t| !t.is_empty()) {
                    out.push(ChatEvent::ReasoningDelta { text });
                }
                if let Some(text) = str_at(content, "text").filter(|t| !t.is_empty()) {
                    out.push(ChatEvent::TextDelta { text });
                }
            }
            "tool-plan-delta" => {
                if let Some(text) = str_at(message, "tool_plan").filter(|t| !t.is_empty()) {
                    out.push(ChatEvent::ReasoningDelta { text });
                }
            }
            "tool-call-start" => {
                let call = message.and_then(|m| m.get("tool_calls"));
                let function = call.and_then(|c| c.get("function"));
                let index = index();
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id: str_at(call, "id").unwrap_or_default(),
                    name: str_at(function, "name").unwrap_or_default(),
                });
                if let Some(arguments) = str_at(function, "arguments").filter(|a| !a.is_empty()) {
                    out.push(ChatEvent::ToolCallDelta { index, arguments });
                }
            }
            "tool-call-delta" => {
                let function = message
                    .and_then(|m| m.get("tool_calls"))
                    .and_then(|c| c.get("function"));
                if let Some(arguments) = str_at(function, "arguments").filter(|a| !a.is_empty()) {
                    out.push(ChatEvent::ToolCallDelta {
                        index: index(),
                        arguments,
                    });
                }
            }
            "citation-start" => {
                let citation = message.and_then(|m| m.get("citations"));
                match citation {
                    // One citation per event; an array (not documented) is taken whole.
                    Some(Value::Array(many)) => self.citations.extend(many.iter().cloned()),
                    Some(one @ Value::Object(_)) => self.citations.push(one.clone()),
                    _ => {}
                }
            }
            "message-end" => {
                self.done = true;
                if let Some(error) = str_at(delta, "error").filter(|e| !e.is_empty()) {
                    return Err(Error::upstream(
                        500,
                        format!("Cohere ended the stream with an error: {error}"),
                    ));
                }
                let wire_usage: WireUsage = delta
                    .and_then(|d| d.get("usage"))
                    .and_then(|u| serde_json::from_value(u.clone()).ok())
                    .unwrap_or_default();
                if !self.citations.is_empty() {
                    out.push(ChatEvent::Extra {
                        key: CITATIONS.into(),
                        value: Value::Array(std::mem::take(&mut self.citations)),
                    });
                }
                if let Some(billed) = wire_usage.billed_units {
                    out.push(ChatEvent::Extra {
                        key: BILLED_UNITS.into(),
                        value: json!(billed),
                    });
                }
                out.push(ChatEvent::Usage(usage(&wire_usage)));
                let reason = str_at(delta, "finish_reason").unwrap_or_else(|| "COMPLETE".into());
                out.push(ChatEvent::Finish {
                    reason: finish_reason(&reason),
                });
            }
            _ => {}
        }
        Ok(())
    }
}

impl EventDecoder for StreamDecoder {
    fn push_event(&mut self, event: &SseEvent, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if event.is_done() {
            return Err(Error::protocol(
                "Cohere's stream ended (`[DONE]`) before `message-end`",
            ));
        }
        let json: Value = serde_json::from_str(&event.data)
            .map_err(|e| Error::protocol(format!("a Cohere stream event is not JSON: {e}")))?;
        self.push_json(&json, out)
    }

    fn finish(&mut self, _out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            Ok(())
        } else {
            Err(Error::protocol(
                "Cohere's stream ended before `message-end`: the answer is incomplete",
            ))
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
