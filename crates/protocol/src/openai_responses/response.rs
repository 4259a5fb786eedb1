//! Core → wire: a [`ChatResponse`] as a Responses API `response` object.

use serde_json::{Map, Value, json};
use switchboard_core::{ChatResponse, ContentPart, Error, FinishReason, Usage};

/// What every response object of one request shares: its id, creation time,
/// model and the request fields it repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTemplate {
    /// The response id, `resp_...`.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The model named in the answer (until the provider names its own).
    pub model: String,
    /// The request fields the response repeats (see
    /// [`InboundResponsesRequest::echo`](super::InboundResponsesRequest::echo)).
    pub echo: Map<String, Value>,
}

impl ResponseTemplate {
    /// The id of output item `index` with `prefix` (`msg`, `fc`, `rs`):
    /// unique because the response id is.
    pub fn item_id(&self, prefix: &str, index: usize) -> String {
        let base = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{base}{index:02x}")
    }

    /// The response object with `status`, `output` and `usage` (`null` when unknown).
    pub fn object(&self, status: &str, output: Vec<Value>, usage: Option<&Usage>) -> Value {
        let mut o = Map::new();
        o.insert("id".into(), self.id.clone().into());
        o.insert("object".into(), "response".into());
        o.insert("created_at".into(), self.created_at.into());
        o.insert("status".into(), status.into());
        o.insert("background".into(), false.into());
        o.insert("error".into(), Value::Null);
        o.insert("incomplete_details".into(), Value::Null);
        o.insert("model".into(), self.model.clone().into());
        o.insert("output".into(), Value::Array(output));
        for (k, v) in &self.echo {
            o.insert(k.clone(), v.clone());
        }
        o.insert(
            "usage".into(),
            usage.map(usage_to_wire).unwrap_or(Value::Null),
        );
        Value::Object(o)
    }

    /// The finished response object for `output`, `usage` and why the model stopped:
    /// `completed`, or `incomplete` with `incomplete_details.reason`
    /// (`max_output_tokens`, `content_filter`) when it was cut short.
    pub fn finished(
        &self,
        output: Vec<Value>,
        usage: Option<&Usage>,
        reason: &FinishReason,
    ) -> Value {
        let incomplete = match reason {
            FinishReason::Length => Some("max_output_tokens"),
            FinishReason::ContentFilter => Some("content_filter"),
            _ => None,
        };
        let status = if incomplete.is_some() {
            "incomplete"
        } else {
            "completed"
        };
        let mut object = self.object(status, output, usage);
        if let (Some(reason), Some(o)) = (incomplete, object.as_object_mut()) {
            o.insert("incomplete_details".into(), json!({"reason": reason}));
        }
        object
    }

    /// A failed response object with `error: {code, message}`.
    pub fn failed(&self, output: Vec<Value>, err: &Error) -> Value {
        let mut object = self.object("failed", output, None);
        if let Some(o) = object.as_object_mut() {
            o.insert(
                "error".into(),
                json!({"code": error_code(err), "message": err.message()}),
            );
        }
        object
    }
}

/// The `code` of a response's or an `error` event's error.
pub fn error_code(err: &Error) -> &'static str {
    use switchboard_core::ErrorKind;
    match err.kind() {
        ErrorKind::RateLimited { .. } => "rate_limit_exceeded",
        ErrorKind::InvalidRequest | ErrorKind::Unsupported => "invalid_request",
        ErrorKind::ContextLengthExceeded => "context_length_exceeded",
        _ => "server_error",
    }
}

/// Usage in Responses terms: `input_tokens`, `output_tokens`,
/// `input_tokens_details.cached_tokens`, `output_tokens_details.reasoning_tokens`, `total_tokens`.
pub fn usage_to_wire(usage: &Usage) -> Value {
    let total = if usage.total_tokens > 0 {
        usage.total_tokens
    } else {
        usage.input_tokens + usage.output_tokens
    };
    json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": total,
    })
}

/// A finished message item.
pub(crate) fn message_item(id: String, content: Vec<Value>) -> Value {
    json!({"id": id, "type": "message", "status": "completed", "content": content, "role": "assistant"})
}

/// An `output_text` content part.
pub(crate) fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

/// A finished reasoning item whose summary is `text`.
pub(crate) fn reasoning_item(id: String, text: &str) -> Value {
    json!({"id": id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]})
}

/// A function call item.
pub(crate) fn function_call_item(
    id: String,
    status: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Value {
    json!({"id": id, "type": "function_call", "status": status, "arguments": arguments, "call_id": call_id, "name": name})
}

/// The output items of a complete answer, in OpenAI's order: a reasoning
/// item (when the provider gave reasoning text), the message (text and
/// refusal parts), then one `function_call` item per tool call.
pub fn output_items(template: &ResponseTemplate, response: &ChatResponse) -> Vec<Value> {
    let mut items = Vec::new();
    let reasoning: Vec<&str> = response
        .content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Reasoning { text, .. } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    if !reasoning.is_empty() {
        let id = template.item_id("rs", items.len());
        items.push(reasoning_item(id, &reasoning.join("\n\n")));
    }
    let mut content: Vec<Value> = Vec::new();
    for part in &response.content {
        match part {
            ContentPart::Text { text } => {
                // Adjacent text parts are one output_text.
                if let Some(last) = content.last_mut()
                    && last.get("type").and_then(Value::as_str) == Some("output_text")
                    && let Some(Value::String(t)) = last.get_mut("text")
                {
                    t.push_str(text);
                    continue;
                }
                content.push(output_text(text));
            }
            ContentPart::Refusal { text } => {
                content.push(json!({"type": "refusal", "refusal": text}));
            }
            ContentPart::Reasoning { .. } | ContentPart::Image { .. } => {}
        }
    }
    if !content.is_empty() {
        let id = template.item_id("msg", items.len());
        items.push(message_item(id, content));
    }
    for call in &response.tool_calls {
        let id = template.item_id("fc", items.len());
        items.push(function_call_item(
            id,
            "completed",
            &call.id,
            &call.name,
            &call.arguments,
        ));
    }
    items
}

/// The response object of a complete answer. The model is the one that
/// answered, when the provider named it.
pub fn to_wire_response(template: &ResponseTemplate, response: &ChatResponse) -> Value {
    let mut template = template.clone();
    if !response.model.is_empty() {
        template.model.clone_from(&response.model);
    }
    let output = output_items(&template, response);
    template.finished(output, Some(&response.usage), &response.finish_reason)
}
