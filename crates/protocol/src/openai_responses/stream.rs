//! Events → wire: [`ChatEvent`]s as the Responses API's streamed events.

use bytes::{Bytes, BytesMut};
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, Error, FinishReason, Usage};

use super::response::{
    ResponseTemplate, error_code, function_call_item, message_item, output_text, reasoning_item,
};
use crate::sse;

/// Called once with the finished response object (`completed` or `incomplete`).
pub type OnComplete = Box<dyn FnOnce(Value) + Send>;

/// The output item being streamed.
enum Open {
    None,
    Reasoning {
        text: String,
    },
    Message {
        parts: Vec<Value>,
        text: String,
        refusal: bool,
    },
    Call {
        index: u32,
    },
}

/// A streamed function call.
struct Call {
    index: u32,
    output_index: usize,
    call_id: String,
    name: String,
    arguments: String,
}

/// Turns [`ChatEvent`]s into the Responses API's event stream, each event an
/// `event: <type>` / `data: {"type": <type>, "sequence_number": n, ...}` frame,
/// numbered from 0, with no `[DONE]` at the end:
///
/// - `response.created`, `response.in_progress` before anything else;
/// - text: `response.output_item.added` (a `message`),
///   `response.content_part.added` (`output_text`), `response.output_text.delta`…,
///   then `response.output_text.done`, `response.content_part.done`,
///   `response.output_item.done` when the item ends; refusals the same with
///   a `refusal` part and `response.refusal.delta`/`.done`;
/// - reasoning text: a `reasoning` item with one `summary_text` part
///   (`response.reasoning_summary_part.added`,
///   `response.reasoning_summary_text.delta`…, `.done`, `…part.done`);
/// - tool calls: a `function_call` item (`call_id` is the provider's id),
///   `response.function_call_arguments.delta`…, `.done`, `output_item.done`;
/// - the end: `response.completed` (or `response.incomplete` when cut short)
///   with the whole response and its usage;
/// - an error: an `error` event, then `response.failed`.
pub struct ResponsesStreamEncoder {
    template: ResponseTemplate,
    sequence: u64,
    started: bool,
    finished: bool,
    done: bool,
    open: Open,
    output: Vec<Value>,
    calls: Vec<Call>,
    usage: Option<Usage>,
    reason: FinishReason,
    on_complete: Option<OnComplete>,
}

impl std::fmt::Debug for ResponsesStreamEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponsesStreamEncoder")
            .field("id", &self.template.id)
            .field("sequence", &self.sequence)
            .finish_non_exhaustive()
    }
}

impl ResponsesStreamEncoder {
    /// An encoder for the response `template` describes.
    pub fn new(template: ResponseTemplate) -> Self {
        ResponsesStreamEncoder {
            template,
            sequence: 0,
            started: false,
            finished: false,
            done: false,
            open: Open::None,
            output: Vec::new(),
            calls: Vec::new(),
            usage: None,
            reason: FinishReason::Stop,
            on_complete: None,
        }
    }

    /// Calls `f` with the finished response object when the stream completes
    /// (e.g. to store it).
    #[must_use]
    pub fn on_complete(mut self, f: OnComplete) -> Self {
        self.on_complete = Some(f);
        self
    }

    fn emit(&mut self, buf: &mut BytesMut, kind: &str, mut data: Value) -> Result<(), Error> {
        if let Some(o) = data.as_object_mut() {
            let mut ordered = serde_json::Map::with_capacity(o.len() + 2);
            ordered.insert("type".into(), kind.into());
            ordered.insert("sequence_number".into(), self.sequence.into());
            ordered.append(o);
            data = Value::Object(ordered);
        }
        self.sequence += 1;
        sse::encode_json_into(buf, Some(kind), &data)
    }

    fn start(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        let object = self.template.object("in_progress", Vec::new(), None);
        self.emit(buf, "response.created", json!({"response": object.clone()}))?;
        self.emit(buf, "response.in_progress", json!({"response": object}))
    }

    /// The output index and id of the item being streamed (the next slot).
    fn slot(&self, prefix: &str) -> (usize, String) {
        let index = self.output.len();
        (index, self.template.item_id(prefix, index))
    }

