//! Wire → core: an OpenAI chat completion request received by the gateway,
//! as a [`ChatRequest`].

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, Error};

use super::to_wire::{RequestOptions, to_wire_request};
use crate::openai::types::{
    ChatCompletionRequest, ChatMessage, ContentPart, MessageContent, ResponseFormat, Stop,
    StreamOptions, Tool, ToolChoice,
};

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
