//! Gemini answers → core responses: finish reasons, usage, ids, and whole
//! `generateContent` answers.

use serde_json::Value;
use switchboard_core::{ChatResponse, ContentPart, Error, FinishReason, ToolCall, Usage};

use super::ORIGIN;
use crate::gemini::types as wire;

/// A completion id for an answer without `responseId`: random per process
/// (std's randomly keyed hasher) and distinct within it (a counter).
pub(crate) fn new_id() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("gemini-{:016x}", hasher.finish())
}

/// The id of the `index`-th function call of answer `response_id`, for
/// calls without one: `call_<responseId>_<index>` — deterministic for one
/// answer, distinct across answers.
pub(crate) fn tool_call_id(response_id: &str, index: usize) -> String {
    format!("call_{response_id}_{index}")
}

/// Maps a `finishReason`. `STOP` with function calls is `tool_calls`.
///
/// | Gemini | core |
/// | --- | --- |
/// | `STOP` | `stop` (`tool_calls` when the answer called functions) |
/// | `MAX_TOKENS` | `length` |
/// | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY` | `content_filter` |
/// | `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `LANGUAGE`, `OTHER`, anything else | the Gemini name, verbatim |
pub fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "STOP" | "FINISH_REASON_UNSPECIFIED" | "" if has_tool_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_owned()),
    }
}

/// `usageMetadata` as usage. Gemini counts thinking apart from the answer
/// (`candidatesTokenCount` excludes `thoughtsTokenCount`); core output
/// tokens include reasoning, so output = candidates + thoughts and
/// reasoning = thoughts. Input = prompt + tool-use prompt tokens; cached =
/// `cachedContentTokenCount`; total = `totalTokenCount` (else input + output).
pub fn usage_from_wire(u: &wire::UsageMetadata) -> Usage {
    // Saturating: the counts come from the network.
    let input = u
        .prompt_token_count
        .unwrap_or(0)
        .saturating_add(u.tool_use_prompt_token_count.unwrap_or(0));
    let thoughts = u.thoughts_token_count.unwrap_or(0);
    let output = u
        .candidates_token_count
        .unwrap_or(0)
        .saturating_add(thoughts);
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: u.cached_content_token_count.unwrap_or(0),
        cache_write_input_tokens: 0,
        reasoning_tokens: thoughts,
        total_tokens: u.total_token_count.unwrap_or(input.saturating_add(output)),
    }
}

/// A signature carrier: a reasoning part with no text, origin [`ORIGIN`].
pub(super) fn carrier(signature: String) -> ContentPart {
    ContentPart::Reasoning {
        text: String::new(),
        signature: Some(signature),
        redacted: None,
        origin: Some(ORIGIN.to_owned()),
    }
}

/// The first candidate (the one with `index` 0 when indices are given).
pub(crate) fn first_candidate(candidates: Vec<wire::Candidate>) -> Option<wire::Candidate> {
    let mut iter = candidates.into_iter();
    let first = iter.next()?;
    if first.index.unwrap_or(0) == 0 {
        return Some(first);
    }
    iter.find(|c| c.index == Some(0)).or(Some(first))
}

/// Reads a `generateContent` answer body and converts it
/// ([`from_wire_response`]); a body that is not one is a protocol error.
pub fn parse_response(
    body: &[u8],
    request_model: &str,
    instance: &str,
) -> Result<ChatResponse, Error> {
    let answer: wire::GenerateContentResponse =
        crate::parse_upstream(body, "`generateContent` answer")?;
    from_wire_response(answer, request_model, instance)
}

/// Converts a whole `generateContent` answer.
///
/// A prompt blocked before any candidate was produced
/// (`promptFeedback.blockReason`, no `candidates`) is an answer with no
/// content and finish reason `content_filter`; the block reason is in
/// `extra.blockReason` (so it reaches clients as an ordinary, filtered answer,
/// like a blocked completion, and is not retried elsewhere).
pub fn from_wire_response(
    mut wire: wire::GenerateContentResponse,
    request_model: &str,
    instance: &str,
) -> Result<ChatResponse, Error> {
    if let Some(error) = wire.error.take().filter(|e| !e.is_null()) {
        return Err(crate::gemini::error::error_from_value(&error));
    }
    let id = wire
        .response_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(new_id);
    let mut extra = std::mem::take(&mut wire.extra);
    let block = wire
        .prompt_feedback
        .as_mut()
        .and_then(|f| f.block_reason.take());
    if let Some(feedback) = wire.prompt_feedback.take()
        && !feedback.extra.is_empty()
    {
        extra.insert("promptFeedback".into(), Value::Object(feedback.extra));
    }
    let usage = wire
        .usage_metadata
        .as_ref()
        .map(usage_from_wire)
        .unwrap_or_default();
    let model = wire
        .model_version
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| request_model.to_owned());
    let mut response = ChatResponse {
        id,
        model,
        provider: instance.to_owned(),
        usage,
        ..ChatResponse::default()
    };
    let Some(candidate) = first_candidate(std::mem::take(&mut wire.candidates)) else {
        let Some(reason) = block else {
            return Err(Error::protocol("Gemini's answer has no candidates"));
        };
        extra.insert("blockReason".into(), Value::String(reason));
        response.finish_reason = FinishReason::ContentFilter;
        response.extra = extra;
        return Ok(response);
    };
    let mut fc_carriers = Vec::new();
    for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
        let signature = part.thought_signature.filter(|s| !s.is_empty());
        if let Some(call) = part.function_call {
            let index = response.tool_calls.len();
            if let Some(s) = signature {
                fc_carriers.push(s);
            }
            response.tool_calls.push(ToolCall {
                id: call
                    .id
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| tool_call_id(&response.id, index)),
                name: call.name.clone(),
                arguments: call.arguments_text(),
            });
        } else if part.thought {
            response.content.push(ContentPart::Reasoning {
                text: part.text.unwrap_or_default(),
                signature,
                redacted: None,
                origin: Some(ORIGIN.to_owned()),
            });
        } else if let Some(text) = part.text {
            if let Some(s) = signature {
                response.content.push(carrier(s));
            }
            response.content.push(ContentPart::text(text));
        } else if let Some(s) = signature {
            response.content.push(carrier(s));
        }
    }
    response
        .content
        .extend(fc_carriers.into_iter().map(carrier));
    response.finish_reason = match candidate.finish_reason.as_deref() {
        Some(r) => finish_reason(r, !response.tool_calls.is_empty()),
        None if !response.tool_calls.is_empty() => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    };
    extra.extend(candidate.extra);
    response.extra = extra;
    Ok(response)
}
