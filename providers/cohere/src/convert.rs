//! Core requests → Cohere Chat v2 bodies, and Chat v2 answers → core responses.

use serde_json::{Map, Value, json};
use switchboard_core::{
    ChatRequest, ChatResponse, ContentPart, Error, FinishReason, ImageSource, Message,
    ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

use crate::wire::{
    ChatAnswer, ChatBody, TokenCounts, WireFunctionCall, WireFunctionDef, WireMessage, WireTool,
    WireToolCall, WireUsage,
};

/// The `origin` of reasoning parts (`thinking` items and `tool_plan`) from Cohere.
pub const ORIGIN: &str = "cohere";

/// The key of [`ChatResponse::extra`] holding the answer's citations
/// (`message.citations`, as Cohere sends them).
pub const CITATIONS: &str = "citations";

/// The key of [`ChatResponse::extra`] holding the billed token counts
/// (`usage.billed_units`); [`ChatResponse::usage`] has the processed ones.
pub const BILLED_UNITS: &str = "billed_units";

/// Request fields the body sets itself, which `extra` may not override.
const OWN_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "response_format",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "p",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "thinking",
    "stream",
];

fn text_of(parts: &[ContentPart]) -> String {
    let mut out = String::new();
    for part in parts {
        if let ContentPart::Text { text } | ContentPart::Refusal { text } = part {
            out.push_str(text);
        }
    }
    out
}

fn reasoning_of(parts: &[ContentPart]) -> Option<String> {
    let plan: String = parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Reasoning {
                text,
                redacted: None,
                origin,
                ..
            } if ContentPart::reasoning_origin_compatible(origin.as_deref(), ORIGIN) => {
                Some(text.as_str())
            }
            _ => None,
        })
        .collect();
    (!plan.is_empty()).then_some(plan)
}

fn user_content(parts: &[ContentPart], index: usize) -> Result<Value, Error> {
    if parts.iter().all(|p| matches!(p, ContentPart::Text { .. })) {
        return Ok(Value::String(text_of(parts)));
    }
    let mut items = Vec::with_capacity(parts.len());
    for part in parts {
        match part {
            ContentPart::Text { text } => items.push(json!({"type": "text", "text": text})),
            ContentPart::Image { source, detail } => {
                let url = match source {
                    ImageSource::Url { url } => url.clone(),
                    ImageSource::Base64 { media_type, data } => {
                        format!("data:{media_type};base64,{data}")
                    }
                };
                let mut image = json!({"url": url});
                if let Some(detail) = detail {
                    image["detail"] = Value::String(detail.clone());
                }
                items.push(json!({"type": "image_url", "image_url": image}));
            }
            ContentPart::Reasoning { .. } | ContentPart::Refusal { .. } => {
                return Err(Error::invalid_param(
                    format!("messages[{index}].content"),
                    "a user message carries text and images only",
                ));
            }
        }
    }
    Ok(Value::Array(items))
}

fn wire_message(message: &Message, index: usize) -> Result<WireMessage, Error> {
    let mut wire = WireMessage {
        role: "user",
        content: None,
        tool_plan: None,
        tool_calls: Vec::new(),
        tool_call_id: None,
    };
    let no_images = |role: &str| {
        if message
            .content
            .iter()
            .any(|p| matches!(p, ContentPart::Image { .. }))
        {
            Err(Error::invalid_param(
                format!("messages[{index}].content"),
                format!("Cohere takes images in user messages only, not in `{role}` messages"),
            ))
        } else {
            Ok(())
        }
    };
    match message.role {
        Role::System | Role::Developer => {
            no_images("system")?;
            wire.role = "system";
            wire.content = Some(Value::String(text_of(&message.content)));
        }
        Role::User => {
            wire.content = Some(user_content(&message.content, index)?);
        }
        Role::Assistant => {
            no_images("assistant")?;
            wire.role = "assistant";
            let text = text_of(&message.content);
            if !text.is_empty() || message.tool_calls.is_empty() {
                wire.content = Some(Value::String(text));
            }
            if !message.tool_calls.is_empty() {
                wire.tool_plan = reasoning_of(&message.content);
            }
            wire.tool_calls = message
                .tool_calls
                .iter()
                .map(|c| WireToolCall {
                    id: c.id.clone(),
                    kind: "function".to_owned(),
                    function: WireFunctionCall {
                        name: c.name.clone(),
                        arguments: c.arguments.clone(),
                    },
                })
                .collect();
        }
        Role::Tool => {
            no_images("tool")?;
            wire.role = "tool";
            let Some(id) = &message.tool_call_id else {
                return Err(Error::invalid_param(
                    format!("messages[{index}].tool_call_id"),
                    "a tool message needs the id of the call it answers",
                ));
            };
            wire.tool_call_id = Some(id.clone());
            wire.content = Some(Value::String(text_of(&message.content)));
        }
    }
    Ok(wire)
}