    fn close(&mut self, buf: &mut BytesMut) -> Result<(), Error> {
        match std::mem::replace(&mut self.open, Open::None) {
            Open::None => Ok(()),
            Open::Reasoning { text } => {
                let (output_index, id) = self.slot("rs");
                let part = json!({"type": "summary_text", "text": text});
                let at = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
                self.emit(
                    buf,
                    "response.reasoning_summary_text.done",
                    with(&at, "text", text.clone().into()),
                )?;
                self.emit(
                    buf,
                    "response.reasoning_summary_part.done",
                    with(&at, "part", part),
                )?;
                let item = reasoning_item(id, &text);
                self.emit(
                    buf,
                    "response.output_item.done",
                    json!({"output_index": output_index, "item": item.clone()}),
                )?;
                self.output.push(item);
                Ok(())
            }
            Open::Message {
                mut parts,
                text,
                refusal,
            } => {
                let (output_index, id) = self.slot("msg");
                self.close_part(buf, &mut parts, text, refusal, &id, output_index)?;
                let item = message_item(id, parts);
                self.emit(
                    buf,
                    "response.output_item.done",
                    json!({"output_index": output_index, "item": item.clone()}),
                )?;
                self.output.push(item);
                Ok(())
            }
            Open::Call { index } => {
                let Some(call) = self.calls.iter().find(|c| c.index == index) else {
                    return Ok(());
                };
                let id = self.template.item_id("fc", call.output_index);
                let output_index = call.output_index;
                let item = function_call_item(
                    id.clone(),
                    "completed",
                    &call.call_id,
                    &call.name,
                    &call.arguments,
                );
                let done = json!({"item_id": id, "output_index": output_index, "name": call.name, "arguments": call.arguments});
                self.emit(buf, "response.function_call_arguments.done", done)?;
                self.emit(
                    buf,
                    "response.output_item.done",
                    json!({"output_index": output_index, "item": item.clone()}),
                )?;
                self.output.push(item);
                Ok(())
            }
        }
    }

    /// Ends the message's current content part (`text` so far).
    fn close_part(
        &mut self,
        buf: &mut BytesMut,
        parts: &mut Vec<Value>,
        text: String,
        refusal: bool,
        id: &str,
        output_index: usize,
    ) -> Result<(), Error> {
        let at = json!({"item_id": id, "output_index": output_index, "content_index": parts.len()});
        let part = if refusal {
            self.emit(
                buf,
                "response.refusal.done",
                with(&at, "refusal", text.clone().into()),
            )?;
            json!({"type": "refusal", "refusal": text})
        } else {
            let mut done = with(&at, "text", text.clone().into());
            if let Some(o) = done.as_object_mut() {
                o.insert("logprobs".into(), json!([]));
            }
            self.emit(buf, "response.output_text.done", done)?;
            output_text(&text)
        };
        self.emit(
            buf,
            "response.content_part.done",
            with(&at, "part", part.clone()),
        )?;
        parts.push(part);
        Ok(())
    }

    /// Text or refusal text, opening the message (and part) as needed.
    fn message_delta(
        &mut self,
        buf: &mut BytesMut,
        delta: &str,
        is_refusal: bool,
    ) -> Result<(), Error> {
        if !matches!(self.open, Open::Message { .. }) {
            self.close(buf)?;
            let (output_index, id) = self.slot("msg");
            let item = json!({"id": id, "type": "message", "status": "in_progress", "content": [], "role": "assistant"});
            self.emit(
                buf,
                "response.output_item.added",
                json!({"output_index": output_index, "item": item}),
            )?;
            self.open_part(buf, 0, is_refusal)?;
            self.open = Open::Message {
                parts: Vec::new(),
                text: String::new(),
                refusal: is_refusal,
            };
        }
        let (output_index, id) = self.slot("msg");
        if let Open::Message { refusal, .. } = &self.open
            && *refusal != is_refusal
        {
            // Switch parts: close the current one, open the other kind.
            if let Open::Message {
                mut parts,
                text,
                refusal,
            } = std::mem::replace(&mut self.open, Open::None)
            {
                self.close_part(buf, &mut parts, text, refusal, &id, output_index)?;
                self.open_part(buf, parts.len(), is_refusal)?;
                self.open = Open::Message {
                    parts,
                    text: String::new(),
                    refusal: is_refusal,
                };
            }
        }
        let content_index = match &mut self.open {
            Open::Message { parts, text, .. } => {
                text.push_str(delta);
                parts.len()
            }
            _ => 0,
        };
        let at =
            json!({"item_id": id, "output_index": output_index, "content_index": content_index});
        if is_refusal {
            self.emit(
                buf,
                "response.refusal.delta",
                with(&at, "delta", delta.into()),
            )
        } else {
            let mut event = with(&at, "delta", delta.into());
            if let Some(o) = event.as_object_mut() {
                o.insert("logprobs".into(), json!([]));
            }
            self.emit(buf, "response.output_text.delta", event)
        }
    }

    fn open_part(
        &mut self,
        buf: &mut BytesMut,
        content_index: usize,
        refusal: bool,
    ) -> Result<(), Error> {
        let (output_index, id) = self.slot("msg");
        let part = if refusal {
            json!({"type": "refusal", "refusal": ""})
        } else {
            output_text("")
        };
        let event = json!({"item_id": id, "output_index": output_index, "content_index": content_index, "part": part});
        self.emit(buf, "response.content_part.added", event)
    }

    fn reasoning_delta(&mut self, buf: &mut BytesMut, delta: &str) -> Result<(), Error> {
        let (output_index, id) = self.slot("rs");
        let at = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
        if !matches!(self.open, Open::Reasoning { .. }) {
            self.close(buf)?;
            return self.reasoning_delta_opened(buf, delta);
        }
        if let Open::Reasoning { text } = &mut self.open {
            text.push_str(delta);
        }
        self.emit(
            buf,
            "response.reasoning_summary_text.delta",
            with(&at, "delta", delta.into()),
        )
    }

