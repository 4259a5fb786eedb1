//! `ChatRequest` ⇄ OpenAI chat completion request.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, Error};

use super::types::{
    ChatCompletionRequest, ChatMessage, ContentPart, FunctionCall, FunctionDefinition,
    FunctionName, ImageUrl, JsonSchemaFormat, MessageContent, NamedToolChoice, ResponseFormat,
    Stop, StreamOptions, Tool, ToolCall, ToolChoice,
};

/// Which field carries [`ChatRequest::max_tokens`] on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MaxTokensField {
    /// `max_tokens`: understood by every OpenAI-compatible server.
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: required by OpenAI's reasoning models (o-series, gpt-5).
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

/// A chat request received on the OpenAI-compatible API: the core request
/// plus the transport settings that are not part of it.
///
/// `stream` and `stream_options` are kept out of [`ChatRequest::extra`] on
/// purpose: whether to stream is decided by calling `chat` or `chat_stream`,
/// and a `stream: true` passed through to a non-streaming call would break it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundChatRequest {
    /// The request in core terms.
    pub request: ChatRequest,
    /// The `stream` field as sent.
    pub stream: Option<bool>,
    /// The `stream_options` field as sent.
    pub stream_options: Option<StreamOptions>,
}

impl InboundChatRequest {
    /// Whether the client asked for a streamed answer.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Whether the client asked for the final usage chunk.
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// Writes the request back in wire form, `stream` settings included.
    pub fn to_wire(&self, opts: &RequestOptions) -> Result<ChatCompletionRequest<'_>, Error> {
        let mut wire = to_wire_request(&self.request, opts)?;
        wire.stream = self.stream;
        wire.stream_options.clone_from(&self.stream_options);
        Ok(wire)
    }
}

// ---------------------------------------------------------------------------
// core → wire
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// wire → core
// ---------------------------------------------------------------------------

/// Parses an OpenAI chat completion request body (the gateway's inbound API).
///
/// A malformed body is an [`InvalidRequest`](sb::ErrorKind::InvalidRequest)
/// error whose `param` is the JSON path of the bad value
/// (`messages[0].content`, `temperature`, ...). The request is converted but
/// not [validated](ChatRequest::validate); the caller does that.
pub fn parse_chat_request(body: &[u8]) -> Result<InboundChatRequest, Error> {
    let wire: ChatCompletionRequest<'_> = crate::parse_inbound(body)?;
    from_wire_request(wire)
}

/// Converts an OpenAI request into a core request.
///
/// - `max_completion_tokens` or `max_tokens` → `max_tokens` (both given with
///   different values is an error).
/// - `reasoning_effort` `minimal`/`low`/`medium`/`high` → `reasoning.effort`;
///   another string is kept in `extra` so newer values pass through.
/// - `n`, `logprobs`, `top_logprobs` and every unknown top-level field → `extra`.
/// - `stream` and `stream_options` → [`InboundChatRequest`]'s own fields.
/// - A `data:` image URL of the form `data:<type>;base64,<data>` becomes a
///   base64 image (so it can reach providers that only take base64); other URLs stay URLs.
/// - A message's `reasoning_content` (or `reasoning`) becomes a leading
///   reasoning part, its `refusal` a trailing refusal part.
///
/// Values the core cannot represent are errors naming the field: unknown
/// roles, `input_audio` and other part types, non-function tools and tool
/// calls, unknown fields inside messages and parts (`null`s and
/// `annotations` are accepted and ignored), unknown `tool_choice` or
/// `response_format` shapes.
pub fn from_wire_request(wire: ChatCompletionRequest<'_>) -> Result<InboundChatRequest, Error> {
    let ChatCompletionRequest {
        model,
        messages,
        temperature,
        top_p,
        max_tokens,
        max_completion_tokens,
        stop,
        seed,
        presence_penalty,
        frequency_penalty,
        n,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        reasoning_effort,
        stream,
        stream_options,
        user,
        metadata,
        logprobs,
        top_logprobs,
        extra: wire_extra,
    } = wire;

    let mut extra = Map::new();
    let max_tokens = match (max_tokens, max_completion_tokens) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::invalid_param(
                "max_completion_tokens",
                format!(
                    "`max_tokens` ({a}) and `max_completion_tokens` ({b}) disagree; send one of them"
                ),
            ));
        }
        (a, b) => b.or(a),
    };
    let reasoning = match reasoning_effort {
        None => None,
        Some(effort) => match parse_effort(&effort) {
            Some(e) => Some(sb::Reasoning {
                effort: Some(e),
                budget_tokens: None,
            }),
            None => {
                extra.insert(
                    "reasoning_effort".into(),
                    Value::String(effort.into_owned()),
                );
                None
            }
        },
    };
    if let Some(n) = n {
        extra.insert("n".into(), Value::from(n));
    }
    if let Some(l) = logprobs {
        extra.insert("logprobs".into(), Value::Bool(l));
    }
    if let Some(t) = top_logprobs {
        extra.insert("top_logprobs".into(), Value::from(t));
    }
    for (k, v) in wire_extra {
        extra.insert(k, v);
    }

    let mut core_messages = Vec::with_capacity(messages.len());
    for (i, m) in messages.into_iter().enumerate() {
        core_messages.push(message_from_wire(m, i)?);
    }
    let mut core_tools = Vec::new();
    for (i, t) in tools.into_iter().flatten().enumerate() {
        core_tools.push(tool_from_wire(t, i)?);
    }

    let request = ChatRequest {
        model: model.into_owned(),
        messages: core_messages,
        temperature,
        top_p,
        max_tokens,
        stop: match stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.into_owned()],
            Some(Stop::Many(v)) => v.into_iter().map(Cow::into_owned).collect(),
        },
        seed,
        presence_penalty,
        frequency_penalty,
        tools: core_tools,
        tool_choice: tool_choice.map(tool_choice_from_wire).transpose()?,
        parallel_tool_calls,
        response_format: response_format.map(response_format_from_wire).transpose()?,
        reasoning,
        user: user.map(Cow::into_owned),
        metadata: metadata.map(Cow::into_owned).unwrap_or_default(),
        extra,
    };
    Ok(InboundChatRequest {
        request,
        stream,
        stream_options,
    })
}

