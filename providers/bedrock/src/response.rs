//! The Converse response → [`ChatResponse`]; usage and stop reasons, shared
//! with the stream decoder.
//!
//! Shapes from the Smithy model and AWS's recorded responses (see
//! `tests/data/README.md`): `output.message.content` blocks, `stopReason`,
//! `usage{inputTokens, outputTokens, totalTokens, cacheReadInputTokens,
//! cacheWriteInputTokens}`, `metrics{latencyMs}`.

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::{ChatResponse, ContentPart, Error, FinishReason, ToolCall, Usage};

use crate::request::REASONING_ORIGIN;

/// A Converse response body (the parts that are read).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConverseResponse {
    #[serde(default)]
    output: Output,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    metrics: Option<Value>,
    #[serde(default)]
    additional_model_response_fields: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct Output {
    #[serde(default)]
    message: Option<OutputMessage>,
}

#[derive(Debug, Deserialize)]
struct OutputMessage {
    #[serde(default)]
    content: Vec<Map<String, Value>>,
}

/// `TokenUsage` of the Smithy model.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_write_input_tokens: u64,
}

/// Bedrock's `inputTokens` leaves out the tokens read from and written to
/// the prompt cache (as Anthropic's API does); core's `input_tokens`
/// includes them. `totalTokens` is taken as sent.
pub(crate) fn usage(u: &WireUsage) -> Usage {
    let input = u
        .input_tokens
        .saturating_add(u.cache_read_input_tokens)
        .saturating_add(u.cache_write_input_tokens);
    Usage {
        input_tokens: input,
        output_tokens: u.output_tokens,
        cached_input_tokens: u.cache_read_input_tokens,
        cache_write_input_tokens: u.cache_write_input_tokens,
        reasoning_tokens: 0,
        total_tokens: u
            .total_tokens
            .unwrap_or_else(|| input.saturating_add(u.output_tokens)),
    }
}

/// `stopReason` → [`FinishReason`].
pub(crate) fn finish_reason(stop: Option<&str>) -> FinishReason {
    match stop {
        None | Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("guardrail_intervened" | "content_filtered") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// Parses a Converse response body; `id` and `model` name the answer.
pub fn parse_converse(body: &[u8], id: &str, model: &str) -> Result<ChatResponse, Error> {
    let wire: ConverseResponse = serde_json::from_slice(body).map_err(|e| {
        Error::protocol(format!("the Converse answer is not as documented: {e}")).with_source(e)
    })?;
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    let blocks = wire.output.message.map(|m| m.content).unwrap_or_default();
    for block in blocks {
        if let Some(text) = block.get("text").and_then(Value::as_str) {
            content.push(ContentPart::text(text));
        } else if let Some(tool) = block.get("toolUse") {
            tool_calls.push(tool_call(tool)?);
        } else if let Some(reasoning) = block.get("reasoningContent") {
            content.extend(reasoning_part(reasoning));
        }
        // Other blocks (citations, guard content, ...) are not mapped.
    }
    let mut extra = Map::new();
    if let Some(metrics) = wire.metrics {
        extra.insert("metrics".into(), metrics);
    }
    if let Some(fields) = wire.additional_model_response_fields {
        extra.insert("additionalModelResponseFields".into(), fields);
    }
    Ok(ChatResponse {
        id: id.to_owned(),
        model: model.to_owned(),
        content,
        finish_reason: finish_reason(wire.stop_reason.as_deref()),
        tool_calls,
        usage: wire.usage.as_ref().map(usage).unwrap_or_default(),
        extra,
        ..ChatResponse::default()
    })
}

/// `toolUse{toolUseId, name, input}` (input a JSON value) → [`ToolCall`].
fn tool_call(tool: &Value) -> Result<ToolCall, Error> {
    let field = |name: &str| {
        tool.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| Error::protocol(format!("a `toolUse` block has no `{name}`")))
    };
    let input = tool
        .get("input")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    Ok(ToolCall {
        id: field("toolUseId")?,
        name: field("name")?,
        arguments: input.to_string(),
    })
}

/// `reasoningContent{reasoningText{text, signature}}` or
/// `reasoningContent{redactedContent}` → a reasoning part.
fn reasoning_part(reasoning: &Value) -> Option<ContentPart> {
    let origin = Some(REASONING_ORIGIN.to_owned());
    if let Some(text) = reasoning.get("reasoningText") {
        return Some(ContentPart::Reasoning {
            text: text
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            signature: text
                .get("signature")
                .and_then(Value::as_str)
                .map(str::to_owned),
            redacted: None,
            origin,
        });
    }
    let data = reasoning.get("redactedContent").and_then(Value::as_str)?;
    Some(ContentPart::Reasoning {
        text: String::new(),
        signature: None,
        redacted: Some(data.to_owned()),
        origin,
    })
}
