//! `ChatResponse` ⇄ OpenAI chat completion response.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatResponse, Error, FinishReason, Usage};

use super::error::error_from_value;
use super::request::tool_call_to_wire;
use super::types::{
    ChatCompletion, Choice, CompletionTokensDetails, CompletionUsage, PromptTokensDetails,
    ResponseMessage,
};

/// Keys of [`ChatResponse::extra`] this module reads and writes itself.
pub mod extra_keys {
    /// The first choice's `logprobs`.
    pub const LOGPROBS: &str = "logprobs";
    /// The message's `annotations` (when not empty).
    pub const ANNOTATIONS: &str = "annotations";
    /// Unknown fields of the first choice's message, as an object.
    pub const MESSAGE: &str = "message";
    /// Unknown fields of the first choice, as an object.
    pub const CHOICE: &str = "choice";
    /// The choices after the first (when `n` > 1), verbatim.
    pub const CHOICES: &str = "choices";
    /// Unknown `usage` fields (Groq's timings, OpenRouter's `cost`), as an object.
    pub const USAGE: &str = "usage";
    /// `system_fingerprint`.
    pub const SYSTEM_FINGERPRINT: &str = "system_fingerprint";
    /// `service_tier`.
    pub const SERVICE_TIER: &str = "service_tier";

    /// The keys above: they go back to their places in a response, never to
    /// its top level. Every other key of `extra` is a top-level field.
    pub const POSITIONAL: [&str; 8] = [
        LOGPROBS,
        ANNOTATIONS,
        MESSAGE,
        CHOICE,
        CHOICES,
        USAGE,
        SYSTEM_FINGERPRINT,
        SERVICE_TIER,
    ];
}

/// Token counts in core terms: cached prompt tokens (`cached_tokens`),
/// prompt tokens written to the cache (OpenRouter's `cache_write_tokens`)
/// and reasoning tokens are picked out of the details. A missing
/// `total_tokens` is computed.
pub fn usage_from_wire(u: &CompletionUsage) -> Usage {
    let prompt = u.prompt_tokens_details.as_ref();
    let completion = u.completion_tokens_details.as_ref();
    let total = if u.total_tokens == 0 {
        u.prompt_tokens.saturating_add(u.completion_tokens)
    } else {
        u.total_tokens
    };
    Usage {
        input_tokens: u.prompt_tokens,
        output_tokens: u.completion_tokens,
        cached_input_tokens: prompt.and_then(|p| p.cached_tokens).unwrap_or(0),
        cache_write_input_tokens: prompt.and_then(|p| p.cache_write_tokens).unwrap_or(0),
        reasoning_tokens: completion.and_then(|c| c.reasoning_tokens).unwrap_or(0),
        total_tokens: total,
    }
}

/// Core usage in OpenAI terms, details included.
pub fn usage_to_wire(u: &Usage) -> CompletionUsage {
    CompletionUsage {
        prompt_tokens: u.input_tokens,
        completion_tokens: u.output_tokens,
        total_tokens: u.total_tokens,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(u.cached_input_tokens),
            cache_write_tokens: (u.cache_write_input_tokens > 0)
                .then_some(u.cache_write_input_tokens),
            ..Default::default()
        }),
        completion_tokens_details: Some(CompletionTokensDetails {
            reasoning_tokens: Some(u.reasoning_tokens),
            ..Default::default()
        }),
        extra: Map::new(),
    }
}

/// Parses an upstream chat completion body. A body that is an error object
/// (some servers answer errors with HTTP 200) becomes that error; a body that
/// is not a chat completion is a [`Protocol`](sb::ErrorKind::Protocol) error.
pub fn parse_chat_response(body: &[u8]) -> Result<ChatResponse, Error> {
    let wire: ChatCompletion<'_> = crate::parse_upstream(body, "chat completion")?;
    from_wire_response(wire)
}