fn parse_effort(s: &str) -> Option<sb::ReasoningEffort> {
    Some(match s {
        "minimal" => sb::ReasoningEffort::Minimal,
        "low" => sb::ReasoningEffort::Low,
        "medium" => sb::ReasoningEffort::Medium,
        "high" => sb::ReasoningEffort::High,
        _ => return None,
    })
}

fn parse_role(role: &str, i: usize) -> Result<sb::Role, Error> {
    Ok(match role {
        "system" => sb::Role::System,
        "developer" => sb::Role::Developer,
        "user" => sb::Role::User,
        "assistant" => sb::Role::Assistant,
        "tool" => sb::Role::Tool,
        "function" => {
            return Err(Error::invalid_param(
                format!("messages[{i}].role"),
                "the deprecated `function` role is not supported; use `tool` messages",
            ));
        }
        other => {
            return Err(Error::invalid_param(
                format!("messages[{i}].role"),
                format!(
                    "unknown role `{other}`; expected system, developer, user, assistant or tool"
                ),
            ));
        }
    })
}

/// Unknown fields inside a message or part: `null` is accepted (clients that
/// replay response messages send `function_call: null`, `audio: null`), so
/// are the names in `ignored`; anything else is an error naming the field.
fn reject_unknown(extra: &Map<String, Value>, path: &str, ignored: &[&str]) -> Result<(), Error> {
    for (k, v) in extra {
        if v.is_null() || ignored.contains(&k.as_str()) {
            continue;
        }
        return Err(
            Error::unsupported(format!("`{k}` is not supported in `{path}`"))
                .with_param(format!("{path}.{k}")),
        );
    }
    Ok(())
}

fn message_from_wire(m: ChatMessage<'_>, i: usize) -> Result<sb::Message, Error> {
    let role = parse_role(&m.role, i)?;
    let mut content = Vec::new();
    let mut extra = m.extra;
    let reasoning = match (extra.remove("reasoning_content"), extra.remove("reasoning")) {
        (Some(Value::String(s)), _) | (_, Some(Value::String(s))) => Some(s),
        _ => None,
    };
    reject_unknown(&extra, &format!("messages[{i}]"), &["annotations"])?;
    if let Some(text) = reasoning {
        content.push(sb::ContentPart::Reasoning {
            text,
            signature: None,
            redacted: None,
            origin: None,
        });
    }
    match m.content {
        None => {}
        Some(MessageContent::Text(text)) => content.push(sb::ContentPart::Text {
            text: text.into_owned(),
        }),
        Some(MessageContent::Parts(parts)) => {
            for (j, part) in parts.into_iter().enumerate() {
                content.push(part_from_wire(part, i, j)?);
            }
        }
    }
    if let Some(refusal) = m.refusal {
        content.push(sb::ContentPart::Refusal {
            text: refusal.into_owned(),
        });
    }
    let mut tool_calls = Vec::new();
    for (j, call) in m.tool_calls.into_iter().flatten().enumerate() {
        let path = format!("messages[{i}].tool_calls[{j}]");
        if call.kind != "function" {
            return Err(Error::unsupported(format!(
                "tool calls of type `{}` are not supported",
                call.kind
            ))
            .with_param(format!("{path}.type")));
        }
        reject_unknown(&call.extra, &path, &[])?;
        tool_calls.push(sb::ToolCall {
            id: call.id.into_owned(),
            name: call.function.name.into_owned(),
            arguments: call.function.arguments.into_owned(),
        });
    }
    Ok(sb::Message {
        role,
        content,
        tool_calls,
        tool_call_id: m.tool_call_id.map(Cow::into_owned),
        name: m.name.map(Cow::into_owned),
        // OpenAI tool messages have no error flag.
        is_error: false,
    })
}

