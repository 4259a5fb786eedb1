//! `ChatResponse` ⇄ Anthropic Messages response, usage and stop reasons.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatResponse, Error, FinishReason, Usage};

use super::error::error_from_value;
use super::origin::{ORIGIN, tag_signature};
use super::request::{RAW_ARGUMENTS_KEY, parse_arguments};
use super::types::{ContentBlock, MessageDeltaUsage, MessageUsage, MessagesResponse};

/// Keys of [`ChatResponse::extra`] this module reads and writes itself.
pub mod extra_keys {
    /// The `stop_sequence` that ended the answer (a string; absent when none did).
    pub const STOP_SEQUENCE: &str = "stop_sequence";
    /// Unknown `usage` fields (`cache_creation`, `service_tier`,
    /// `server_tool_use`, `inference_geo`), as an object.
    pub const USAGE: &str = "usage";
    /// Content blocks the core has no part for (`server_tool_use`,
    /// `web_search_tool_result`, ...), as `[{"index": i, "block": {...}}]`,
    /// `i` being the block's position in the original `content`.
    pub const CONTENT_BLOCKS: &str = "content_blocks";
    /// Fields of content blocks the core has no place for (`citations` of a
    /// text block, `caller` of a tool use), as `[{"index": i, "fields": {...}}]`.
    pub const CONTENT_BLOCK_FIELDS: &str = "content_block_fields";
}

/// Token counts in core terms.
///
/// Anthropic's `input_tokens` **excludes** the prompt tokens read from
/// (`cache_read_input_tokens`) and written to (`cache_creation_input_tokens`)
/// the prompt cache; the core's `input_tokens` is the whole prompt, so it is
/// the sum of the three. `cached_input_tokens` is the cache read,
/// `cache_write_input_tokens` the cache write. Anthropic does not report
/// thinking tokens apart from `output_tokens`, so `reasoning_tokens` is 0.
pub fn usage_from_wire(u: &MessageUsage) -> Usage {
    let cache_read = u.cache_read_input_tokens.unwrap_or(0);
    let cache_write = u.cache_creation_input_tokens.unwrap_or(0);
    let input = u
        .input_tokens
        .saturating_add(cache_read)
        .saturating_add(cache_write);
    Usage {
        input_tokens: input,
        output_tokens: u.output_tokens,
        cached_input_tokens: cache_read,
        cache_write_input_tokens: cache_write,
        reasoning_tokens: 0,
        total_tokens: input.saturating_add(u.output_tokens),
    }
}

/// Core usage in Anthropic terms: the inverse of [`usage_from_wire`]
/// (`input_tokens` = core input − cache read − cache write). The cache
/// fields are always written, as the API does.
pub fn usage_to_wire(u: &Usage) -> MessageUsage {
    MessageUsage {
        input_tokens: u
            .input_tokens
            .saturating_sub(u.cached_input_tokens)
            .saturating_sub(u.cache_write_input_tokens),
        cache_creation_input_tokens: Some(u.cache_write_input_tokens),
        cache_read_input_tokens: Some(u.cached_input_tokens),
        output_tokens: u.output_tokens,
        extra: Map::new(),
    }
}

/// Core usage as the `usage` of a `message_delta` event (all counts, as the
/// live API sends them).
pub fn delta_usage_to_wire(u: &Usage) -> MessageDeltaUsage {
    let w = usage_to_wire(u);
    MessageDeltaUsage {
        input_tokens: Some(w.input_tokens),
        cache_creation_input_tokens: w.cache_creation_input_tokens,
        cache_read_input_tokens: w.cache_read_input_tokens,
        output_tokens: w.output_tokens,
        extra: Map::new(),
    }
}

