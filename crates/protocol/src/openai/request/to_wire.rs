//! Core → wire: a [`ChatRequest`] as an OpenAI chat completion request
//! (what providers send upstream).

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, Error};

use crate::openai::types::{
    ChatCompletionRequest, ChatMessage, ContentPart, FunctionCall, FunctionDefinition,
    FunctionName, ImageUrl, JsonSchemaFormat, MessageContent, NamedToolChoice, ResponseFormat,
    Stop, Tool, ToolCall, ToolChoice,
};

/// Which wire field carries the request's `max_tokens`.
// The derives and the doc texts make the JSON schema the one the
// `openai-compatible` config had with its own `TokenField` (same name, same
// descriptions), so configs can use this type without a schema change.
// Serialized as `max_tokens` / `max_completion_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TokenField")]
pub enum MaxTokensField {
    /// `max_tokens` (every compatible server knows it).
    #[default]
    MaxTokens,
    /// `max_completion_tokens` (OpenAI's newer name).
    MaxCompletionTokens,
}

/// How [`to_wire_request`] writes a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// The field for the output token limit.
    pub max_tokens_field: MaxTokensField,
    /// Send the reasoning parts of assistant messages back as
    /// `reasoning_content` (for servers that want it). Off by default:
    /// OpenAI has no input field for reasoning and DeepSeek rejects it, so
    /// reasoning parts are left out of the wire request.
    pub reasoning_content: bool,
}

impl RequestOptions {
    /// Writes the token limit as `max_completion_tokens`.
    #[must_use]
    pub fn max_completion_tokens(mut self) -> Self {
        self.max_tokens_field = MaxTokensField::MaxCompletionTokens;
        self
    }

    /// Sends assistant reasoning back as `reasoning_content`.
    #[must_use]
    pub fn with_reasoning_content(mut self) -> Self {
        self.reasoning_content = true;
        self
    }
}

/// Converts a core request into an OpenAI request, borrowing from it.
///
/// - `reasoning.effort` becomes `reasoning_effort`; a `budget_tokens` without
///   an effort is mapped to an effort (≤ 1024 `low`, ≤ 8192 `medium`, more `high`).
/// - `max_tokens` goes to the field chosen in `opts`.
/// - `extra` entries are merged into the top level. Entries naming a wire
///   field the core request has no field for (`max_completion_tokens`,
///   `reasoning_effort`, `n`, `logprobs`, `top_logprobs`) fill that field;
///   entries that duplicate a typed core field, or `stream`/`stream_options`
///   (the caller decides streaming, see [`ChatCompletionRequest::streaming`]),
///   are an [`InvalidRequest`](sb::ErrorKind::InvalidRequest) error naming `extra.<key>`.
/// - Reasoning parts of assistant messages are left out unless
///   [`RequestOptions::reasoning_content`] is set, and then only their text
///   is sent, whatever their origin: signatures and encrypted reasoning are
///   never sent in this format. Refusal parts become the message's `refusal`.
/// - Tool messages have no error flag here: an `is_error` result is sent
///   as an ordinary result (its text says what failed).
pub fn to_wire_request<'a>(
    req: &'a ChatRequest,
    opts: &RequestOptions,
) -> Result<ChatCompletionRequest<'a>, Error> {
    let mut messages = Vec::with_capacity(req.messages.len());
    for message in &req.messages {
        messages.push(message_to_wire(message, opts));
    }
    let (max_tokens, max_completion_tokens) = match opts.max_tokens_field {
        MaxTokensField::MaxTokens => (req.max_tokens, None),
        MaxTokensField::MaxCompletionTokens => (None, req.max_tokens),
    };
    let mut wire = ChatCompletionRequest {
        model: Cow::Borrowed(&req.model),
        messages,
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens,
        max_completion_tokens,
        stop: (!req.stop.is_empty())
            .then(|| Stop::Many(req.stop.iter().map(|s| Cow::Borrowed(s.as_str())).collect())),
        seed: req.seed,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        tools: (!req.tools.is_empty()).then(|| req.tools.iter().map(tool_to_wire).collect()),
        tool_choice: req.tool_choice.as_ref().map(tool_choice_to_wire),
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: req.response_format.as_ref().map(response_format_to_wire),
        reasoning_effort: req.reasoning.as_ref().and_then(effort_to_wire),
        user: req.user.as_deref().map(Cow::Borrowed),
        metadata: (!req.metadata.is_empty()).then_some(Cow::Borrowed(&req.metadata)),
        ..Default::default()
    };
    absorb_extra(&mut wire, &req.extra)?;
    Ok(wire)
}