/// The Chat v2 body for `request` (already validated by the gateway).
///
/// `top_p` → `p`, `stop` → `stop_sequences`; `tool_choice` `required` →
/// `REQUIRED`, `none` → `NONE`, a named tool → only that tool offered, with
/// `REQUIRED`; a JSON-schema format → `{type: json_object, json_schema}`;
/// `reasoning` → `thinking` (`token_budget` from `budget_tokens`). The
/// request's `extra` is passed through (`documents`, `citation_options`,
/// `safety_mode`, `k`, `strict_tools`, ...), but cannot override the fields
/// above. `user`, `metadata` and `parallel_tool_calls` have no Cohere field
/// and are not sent.
pub fn chat_body(request: &ChatRequest, stream: bool) -> Result<ChatBody<'_>, Error> {
    let messages = request
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| wire_message(m, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tools: Vec<WireTool> = request
        .tools
        .iter()
        .map(|t| WireTool {
            kind: "function",
            function: WireFunctionDef {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: t.parameters.clone(),
            },
        })
        .collect();
    let tool_choice = match &request.tool_choice {
        None | Some(ToolChoice::Auto) => None,
        Some(ToolChoice::None) => Some("NONE"),
        Some(ToolChoice::Required) => Some("REQUIRED"),
        Some(ToolChoice::Tool(name)) => {
            tools.retain(|t| &t.function.name == name);
            if tools.is_empty() {
                return Err(Error::invalid_param(
                    "tool_choice",
                    format!("`tool_choice` names `{name}`, which is not among the tools"),
                ));
            }
            Some("REQUIRED")
        }
    };
    let response_format = request.response_format.as_ref().map(|f| match f {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema { schema, .. } => {
            json!({"type": "json_object", "json_schema": schema})
        }
    });
    let thinking = request.reasoning.as_ref().map(|r| {
        let mut t = json!({"type": "enabled"});
        if let Some(budget) = r.budget_tokens {
            t["token_budget"] = Value::from(budget);
        }
        t
    });
    let mut extra = Map::new();
    for (key, value) in &request.extra {
        if OWN_FIELDS.contains(&key.as_str()) {
            return Err(Error::invalid_param(
                format!("extra.{key}"),
                format!("`{key}` is set from the request itself, not from `extra`"),
            ));
        }
        extra.insert(key.clone(), value.clone());
    }
    Ok(ChatBody {
        model: &request.model,
        messages,
        tools,
        tool_choice,
        response_format,
        max_tokens: request.max_tokens,
        stop_sequences: request.stop.clone(),
        temperature: request.temperature,
        p: request.top_p,
        seed: request.seed,
        frequency_penalty: request.frequency_penalty,
        presence_penalty: request.presence_penalty,
        thinking,
        stream,
        extra,
    })
}

/// Cohere's finish reason: `COMPLETE` and `STOP_SEQUENCE` → stop,
/// `MAX_TOKENS` → length, `TOOL_CALL` → tool calls, others kept verbatim.
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Usage from `tokens` (what the model processed), falling back to
/// `billed_units` when absent.
pub fn usage(wire: &WireUsage) -> Usage {
    let counts: TokenCounts = wire.tokens.or(wire.billed_units).unwrap_or_default();
    Usage::new(counts.input_tokens, counts.output_tokens)
}

/// A Chat v2 answer as a core response. Text items → text parts; `thinking`
/// items and `tool_plan` → reasoning parts (origin `cohere`); citations →
/// `extra["citations"]`; billed units → `extra["billed_units"]`; other
/// top-level fields (`logprobs`) → `extra` under their names.
pub fn response(answer: ChatAnswer, model: &str) -> Result<ChatResponse, Error> {
    let mut content = Vec::new();
    let reasoning = |text: String| ContentPart::Reasoning {
        text,
        signature: None,
        redacted: None,
        origin: Some(ORIGIN.to_owned()),
    };
    if let Some(plan) = answer.message.tool_plan.filter(|p| !p.is_empty()) {
        content.push(reasoning(plan));
    }
    for item in answer.message.content {
        let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
        match item.get("type").and_then(Value::as_str) {
            Some("text") => content.push(ContentPart::text(text("text").unwrap_or_default())),
            Some("thinking") => content.push(reasoning(text("thinking").unwrap_or_default())),
            _ => {}
        }
    }
    let tool_calls = answer
        .message
        .tool_calls
        .into_iter()
        .map(|c| ToolCall {
            id: c.id,
            name: c.function.name,
            arguments: c.function.arguments,
        })
        .collect();
    let mut extra = answer.extra;
    if let Some(citations) = answer.message.citations.filter(|c| !c.is_null()) {
        extra.insert(CITATIONS.into(), citations);
    }
    let wire_usage = answer.usage.unwrap_or_default();
    if let Some(billed) = wire_usage.billed_units {
        extra.insert(BILLED_UNITS.into(), json!(billed));
    }
    let finish = answer.finish_reason.as_deref().unwrap_or("COMPLETE");
    Ok(ChatResponse {
        id: answer.id,
        model: model.to_owned(),
        provider: String::new(),
        created: 0,
        content,
        tool_calls,
        finish_reason: finish_reason(finish),
        usage: usage(&wire_usage),
        extra,
    })
}