/// `stop_reason` → [`FinishReason`]: `end_turn` and `stop_sequence` →
/// `Stop`, `max_tokens` and `model_context_window_exceeded` → `Length`,
/// `tool_use` → `ToolCalls`, `refusal` → `ContentFilter`, anything else
/// (`pause_turn`, newer reasons) → `Other` verbatim.
pub fn finish_reason_from_wire(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Stop reasons Anthropic clients know, passed through from [`FinishReason::Other`].
const KNOWN_STOP_REASONS: &[&str] = &[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
];

/// [`FinishReason`] → `stop_reason`: `Stop` → `end_turn` (`stop_sequence`
/// when `stop_sequence` is set), `Length` → `max_tokens`, `ToolCalls` →
/// `tool_use`, `ContentFilter` → `refusal`; `Other` passes through when it
/// is one of Anthropic's reasons and is `end_turn` otherwise.
pub fn stop_reason_to_wire(reason: &FinishReason, stop_sequence: bool) -> &str {
    match reason {
        FinishReason::Stop if stop_sequence => "stop_sequence",
        FinishReason::Stop => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
        FinishReason::Other(s) if KNOWN_STOP_REASONS.contains(&s.as_str()) => s,
        FinishReason::Other(_) => "end_turn",
    }
}

/// Parses an upstream Messages response body. A body that is an error
/// object becomes that error; a body that is not a message is a
/// [`Protocol`](sb::ErrorKind::Protocol) error.
pub fn parse_messages_response(body: &[u8]) -> Result<ChatResponse, Error> {
    let wire: MessagesResponse<'_> = crate::parse_upstream(body, "message")?;
    from_wire_response(wire)
}

/// Converts an Anthropic response into a core response.
///
/// Blocks keep their order: `text` → text parts, `thinking` → reasoning
/// parts with their signature, `redacted_thinking` → reasoning parts with
/// `redacted` data (both with origin [`ORIGIN`], `"anthropic"`; signatures
/// are kept exactly as the API sent them, never untagged), `tool_use` →
/// tool calls (arguments = the `input` object as compact JSON). Blocks the core has no part for and block fields it has
/// no place for go to `extra` under [`extra_keys`], so [`to_wire_response`]
/// can put them back. `stop_sequence` and unknown top-level fields go to
/// `extra` too; `created` is 0 (the API does not say).
pub fn from_wire_response(wire: MessagesResponse<'_>) -> Result<ChatResponse, Error> {
    let MessagesResponse {
        id,
        kind,
        role: _,
        content: blocks,
        model,
        stop_reason,
        stop_sequence,
        usage,
        extra: mut top_extra,
    } = wire;
    if kind == "error" {
        let mut body = Map::new();
        body.insert("type".into(), Value::String("error".into()));
        if let Some(err) = top_extra.remove("error") {
            body.insert("error".into(), err);
        }
        return Err(error_from_value(&Value::Object(body)));
    }
    let mut extra = top_extra;
    let mut content = Vec::new();
    let mut tool_calls = Vec::new();
    let mut other_blocks = Vec::new();
    let mut block_fields = Vec::new();
    let mut keep_fields = |index: usize, fields: Map<String, Value>| {
        let fields: Map<String, Value> = fields.into_iter().filter(|(_, v)| !v.is_null()).collect();
        if !fields.is_empty() {
            block_fields.push(serde_json::json!({"index": index, "fields": fields}));
        }
    };
    for (index, block) in blocks.into_iter().enumerate() {
        match block {
            ContentBlock::Text { text, extra } => {
                keep_fields(index, extra);
                content.push(sb::ContentPart::Text {
                    text: text.into_owned(),
                });
            }
            ContentBlock::Thinking {
                thinking,
                signature,
                extra,
            } => {
                keep_fields(index, extra);
                content.push(sb::ContentPart::Reasoning {
                    text: thinking.into_owned(),
                    signature: (!signature.is_empty()).then(|| signature.into_owned()),
                    redacted: None,
                    origin: Some(ORIGIN.to_owned()),
                });
            }
            ContentBlock::RedactedThinking { data, extra } => {
                keep_fields(index, extra);
                content.push(sb::ContentPart::Reasoning {
                    text: String::new(),
                    signature: None,
                    redacted: Some(data.into_owned()),
                    origin: Some(ORIGIN.to_owned()),
                });
            }
            ContentBlock::ToolUse {
                id,
                name,
                input,
                extra,
            } => {
                keep_fields(index, extra);
                tool_calls.push(sb::ToolCall {
                    id: id.into_owned(),
                    name: name.into_owned(),
                    arguments: input.to_string(),
                });
            }
            other => {
                other_blocks.push(serde_json::json!({
                    "index": index,
                    "block": serde_json::to_value(&other).unwrap_or(Value::Null),
                }));
            }
        }
    }
    if !other_blocks.is_empty() {
        extra.insert(
            extra_keys::CONTENT_BLOCKS.into(),
            Value::Array(other_blocks),
        );
    }
    if !block_fields.is_empty() {
        extra.insert(
            extra_keys::CONTENT_BLOCK_FIELDS.into(),
            Value::Array(block_fields),
        );
    }
    if let Some(seq) = stop_sequence {
        extra.insert(
            extra_keys::STOP_SEQUENCE.into(),
            Value::String(seq.into_owned()),
        );
    }
    let usage_extra: Map<String, Value> = usage
        .extra
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !usage_extra.is_empty() {
        extra.insert(extra_keys::USAGE.into(), Value::Object(usage_extra));
    }
    let finish_reason = match stop_reason.as_deref() {
        Some(r) if !r.is_empty() => finish_reason_from_wire(r),
        _ if !tool_calls.is_empty() => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    };
    Ok(ChatResponse {
        id: id.into_owned(),
        model: model.into_owned(),
        provider: String::new(),
        created: 0,
        content,
        tool_calls,
        finish_reason,
        usage: usage_from_wire(&usage),
        extra,
    })
}

/// A tool call's arguments as Anthropic's `input` object: `{}` when empty,
/// the parsed object when they are one, else wrapped as
/// `{"_switchboard_raw_arguments": "<text>"}` (an answer cannot fail here,
/// and the text is kept for the client to see).
pub fn arguments_to_input(arguments: &str) -> Value {
    parse_arguments(arguments).unwrap_or_else(|_| {
        let mut wrapped = Map::new();
        wrapped.insert(
            RAW_ARGUMENTS_KEY.into(),
            Value::String(arguments.to_owned()),
        );
        Value::Object(wrapped)
    })
}

fn indexed_entries<'v>(
    extra: &'v Map<String, Value>,
    key: &str,
    field: &str,
) -> Vec<(usize, &'v Value)> {
    let Some(Value::Array(items)) = extra.get(key) else {
        return Vec::new();
    };
    let mut out: Vec<(usize, &Value)> = items
        .iter()
        .filter_map(|item| {
            let index = usize::try_from(item.get("index")?.as_u64()?).ok()?;
            Some((index, item.get(field)?))
        })
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out
}