    fn reasoning_delta_opened(&mut self, buf: &mut BytesMut, delta: &str) -> Result<(), Error> {
        let (output_index, id) = self.slot("rs");
        let item = json!({"id": id, "type": "reasoning", "summary": []});
        self.emit(
            buf,
            "response.output_item.added",
            json!({"output_index": output_index, "item": item}),
        )?;
        let at = json!({"item_id": id, "output_index": output_index, "summary_index": 0});
        self.emit(
            buf,
            "response.reasoning_summary_part.added",
            with(&at, "part", json!({"type": "summary_text", "text": ""})),
        )?;
        self.open = Open::Reasoning {
            text: delta.to_owned(),
        };
        self.emit(
            buf,
            "response.reasoning_summary_text.delta",
            with(&at, "delta", delta.into()),
        )
    }

    /// Encodes one event (possibly several frames, possibly none).
    pub fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        if self.done {
            return Ok(buf.freeze());
        }
        if let ChatEvent::Usage(u) = event {
            self.usage = Some(*u);
            return Ok(buf.freeze());
        }
        if let ChatEvent::Start { model, .. } = event
            && !self.started
            && !model.is_empty()
        {
            self.template.model.clone_from(model);
        }
        self.start(&mut buf)?;
        if self.finished {
            return Ok(buf.freeze());
        }
        match event {
            ChatEvent::TextDelta { text } => self.message_delta(&mut buf, text, false)?,
            ChatEvent::RefusalDelta { text } => self.message_delta(&mut buf, text, true)?,
            ChatEvent::ReasoningDelta { text } => self.reasoning_delta(&mut buf, text)?,
            ChatEvent::ToolCallStart { index, id, name } => {
                self.close(&mut buf)?;
                let (output_index, item_id) = self.slot("fc");
                let item = function_call_item(item_id, "in_progress", id, name, "");
                self.emit(
                    &mut buf,
                    "response.output_item.added",
                    json!({"output_index": output_index, "item": item}),
                )?;
                self.calls.push(Call {
                    index: *index,
                    output_index,
                    call_id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                });
                self.open = Open::Call { index: *index };
            }
            ChatEvent::ToolCallDelta { index, arguments } => {
                if let Some(call) = self.calls.iter_mut().find(|c| c.index == *index) {
                    call.arguments.push_str(arguments);
                    let output_index = call.output_index;
                    let id = self.template.item_id("fc", output_index);
                    let event =
                        json!({"item_id": id, "output_index": output_index, "delta": arguments});
                    self.emit(&mut buf, "response.function_call_arguments.delta", event)?;
                }
            }
            ChatEvent::Finish { reason } => {
                self.close(&mut buf)?;
                self.finished = true;
                self.reason = reason.clone();
            }
            ChatEvent::Start { .. }
            | ChatEvent::Usage(_)
            | ChatEvent::Extra { .. }
            | ChatEvent::ReasoningSignature { .. }
            | ChatEvent::RedactedReasoning { .. } => {}
        }
        Ok(buf.freeze())
    }

    /// Ends the stream: `response.completed` (or `response.incomplete`).
    pub fn finish(&mut self) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        if self.done {
            return Ok(buf.freeze());
        }
        self.start(&mut buf)?;
        self.close(&mut buf)?;
        self.done = true;
        let object = self
            .template
            .finished(self.output.clone(), self.usage.as_ref(), &self.reason);
        let kind = match object.get("status").and_then(Value::as_str) {
            Some("incomplete") => "response.incomplete",
            _ => "response.completed",
        };
        self.emit(&mut buf, kind, json!({"response": object.clone()}))?;
        if let Some(f) = self.on_complete.take() {
            f(object);
        }
        Ok(buf.freeze())
    }

    /// The frames reporting `err` mid-stream: an `error` event (top-level
    /// `code`, `message`, `param`), then `response.failed`.
    pub fn error_frame(&mut self, err: &Error) -> Bytes {
        let mut buf = BytesMut::new();
        self.done = true;
        let _ = self.start(&mut buf);
        let error =
            json!({"code": error_code(err), "message": err.message(), "param": err.param()});
        let failed = self.template.failed(self.output.clone(), err);
        if self.emit(&mut buf, "error", error).is_err()
            || self
                .emit(&mut buf, "response.failed", json!({"response": failed}))
                .is_err()
        {
            return Bytes::from_static(
                b"event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"internal error\",\"param\":null}\n\n",
            );
        }
        buf.freeze()
    }
}

/// `at` with one more field.
fn with(at: &Value, key: &str, value: Value) -> Value {
    let mut v = at.clone();
    if let Some(o) = v.as_object_mut() {
        o.insert(key.into(), value);
    }
    v
}

impl crate::sse::EventEncoder for ResponsesStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        ResponsesStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        ResponsesStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        ResponsesStreamEncoder::error_frame(self, err)
    }
    fn is_finished(&self) -> bool {
        self.finished
    }
}