/// Converts an OpenAI response into a core response, from its first choice.
///
/// Content comes out in the order reasoning (`reasoning_content` or
/// `reasoning`), text, refusal. An empty `content` string adds no part.
/// `system_fingerprint`, `service_tier` and every unknown top-level field go
/// to `extra` under their own names; the rest of what the core has no field
/// for goes under the keys in [`extra_keys`], so [`to_wire_response`] can put
/// it back.
pub fn from_wire_response(wire: ChatCompletion<'_>) -> Result<ChatResponse, Error> {
    let ChatCompletion {
        id,
        object: _,
        created,
        model,
        choices,
        usage,
        system_fingerprint,
        service_tier,
        extra: top_extra,
    } = wire;
    if let Some(err) = top_extra.get("error").filter(|e| !e.is_null()) {
        return Err(error_from_value(err));
    }
    let mut extra = top_extra;
    let mut choices = choices.into_iter();
    let Some(choice) = choices.next() else {
        return Err(Error::protocol("the chat completion has no choices"));
    };
    let rest: Vec<Choice<'_>> = choices.collect();
    if !rest.is_empty() {
        extra.insert(
            extra_keys::CHOICES.into(),
            serde_json::to_value(&rest).unwrap_or(Value::Null),
        );
    }
    if let Some(fp) = system_fingerprint {
        extra.insert(
            extra_keys::SYSTEM_FINGERPRINT.into(),
            Value::String(fp.into_owned()),
        );
    }
    if let Some(tier) = service_tier {
        extra.insert(
            extra_keys::SERVICE_TIER.into(),
            Value::String(tier.into_owned()),
        );
    }
    let Choice {
        index: _,
        message,
        finish_reason,
        logprobs,
        extra: choice_extra,
    } = choice;
    if let Some(lp) = logprobs.filter(|v| !v.is_null()) {
        extra.insert(extra_keys::LOGPROBS.into(), lp);
    }
    insert_non_null_object(&mut extra, extra_keys::CHOICE, choice_extra);

    let ResponseMessage {
        role: _,
        content: text,
        refusal,
        tool_calls: wire_calls,
        annotations,
        reasoning_content,
        reasoning,
        extra: message_extra,
    } = message;
    if let Some(a) = annotations.filter(|a| !a.is_empty()) {
        extra.insert(extra_keys::ANNOTATIONS.into(), Value::Array(a));
    }
    insert_non_null_object(&mut extra, extra_keys::MESSAGE, message_extra);

    let mut content = Vec::new();
    if let Some(r) = reasoning_content.or(reasoning).filter(|r| !r.is_empty()) {
        content.push(sb::ContentPart::Reasoning {
            text: r.into_owned(),
            signature: None,
            redacted: None,
            origin: None,
        });
    }
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        content.push(sb::ContentPart::Text {
            text: t.into_owned(),
        });
    }
    if let Some(r) = refusal.filter(|r| !r.is_empty()) {
        content.push(sb::ContentPart::Refusal {
            text: r.into_owned(),
        });
    }
    let mut tool_calls = Vec::new();
    for (i, call) in wire_calls.into_iter().flatten().enumerate() {
        if call.kind != "function" {
            return Err(Error::unsupported(format!(
                "the response holds a tool call of type `{}`, which is not supported",
                call.kind
            ))
            .with_param(format!("choices[0].message.tool_calls[{i}]")));
        }
        tool_calls.push(sb::ToolCall {
            id: call.id.into_owned(),
            name: call.function.name.into_owned(),
            arguments: call.function.arguments.into_owned(),
        });
    }
    let finish_reason = match finish_reason.as_deref() {
        Some(r) if !r.is_empty() => FinishReason::parse(r),
        _ if !tool_calls.is_empty() => FinishReason::ToolCalls,
        _ => FinishReason::Stop,
    };
    let usage = match usage {
        Some(u) => {
            insert_non_null_object(&mut extra, extra_keys::USAGE, u.extra.clone());
            usage_from_wire(&u)
        }
        None => Usage::default(),
    };
    Ok(ChatResponse {
        id: id.into_owned(),
        model: model.into_owned(),
        provider: String::new(),
        created,
        content,
        tool_calls,
        finish_reason,
        usage,
        extra,
    })
}