/// Converts a core response into an Anthropic response (the gateway's
/// answer), borrowing from it.
///
/// Reasoning parts become `thinking` blocks (signature `""` when the
/// reasoning came unsigned from another provider) or `redacted_thinking`
/// blocks, text and refusal parts `text` blocks, tool calls `tool_use`
/// blocks after the content (see [`arguments_to_input`]); image parts have
/// no place in an answer and are left out. Another family's signature or
/// redacted data is written tagged with its origin, `sb1:<origin>:…` (see
/// [`tag_signature`]), so that it is recognised when the client sends it
/// back; one whose origin cannot be written is withheld. The stop reason follows
/// [`stop_reason_to_wire`]. Entries of `extra` written by
/// [`from_wire_response`] go back where they came from; other entries become
/// top-level fields.
pub fn to_wire_response(resp: &ChatResponse) -> MessagesResponse<'_> {
    let mut blocks: Vec<ContentBlock<'_>> =
        Vec::with_capacity(resp.content.len() + resp.tool_calls.len());
    for part in &resp.content {
        match part {
            sb::ContentPart::Text { text } | sb::ContentPart::Refusal { text } => {
                blocks.push(ContentBlock::text(text.as_str()));
            }
            sb::ContentPart::Reasoning {
                text,
                signature,
                redacted,
                origin,
            } => match redacted {
                Some(data) => {
                    // Left out when its origin cannot be written (see `tag_signature`).
                    if let Some(data) = tag_signature(data, origin.as_deref()) {
                        blocks.push(ContentBlock::RedactedThinking {
                            data,
                            extra: Map::new(),
                        });
                    }
                }
                None => blocks.push(ContentBlock::Thinking {
                    thinking: Cow::Borrowed(text),
                    signature: tag_signature(
                        signature.as_deref().unwrap_or_default(),
                        origin.as_deref(),
                    )
                    .unwrap_or_default(),
                    extra: Map::new(),
                }),
            },
            sb::ContentPart::Image { .. } => {}
        }
    }
    for call in &resp.tool_calls {
        blocks.push(ContentBlock::ToolUse {
            id: Cow::Borrowed(&call.id),
            name: Cow::Borrowed(&call.name),
            input: Cow::Owned(arguments_to_input(&call.arguments)),
            extra: Map::new(),
        });
    }
    for (index, block) in indexed_entries(&resp.extra, extra_keys::CONTENT_BLOCKS, "block") {
        if let Ok(block) = serde_json::from_value::<Map<String, Value>>(block.clone()) {
            blocks.insert(index.min(blocks.len()), ContentBlock::Other(block));
        }
    }
    for (index, fields) in indexed_entries(&resp.extra, extra_keys::CONTENT_BLOCK_FIELDS, "fields")
    {
        if let (Some(block), Value::Object(fields)) = (blocks.get_mut(index), fields)
            && let Some(extra) = block.extra_mut()
        {
            for (k, v) in fields {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    let stop_sequence = match resp.extra.get(extra_keys::STOP_SEQUENCE) {
        Some(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
        _ => None,
    };
    let mut usage = usage_to_wire(&resp.usage);
    if let Some(Value::Object(u)) = resp.extra.get(extra_keys::USAGE) {
        usage.extra = u.clone();
    }
    let reserved = [
        extra_keys::STOP_SEQUENCE,
        extra_keys::USAGE,
        extra_keys::CONTENT_BLOCKS,
        extra_keys::CONTENT_BLOCK_FIELDS,
    ];
    let extra = resp
        .extra
        .iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    MessagesResponse {
        id: Cow::Borrowed(&resp.id),
        kind: Cow::Borrowed("message"),
        role: Cow::Borrowed("assistant"),
        content: blocks,
        model: Cow::Borrowed(&resp.model),
        stop_reason: Some(Cow::Borrowed(stop_reason_to_wire(
            &resp.finish_reason,
            stop_sequence.is_some(),
        ))),
        stop_sequence,
        usage,
        extra,
    }
}