fn effort_to_wire(r: &sb::Reasoning) -> Option<Cow<'static, str>> {
    let effort = match (r.effort, r.budget_tokens) {
        (Some(e), _) => e,
        (None, Some(b)) if b <= 1024 => sb::ReasoningEffort::Low,
        (None, Some(b)) if b <= 8192 => sb::ReasoningEffort::Medium,
        (None, Some(_)) => sb::ReasoningEffort::High,
        (None, None) => return None,
    };
    Some(Cow::Borrowed(effort.as_str()))
}

/// Core fields that must not also be given through `extra`.
const TYPED_CORE_FIELDS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "user",
    "metadata",
];

fn extra_u32(key: &str, value: &Value) -> Result<u32, Error> {
    value
        .as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            Error::invalid_param(
                format!("extra.{key}"),
                format!("`{key}` must be a non-negative integer, got {value}"),
            )
        })
}

fn absorb_extra<'a>(
    wire: &mut ChatCompletionRequest<'a>,
    extra: &'a Map<String, Value>,
) -> Result<(), Error> {
    for (key, value) in extra {
        let conflict = || {
            Error::invalid_param(
                format!("extra.{key}"),
                format!("`{key}` is given both as a request field and in `extra`"),
            )
        };
        match key.as_str() {
            k if TYPED_CORE_FIELDS.contains(&k) => {
                return Err(Error::invalid_param(
                    format!("extra.{key}"),
                    format!("`{key}` has its own request field; set it there, not in `extra`"),
                ));
            }
            "stream" | "stream_options" => {
                return Err(Error::invalid_param(
                    format!("extra.{key}"),
                    format!("`{key}` is chosen by the call (chat or chat_stream), not by `extra`"),
                ));
            }
            "max_completion_tokens" => {
                if wire.max_tokens.is_some() || wire.max_completion_tokens.is_some() {
                    return Err(conflict());
                }
                wire.max_completion_tokens = Some(extra_u32(key, value)?);
            }
            "reasoning_effort" => {
                if wire.reasoning_effort.is_some() {
                    return Err(conflict());
                }
                let effort = value.as_str().ok_or_else(|| {
                    Error::invalid_param(
                        "extra.reasoning_effort",
                        "`reasoning_effort` must be a string",
                    )
                })?;
                wire.reasoning_effort = Some(Cow::Borrowed(effort));
            }
            "n" => wire.n = Some(extra_u32(key, value)?),
            "top_logprobs" => wire.top_logprobs = Some(extra_u32(key, value)?),
            "logprobs" => {
                wire.logprobs = Some(value.as_bool().ok_or_else(|| {
                    Error::invalid_param("extra.logprobs", "`logprobs` must be a boolean")
                })?);
            }
            _ => {
                wire.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

fn message_to_wire<'a>(m: &'a sb::Message, opts: &RequestOptions) -> ChatMessage<'a> {
    let mut parts: Vec<ContentPart<'a>> = Vec::with_capacity(m.content.len());
    let mut refusal: Option<Cow<'a, str>> = None;
    let mut reasoning: Option<String> = None;
    for part in &m.content {
        match part {
            sb::ContentPart::Text { text } => parts.push(ContentPart::Text {
                text: Cow::Borrowed(text),
                extra: Map::new(),
            }),
            sb::ContentPart::Image { source, detail } => {
                let url = match source {
                    sb::ImageSource::Url { url } => Cow::Borrowed(url.as_str()),
                    sb::ImageSource::Base64 { media_type, data } => {
                        Cow::Owned(format!("data:{media_type};base64,{data}"))
                    }
                };
                parts.push(ContentPart::ImageUrl {
                    image_url: ImageUrl {
                        url,
                        detail: detail.as_deref().map(Cow::Borrowed),
                        extra: Map::new(),
                    },
                    extra: Map::new(),
                });
            }
            sb::ContentPart::Refusal { text } => {
                refusal = Some(match refusal {
                    None => Cow::Borrowed(text),
                    Some(prev) => Cow::Owned(format!("{prev}{text}")),
                });
            }
            sb::ContentPart::Reasoning { text, .. } => {
                if opts.reasoning_content && !text.is_empty() {
                    reasoning.get_or_insert_with(String::new).push_str(text);
                }
            }
        }
    }
    let content = match parts.len() {
        0 if m.role == sb::Role::Assistant => None,
        0 => Some(MessageContent::Text(Cow::Borrowed(""))),
        1 if matches!(parts[0], ContentPart::Text { .. }) => match parts.pop() {
            Some(ContentPart::Text { text, .. }) => Some(MessageContent::Text(text)),
            _ => None,
        },
        _ => Some(MessageContent::Parts(parts)),
    };
    let mut extra = Map::new();
    if let Some(reasoning) = reasoning {
        extra.insert("reasoning_content".into(), Value::String(reasoning));
    }
    ChatMessage {
        role: Cow::Borrowed(m.role.as_str()),
        content,
        refusal,
        name: m.name.as_deref().map(Cow::Borrowed),
        tool_calls: (!m.tool_calls.is_empty())
            .then(|| m.tool_calls.iter().map(tool_call_to_wire).collect()),
        tool_call_id: m.tool_call_id.as_deref().map(Cow::Borrowed),
        extra,
    }
}

pub(crate) fn tool_call_to_wire(c: &sb::ToolCall) -> ToolCall<'_> {
    ToolCall {
        id: Cow::Borrowed(&c.id),
        kind: Cow::Borrowed("function"),
        function: FunctionCall {
            name: Cow::Borrowed(&c.name),
            arguments: Cow::Borrowed(&c.arguments),
        },
        extra: Map::new(),
    }
}

fn tool_to_wire(t: &sb::Tool) -> Tool<'_> {
    Tool {
        kind: Cow::Borrowed("function"),
        function: Some(FunctionDefinition {
            name: Cow::Borrowed(&t.name),
            description: t.description.as_deref().map(Cow::Borrowed),
            parameters: Some(Cow::Borrowed(&t.parameters)),
            strict: t.strict,
            extra: Map::new(),
        }),
        extra: Map::new(),
    }
}

fn tool_choice_to_wire(c: &sb::ToolChoice) -> ToolChoice<'_> {
    match c {
        sb::ToolChoice::Auto => ToolChoice::Mode(Cow::Borrowed("auto")),
        sb::ToolChoice::None => ToolChoice::Mode(Cow::Borrowed("none")),
        sb::ToolChoice::Required => ToolChoice::Mode(Cow::Borrowed("required")),
        sb::ToolChoice::Tool(name) => ToolChoice::Named(NamedToolChoice {
            kind: Cow::Borrowed("function"),
            function: FunctionName {
                name: Cow::Borrowed(name),
            },
        }),
    }
}

fn response_format_to_wire(f: &sb::ResponseFormat) -> ResponseFormat<'_> {
    match f {
        sb::ResponseFormat::Text => ResponseFormat::Text,
        sb::ResponseFormat::JsonObject => ResponseFormat::JsonObject,
        sb::ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: Cow::Borrowed(name),
                description: description.as_deref().map(Cow::Borrowed),
                schema: (!schema.is_null()).then_some(Cow::Borrowed(schema)),
                strict: *strict,
                extra: Map::new(),
            },
        },
    }
}
