//! ConverseStream events → [`ChatEvent`]s.
//!
//! Each frame's `:event-type` names a member of the Smithy union
//! `ConverseStreamOutput`, its JSON payload the member's value without a
//! wrapping key:
//!
//! - `messageStart` → [`ChatEvent::Start`] (the upstream request id, and the
//!   requested model: Bedrock does not echo it);
//! - `contentBlockStart{start.toolUse{toolUseId, name}}` →
//!   [`ChatEvent::ToolCallStart`] (text blocks have no start content);
//! - `contentBlockDelta{delta}`: `text` → [`ChatEvent::TextDelta`],
//!   `toolUse.input` (a fragment of JSON text) → [`ChatEvent::ToolCallDelta`],
//!   `reasoningContent.text` / `.signature` / `.redactedContent` →
//!   reasoning events;
//! - `messageStop{stopReason}` → the finish reason, held back until
//!   `metadata{usage}` → [`ChatEvent::Usage`] then [`ChatEvent::Finish`];
//! - exceptions, as `:message-type: exception` frames (`:exception-type`),
//!   `:message-type: error` frames (`:error-code`, `:error-message`) or event
//!   frames named `...Exception` → the stream's error.
//!
//! The input ending before `messageStop` is a protocol error (a cut-off answer).

use aws_smithy_types::event_stream::Message;
use serde_json::Value;
use switchboard_core::{ChatEvent, Error, FinishReason};
use switchboard_protocol::decoded::FrameDecoder;

use crate::error::stream_exception;
use crate::framing::header;
use crate::request::REASONING_ORIGIN;
use crate::response::{WireUsage, finish_reason, usage};

/// Decodes one ConverseStream answer.
#[derive(Debug)]
pub struct ConverseDecoder {
    id: String,
    model: String,
    started: bool,
    /// Content block index → tool call index, for the calls begun so far.
    tool_blocks: Vec<(u64, u32)>,
    finish: Option<FinishReason>,
    usage_seen: bool,
    done: bool,
}

impl ConverseDecoder {
    /// A decoder for an answer with id `id` to a request for `model`.
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        ConverseDecoder {
            id: id.into(),
            model: model.into(),
            started: false,
            tool_blocks: Vec::new(),
            finish: None,
            usage_seen: false,
            done: false,
        }
    }

    fn start(&mut self, out: &mut Vec<ChatEvent>) {
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Start {
                id: self.id.clone(),
                model: self.model.clone(),
                created: None,
            });
        }
    }

    fn event(
        &mut self,
        kind: &str,
        payload: &Value,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        self.start(out);
        match kind {
            "contentBlockStart" => {
                let Some(tool) = payload.pointer("/start/toolUse") else {
                    return Ok(());
                };
                let block = payload["contentBlockIndex"].as_u64().unwrap_or(0);
                let index = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                self.tool_blocks.push((block, index));
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id: text(tool, "toolUseId").to_owned(),
                    name: text(tool, "name").to_owned(),
                });
            }
            "contentBlockDelta" => self.delta(payload, out)?,
            "messageStop" => {
                self.finish = Some(finish_reason(payload["stopReason"].as_str()));
                if self.usage_seen {
                    self.end(out);
                }
            }
            "metadata" => {
                if let Some(u) = payload.get("usage") {
                    let u: WireUsage = serde_json::from_value(u.clone()).map_err(|e| {
                        Error::protocol(format!("invalid usage in the stream: {e}"))
                    })?;
                    out.push(ChatEvent::Usage(usage(&u)));
                    self.usage_seen = true;
                }
                if self.finish.is_some() {
                    self.end(out);
                }
            }
            // messageStart, contentBlockStop, and members added later.
            _ => {}
        }
        Ok(())
    }

    fn delta(&mut self, payload: &Value, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        let Some(delta) = payload.get("delta") else {
            return Ok(());
        };
        if let Some(t) = delta.get("text").and_then(Value::as_str) {
            if !t.is_empty() {
                out.push(ChatEvent::TextDelta { text: t.to_owned() });
            }
        } else if let Some(tool) = delta.get("toolUse") {
            let block = payload["contentBlockIndex"].as_u64().unwrap_or(0);
            let Some(&(_, index)) = self.tool_blocks.iter().find(|(b, _)| *b == block) else {
                return Err(Error::protocol(format!(
                    "a tool input delta for content block {block}, which began no tool call"
                )));
            };
            let arguments = text(tool, "input");
            if !arguments.is_empty() {
                out.push(ChatEvent::ToolCallDelta {
                    index,
                    arguments: arguments.to_owned(),
                });
            }
        } else if let Some(r) = delta.get("reasoningContent") {
            let origin = Some(REASONING_ORIGIN.to_owned());
            if let Some(t) = r.get("text").and_then(Value::as_str) {
                out.push(ChatEvent::ReasoningDelta { text: t.to_owned() });
            } else if let Some(s) = r.get("signature").and_then(Value::as_str) {
                out.push(ChatEvent::ReasoningSignature {
                    signature: s.to_owned(),
                    origin,
                });
            } else if let Some(d) = r.get("redactedContent").and_then(Value::as_str) {
                out.push(ChatEvent::RedactedReasoning {
                    data: d.to_owned(),
                    origin,
                });
            }
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<ChatEvent>) {
        if let Some(reason) = self.finish.take() {
            out.push(ChatEvent::Finish { reason });
        }
        self.done = true;
    }
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl FrameDecoder<Message> for ConverseDecoder {
    fn push_frame(&mut self, frame: &Message, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let fail = |this: &mut Self, err: Error| {
            this.done = true;
            Err(err)
        };
        match header(frame, ":message-type") {
            Some("exception") => {
                let kind = header(frame, ":exception-type").unwrap_or("exception");
                return fail(self, stream_exception(kind, frame.payload()));
            }
            Some("error") => {
                let kind = header(frame, ":error-code").unwrap_or("error");
                let message = header(frame, ":error-message").unwrap_or_default();
                let body = serde_json::json!({ "message": message }).to_string();
                return fail(self, stream_exception(kind, body.as_bytes()));
            }
            _ => {}
        }
        let kind = header(frame, ":event-type").unwrap_or_default();
        if kind.ends_with("Exception") {
            return fail(self, stream_exception(kind, frame.payload()));
        }
        let payload: Value = if frame.payload().is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(frame.payload()) {
                Ok(v) => v,
                Err(e) => {
                    return fail(
                        self,
                        Error::protocol(format!("the `{kind}` event is not JSON: {e}")),
                    );
                }
            }
        };
        let result = self.event(kind, &payload, out);
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if self.finish.is_some() {
            self.end(out);
            return Ok(());
        }
        self.done = true;
        Err(Error::protocol(
            "the stream ended before the answer finished (no `messageStop` event)",
        ))
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
