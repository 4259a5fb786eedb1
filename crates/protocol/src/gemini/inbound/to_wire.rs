//! Core answers → `generateContent` answers.

use serde_json::Value;
use switchboard_core::{ChatResponse, ContentPart, FinishReason, ToolCall, Usage};

use super::types::{OutCall, OutCandidate, OutContent, OutPart, OutResponse, OutUsage};
use crate::gemini::ORIGIN;

/// The `finishReason` of a core finish reason: stop and tool calls →
/// `STOP`, length → `MAX_TOKENS`, content filter → `SAFETY`; a provider
/// reason that is already one of Gemini's names is kept, anything else is
/// `OTHER`.
pub fn finish_reason_to_wire(reason: &FinishReason) -> &'static str {
    const GEMINI: &[&str] = &[
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "IMAGE_SAFETY",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
    ];
    match reason {
        FinishReason::Stop | FinishReason::ToolCalls => "STOP",
        FinishReason::Length => "MAX_TOKENS",
        FinishReason::ContentFilter => "SAFETY",
        FinishReason::Other(other) => GEMINI
            .iter()
            .find(|g| **g == other.as_str())
            .copied()
            .unwrap_or("OTHER"),
    }
}

/// `usageMetadata` of core usage: prompt = input, candidates = output −
/// reasoning (Gemini counts thoughts apart), thoughts = reasoning, cached =
/// cached input, total as reported.
pub fn usage_to_wire(u: &Usage) -> OutUsage {
    let total = if u.total_tokens == 0 {
        u.input_tokens.saturating_add(u.output_tokens)
    } else {
        u.total_tokens
    };
    OutUsage {
        prompt_token_count: u.input_tokens,
        candidates_token_count: u.output_tokens.saturating_sub(u.reasoning_tokens),
        total_token_count: total,
        cached_content_token_count: u.cached_input_tokens,
        thoughts_token_count: u.reasoning_tokens,
    }
}

/// Whether a signature from `origin` may be written to a Gemini client (it
/// will be sent back, and only Gemini accepts Gemini's signatures).
pub(super) fn gemini_signature(signature: Option<&str>, origin: Option<&str>) -> Option<String> {
    signature
        .filter(|s| !s.is_empty())
        .filter(|_| ContentPart::reasoning_origin_compatible(origin, ORIGIN))
        .map(str::to_owned)
}

/// A function call part. Gemini's `args` is an object: empty arguments are
/// `{}`, and arguments that are not a JSON object are kept as
/// `{"arguments": "<text>"}`.
pub(super) fn call_part(call: &ToolCall, signature: Option<String>) -> OutPart {
    let args = match serde_json::from_str::<Value>(&call.arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ if call.arguments.trim().is_empty() => Value::Object(serde_json::Map::new()),
        _ => serde_json::json!({ "arguments": call.arguments }),
    };
    OutPart {
        function_call: Some(OutCall {
            id: call.id.clone(),
            name: call.name.clone(),
            args,
        }),
        thought_signature: signature,
        ..OutPart::default()
    }
}

/// The parts of an answer: text and refusal → text; reasoning → thought
/// parts (`thought: true`, with a Gemini-compatible signature); a signature
/// carrier (empty reasoning text) puts its signature on the next part (or
/// the first function call); tool calls → `functionCall` parts, last.
/// Another family's signatures and encrypted reasoning are left out.
pub fn answer_parts(content: &[ContentPart], tool_calls: &[ToolCall]) -> Vec<OutPart> {
    let mut parts = Vec::with_capacity(content.len() + tool_calls.len());
    let mut pending: Option<String> = None;
    for part in content {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => parts.push(OutPart {
                text: Some(text.clone()),
                thought_signature: pending.take(),
                ..OutPart::default()
            }),
            ContentPart::Reasoning {
                text,
                signature,
                origin,
                ..
            } => {
                let signature = gemini_signature(signature.as_deref(), origin.as_deref());
                if text.is_empty() {
                    if signature.is_some() {
                        pending = signature;
                    }
                    continue;
                }
                parts.push(OutPart {
                    text: Some(text.clone()),
                    thought: Some(true),
                    thought_signature: signature,
                    ..OutPart::default()
                });
            }
            ContentPart::Image { .. } => {}
        }
    }
    for call in tool_calls {
        parts.push(call_part(call, pending.take()));
    }
    if let Some(signature) = pending {
        parts.push(OutPart {
            text: Some(String::new()),
            thought_signature: Some(signature),
            ..OutPart::default()
        });
    }
    parts
}

/// A whole answer as a `GenerateContentResponse`: one candidate (index 0,
/// role `model`) with [`answer_parts`], its `finishReason`
/// ([`finish_reason_to_wire`]), `usageMetadata` ([`usage_to_wire`]),
/// `modelVersion` (the answering model) and `responseId`.
pub fn to_wire_response(response: &ChatResponse) -> OutResponse {
    OutResponse {
        candidates: vec![OutCandidate {
            content: Some(OutContent {
                parts: answer_parts(&response.content, &response.tool_calls),
                role: "model",
            }),
            finish_reason: Some(finish_reason_to_wire(&response.finish_reason)),
            index: 0,
        }],
        usage_metadata: Some(usage_to_wire(&response.usage)),
        model_version: response.model.clone(),
        response_id: response.id.clone(),
    }
}