/// Splits `data:<media type>;base64,<data>` into its parts; anything else
/// (other parameters, no base64) is `None` and stays a URL, so the URL can be
/// rebuilt byte for byte.
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    if media_type.is_empty() || media_type.contains(';') || media_type.contains(',') {
        return None;
    }
    Some((media_type, data))
}

fn part_from_wire(part: ContentPart<'_>, i: usize, j: usize) -> Result<sb::ContentPart, Error> {
    let path = format!("messages[{i}].content[{j}]");
    match part {
        ContentPart::Text { text, extra } => {
            reject_unknown(&extra, &path, &[])?;
            Ok(sb::ContentPart::Text {
                text: text.into_owned(),
            })
        }
        ContentPart::ImageUrl { image_url, extra } => {
            reject_unknown(&extra, &path, &[])?;
            reject_unknown(&image_url.extra, &format!("{path}.image_url"), &[])?;
            let source = match parse_data_url(&image_url.url) {
                Some((media_type, data)) => sb::ImageSource::Base64 {
                    media_type: media_type.to_owned(),
                    data: data.to_owned(),
                },
                None => sb::ImageSource::Url {
                    url: image_url.url.into_owned(),
                },
            };
            Ok(sb::ContentPart::Image {
                source,
                detail: image_url.detail.map(Cow::into_owned),
            })
        }
        ContentPart::Refusal { refusal } => Ok(sb::ContentPart::Refusal {
            text: refusal.into_owned(),
        }),
        ContentPart::InputAudio { .. } => Err(Error::unsupported(
            "audio input (`input_audio` content parts) is not supported",
        )
        .with_param(path)),
        ContentPart::Other(map) => {
            let kind = match map.get("type") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => "(missing)".to_owned(),
            };
            Err(Error::unsupported(format!(
                "content parts of type `{kind}` are not supported (or the part is malformed)"
            ))
            .with_param(path))
        }
    }
}

fn tool_from_wire(t: Tool<'_>, i: usize) -> Result<sb::Tool, Error> {
    let path = format!("tools[{i}]");
    if t.kind != "function" {
        return Err(Error::unsupported(format!(
            "tools of type `{}` are not supported; only `function` tools are",
            t.kind
        ))
        .with_param(format!("{path}.type")));
    }
    reject_unknown(&t.extra, &path, &[])?;
    let Some(f) = t.function else {
        return Err(Error::invalid_param(
            format!("{path}.function"),
            "a function tool needs its `function` definition",
        ));
    };
    reject_unknown(&f.extra, &format!("{path}.function"), &[])?;
    Ok(sb::Tool {
        name: f.name.into_owned(),
        description: f.description.map(Cow::into_owned),
        parameters: f.parameters.map_or_else(
            || serde_json::json!({"type": "object", "properties": {}}),
            Cow::into_owned,
        ),
        strict: f.strict,
    })
}

fn tool_choice_from_wire(c: ToolChoice<'_>) -> Result<sb::ToolChoice, Error> {
    match c {
        ToolChoice::Mode(mode) => match &*mode {
            "auto" => Ok(sb::ToolChoice::Auto),
            "none" => Ok(sb::ToolChoice::None),
            "required" => Ok(sb::ToolChoice::Required),
            other => Err(Error::invalid_param(
                "tool_choice",
                format!(
                    "unknown tool_choice `{other}`; expected none, auto, required or a function"
                ),
            )),
        },
        ToolChoice::Named(named) if named.kind == "function" => {
            Ok(sb::ToolChoice::Tool(named.function.name.into_owned()))
        }
        ToolChoice::Named(named) => Err(Error::unsupported(format!(
            "tool_choice of type `{}` is not supported",
            named.kind
        ))
        .with_param("tool_choice")),
        ToolChoice::Other(v) => Err(Error::unsupported(format!(
            "this tool_choice is not supported: {v}"
        ))
        .with_param("tool_choice")),
    }
}

fn response_format_from_wire(f: ResponseFormat<'_>) -> Result<sb::ResponseFormat, Error> {
    match f {
        ResponseFormat::Text => Ok(sb::ResponseFormat::Text),
        ResponseFormat::JsonObject => Ok(sb::ResponseFormat::JsonObject),
        ResponseFormat::JsonSchema { json_schema } => {
            reject_unknown(&json_schema.extra, "response_format.json_schema", &[])?;
            Ok(sb::ResponseFormat::JsonSchema {
                name: json_schema.name.into_owned(),
                description: json_schema.description.map(Cow::into_owned),
                schema: json_schema.schema.map_or(Value::Null, Cow::into_owned),
                strict: json_schema.strict,
            })
        }
        ResponseFormat::Other(map) => {
            let kind = map
                .get("type")
                .map_or_else(|| "(missing)".to_owned(), Value::to_string);
            Err(Error::unsupported(format!(
                "response_format of type {kind} is not supported (or it is malformed)"
            ))
            .with_param("response_format"))
        }
    }
}