fn insert_non_null_object(extra: &mut Map<String, Value>, key: &str, mut map: Map<String, Value>) {
    map.retain(|_, v| !v.is_null());
    if !map.is_empty() {
        extra.insert(key.into(), Value::Object(map));
    }
}

fn object_entries(extra: &Map<String, Value>, key: &str) -> Map<String, Value> {
    match extra.get(key) {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    }
}

fn joined<'a>(parts: impl Iterator<Item = &'a str>) -> Option<Cow<'a, str>> {
    let mut out: Option<Cow<'a, str>> = None;
    for p in parts {
        out = Some(match out {
            None => Cow::Borrowed(p),
            Some(prev) => Cow::Owned(format!("{prev}{p}")),
        });
    }
    out
}

/// Converts a core response into an OpenAI response (the gateway's answer),
/// borrowing from it.
///
/// Text parts are joined into `content` (`null` when there are none),
/// refusal parts into `refusal`, reasoning parts into `reasoning_content`
/// (which OpenAI clients ignore and DeepSeek-aware clients read). Image parts
/// have no place in an OpenAI chat message and are left out. Entries of
/// `extra` written by [`from_wire_response`] go back where they came from;
/// other entries become top-level fields.
pub fn to_wire_response(resp: &ChatResponse) -> ChatCompletion<'_> {
    let text = joined(resp.content.iter().filter_map(|p| match p {
        sb::ContentPart::Text { text } => Some(text.as_str()),
        _ => None,
    }));
    let refusal = joined(resp.content.iter().filter_map(|p| match p {
        sb::ContentPart::Refusal { text } => Some(text.as_str()),
        _ => None,
    }));
    let reasoning = joined(resp.content.iter().filter_map(|p| match p {
        sb::ContentPart::Reasoning { text, .. } if !text.is_empty() => Some(text.as_str()),
        _ => None,
    }));
    let annotations = match resp.extra.get(extra_keys::ANNOTATIONS) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let message = ResponseMessage {
        role: Cow::Borrowed("assistant"),
        content: text,
        refusal,
        tool_calls: (!resp.tool_calls.is_empty())
            .then(|| resp.tool_calls.iter().map(tool_call_to_wire).collect()),
        annotations: Some(annotations),
        reasoning_content: reasoning,
        reasoning: None,
        extra: object_entries(&resp.extra, extra_keys::MESSAGE),
    };
    let first = Choice {
        index: 0,
        message,
        finish_reason: Some(Cow::Borrowed(resp.finish_reason.as_str())),
        logprobs: resp.extra.get(extra_keys::LOGPROBS).cloned(),
        extra: object_entries(&resp.extra, extra_keys::CHOICE),
    };
    let mut choices = vec![first];
    if let Some(rest) = resp.extra.get(extra_keys::CHOICES)
        && let Ok(rest) = Vec::<Choice<'_>>::deserialize(rest)
    {
        choices.extend(rest);
    }
    let mut usage = usage_to_wire(&resp.usage);
    usage.extra = object_entries(&resp.extra, extra_keys::USAGE);
    let string = |key: &str| match resp.extra.get(key) {
        Some(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
        _ => None,
    };
    let extra = resp
        .extra
        .iter()
        .filter(|(k, _)| !extra_keys::POSITIONAL.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    ChatCompletion {
        id: Cow::Borrowed(&resp.id),
        object: Cow::Borrowed("chat.completion"),
        created: resp.created,
        model: Cow::Borrowed(&resp.model),
        choices,
        usage: Some(usage),
        system_fingerprint: string(extra_keys::SYSTEM_FINGERPRINT),
        service_tier: string(extra_keys::SERVICE_TIER),
        extra,
    }
}
