//! Wire → core: an Anthropic Messages request received by the gateway
//! (`POST /v1/messages`), as a [`ChatRequest`].

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, Error};

use super::to_wire::{DEFAULT_SCHEMA_NAME, RequestOptions, to_wire_request};
use crate::anthropic::origin::untag_signature;
use crate::anthropic::types::{
    ContentBlock, ImageSource, InputMessage, MessageContent, MessagesRequest, SystemPrompt, Tool,
    ToolChoice, ToolResultContent,
};

/// A message received on the Anthropic-compatible API: the core request plus
/// `stream`, which is not part of it (whether to stream is decided by
/// calling `chat` or `chat_stream`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundMessagesRequest {
    /// The request in core terms.
    pub request: ChatRequest,
    /// The `stream` field as sent.
    pub stream: Option<bool>,
}

impl InboundMessagesRequest {
    /// Whether the client asked for a streamed answer.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Writes the request back in wire form, `stream` included.
    pub fn to_wire(&self, opts: &RequestOptions) -> Result<MessagesRequest<'_>, Error> {
        let mut wire = to_wire_request(&self.request, opts)?;
        wire.stream = self.stream;
        Ok(wire)
    }
}

/// Parses an Anthropic Messages request body (the gateway's inbound
/// `POST /v1/messages`).
///
/// A malformed body is an [`InvalidRequest`](sb::ErrorKind::InvalidRequest)
/// error whose `param` is the JSON path of the bad value (`max_tokens`,
/// `messages[0].content`, ...). The request is converted but not
/// [validated](ChatRequest::validate); the caller does that.
pub fn parse_messages_request(body: &[u8]) -> Result<InboundMessagesRequest, Error> {
    let wire: MessagesRequest<'_> = crate::parse_inbound(body).map_err(explain_shapes)?;
    from_wire_request(wire)
}

/// Replaces serde's "did not match any variant of untagged enum X" for the
/// Anthropic types with what the field accepts.
fn explain_shapes(err: Error) -> Error {
    const SHAPES: &[(&str, &str)] = &[
        (
            "untagged enum SystemPrompt",
            "expected a string or an array of text blocks",
        ),
        (
            "untagged enum ToolResultContent",
            "expected a string or an array of content blocks",
        ),
        (
            "untagged enum MessageContent",
            "expected a string or an array of content blocks",
        ),
    ];
    let message = err.message();
    // The shared parser already explains `MessageContent` in OpenAI's words.
    if message.contains("an array of content parts") {
        let text = message.replace("an array of content parts", "an array of content blocks");
        let rebuilt = Error::new(err.kind().clone(), text);
        return match err.param() {
            Some(p) => rebuilt.with_param(p.to_owned()),
            None => rebuilt,
        };
    }
    for (needle, replacement) in SHAPES {
        if let Some(at) = message.find(needle) {
            let rest = message[at + needle.len()..].trim_start();
            let text = format!("{}{replacement} {rest}", &message[..at]);
            let text = text.replace("data did not match any variant of ", "");
            let rebuilt = Error::new(err.kind().clone(), text.trim_end().to_owned());
            return match err.param() {
                Some(p) => rebuilt.with_param(p.to_owned()),
                None => rebuilt,
            };
        }
    }
    err
}

/// Fields of blocks the core has no place for and that are accepted and
/// dropped: prompt-cache breakpoints, citations, and the `caller` the API
/// adds to `tool_use` blocks.
const DROPPED_BLOCK_FIELDS: &[&str] = &["cache_control", "citations", "caller"];

/// Unknown fields: `null` and [`DROPPED_BLOCK_FIELDS`] are accepted, anything
/// else is an error naming the field (it would otherwise be lost).
fn reject_unknown(extra: &Map<String, Value>, path: &str) -> Result<(), Error> {
    for (k, v) in extra {
        if v.is_null() || DROPPED_BLOCK_FIELDS.contains(&k.as_str()) {
            continue;
        }
        return Err(
            Error::unsupported(format!("`{k}` is not supported in `{path}`"))
                .with_param(format!("{path}.{k}")),
        );
    }
    Ok(())
}

/// Converts an Anthropic request into a core request. The mapping rules are
/// listed in the [module docs](crate::anthropic).
pub fn from_wire_request(wire: MessagesRequest<'_>) -> Result<InboundMessagesRequest, Error> {
    let MessagesRequest {
        model,
        max_tokens,
        system,
        messages,
        metadata,
        stop_sequences,
        stream,
        temperature,
        top_p,
        top_k,
        tools,
        tool_choice,
        thinking,
        output_config,
        extra: wire_extra,
    } = wire;
    let mut extra = Map::new();
    let mut core_messages = Vec::with_capacity(messages.len() + 1);
    match system {
        None => {}
        Some(SystemPrompt::Text(text)) => core_messages.push(sb::Message::system(text)),
        Some(SystemPrompt::Blocks(blocks)) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, block) in blocks.into_iter().enumerate() {
                let path = format!("system[{j}]");
                if block.kind != "text" {
                    return Err(Error::invalid_param(
                        format!("{path}.type"),
                        format!("system blocks must be `text`, not `{}`", block.kind),
                    ));
                }
                reject_unknown(&block.extra, &path)?;
                parts.push(sb::ContentPart::text(block.text));
            }
            if !parts.is_empty() {
                core_messages.push(sb::Message {
                    role: sb::Role::System,
                    content: parts,
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                    name: None,
                    is_error: false,
                });
            }
        }
    }
    for (i, m) in messages.into_iter().enumerate() {
        message_from_wire(m, i, &mut core_messages)?;
    }
    let mut core_tools = Vec::new();
    for (i, t) in tools.into_iter().flatten().enumerate() {
        core_tools.push(tool_from_wire(t, i)?);
    }
    let (tool_choice, parallel_tool_calls) = match tool_choice {
        None => (None, None),
        Some(choice) => tool_choice_from_wire(choice)?,
    };
    let reasoning = match thinking {
        None => None,
        Some(t) if t.kind == "enabled" && t.extra.is_empty() => Some(sb::Reasoning {
            effort: None,
            budget_tokens: t.budget_tokens,
        }),
        Some(t) if t.kind == "disabled" && t.extra.is_empty() => None,
        Some(other) => {
            extra.insert(
                "thinking".into(),
                serde_json::to_value(&other).unwrap_or(Value::Null),
            );
            None
        }
    };
    let mut response_format = None;
    if let Some(config) = output_config {
        if let Some(format) = config.format {
            if format.kind != "json_schema" {
                return Err(Error::unsupported(format!(
                    "output_config.format of type `{}` is not supported",
                    format.kind
                ))
                .with_param("output_config.format.type"));
            }
            reject_unknown(&format.extra, "output_config.format")?;
            let Some(schema) = format.schema else {
                return Err(Error::invalid_param(
                    "output_config.format.schema",
                    "a `json_schema` format needs its `schema`",
                ));
            };
            response_format = Some(sb::ResponseFormat::JsonSchema {
                name: DEFAULT_SCHEMA_NAME.to_owned(),
                description: None,
                schema: schema.into_owned(),
                strict: None,
            });
        }
        if !config.extra.is_empty() {
            extra.insert("output_config".into(), Value::Object(config.extra));
        }
    }
    let user = match metadata {
        None => None,
        Some(m) => {
            reject_unknown(&m.extra, "metadata")?;
            m.user_id.map(Cow::into_owned)
        }
    };
    if let Some(k) = top_k {
        extra.insert("top_k".into(), Value::from(k));
    }
    for (k, v) in wire_extra {
        extra.insert(k, v);
    }
    let request = ChatRequest {
        model: model.into_owned(),
        messages: core_messages,
        temperature,
        top_p,
        max_tokens: Some(max_tokens),
        stop: stop_sequences
            .into_iter()
            .flatten()
            .map(Cow::into_owned)
            .collect(),
        seed: None,
        presence_penalty: None,
        frequency_penalty: None,
        tools: core_tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        reasoning,
        user,
        metadata: Default::default(),
        extra,
    };
    Ok(InboundMessagesRequest { request, stream })
}

fn image_from_wire(source: ImageSource<'_>, path: &str) -> Result<sb::ContentPart, Error> {
    let source = match source {
        ImageSource::Base64 { media_type, data } => sb::ImageSource::Base64 {
            media_type: media_type.into_owned(),
            data: data.into_owned(),
        },
        ImageSource::Url { url } => sb::ImageSource::Url {
            url: url.into_owned(),
        },
        ImageSource::Other(map) => {
            let kind = map
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("(missing)");
            return Err(Error::unsupported(format!(
                "image sources of type `{kind}` are not supported; send base64 data or a URL"
            ))
            .with_param(format!("{path}.source")));
        }
    };
    Ok(sb::ContentPart::Image {
        source,
        detail: None,
    })
}

fn unsupported_block(block: &ContentBlock<'_>, path: String, role: &str) -> Error {
    let kind = block.kind();
    let kind = if kind.is_empty() { "(missing)" } else { kind };
    let known = matches!(
        block,
        ContentBlock::Text { .. }
            | ContentBlock::Image { .. }
            | ContentBlock::ToolUse { .. }
            | ContentBlock::ToolResult { .. }
            | ContentBlock::Thinking { .. }
            | ContentBlock::RedactedThinking { .. }
    );
    if known {
        Error::invalid_param(
            path,
            format!("a `{kind}` block cannot be in a {role} message"),
        )
    } else {
        Error::unsupported(format!(
            "content blocks of type `{kind}` are not supported (or the block is malformed)"
        ))
        .with_param(path)
    }
}

fn new_message(role: sb::Role, content: Vec<sb::ContentPart>) -> sb::Message {
    sb::Message {
        role,
        content,
        tool_calls: Vec::new(),
        tool_call_id: None,
        name: None,
        is_error: false,
    }
}

fn message_from_wire(
    m: InputMessage<'_>,
    i: usize,
    out: &mut Vec<sb::Message>,
) -> Result<(), Error> {
    reject_unknown(&m.extra, &format!("messages[{i}]"))?;
    let blocks = match m.content {
        MessageContent::Text(text) => vec![ContentBlock::Text {
            text,
            extra: Map::new(),
        }],
        MessageContent::Blocks(blocks) => blocks,
    };
    match &*m.role {
        "user" => {
            let mut parts = Vec::new();
            for (j, block) in blocks.into_iter().enumerate() {
                let path = format!("messages[{i}].content[{j}]");
                match block {
                    ContentBlock::Text { text, extra } => {
                        reject_unknown(&extra, &path)?;
                        parts.push(sb::ContentPart::text(text));
                    }
                    ContentBlock::Image { source, extra } => {
                        reject_unknown(&extra, &path)?;
                        parts.push(image_from_wire(source, &path)?);
                    }
                    ContentBlock::ToolResult {
                        tool_use_id,
                        content,
                        is_error,
                        extra,
                    } => {
                        reject_unknown(&extra, &path)?;
                        if !parts.is_empty() {
                            out.push(new_message(sb::Role::User, std::mem::take(&mut parts)));
                        }
                        let content = match content {
                            None => Vec::new(),
                            Some(ToolResultContent::Text(text)) => {
                                vec![sb::ContentPart::text(text)]
                            }
                            Some(ToolResultContent::Blocks(blocks)) => {
                                let mut content = Vec::with_capacity(blocks.len());
                                for (k, block) in blocks.into_iter().enumerate() {
                                    let path = format!("{path}.content[{k}]");
                                    match block {
                                        ContentBlock::Text { text, extra } => {
                                            reject_unknown(&extra, &path)?;
                                            content.push(sb::ContentPart::text(text));
                                        }
                                        ContentBlock::Image { source, extra } => {
                                            reject_unknown(&extra, &path)?;
                                            content.push(image_from_wire(source, &path)?);
                                        }
                                        other => {
                                            return Err(unsupported_block(
                                                &other,
                                                path,
                                                "tool result",
                                            ));
                                        }
                                    }
                                }
                                content
                            }
                        };
                        let mut message = new_message(sb::Role::Tool, content);
                        message.tool_call_id = Some(tool_use_id.into_owned());
                        message.is_error = is_error == Some(true);
                        out.push(message);
                    }
                    other => return Err(unsupported_block(&other, path, "user")),
                }
            }
            if !parts.is_empty() {
                out.push(new_message(sb::Role::User, parts));
            }
        }
        "assistant" => {
            let mut message = new_message(sb::Role::Assistant, Vec::new());
            for (j, block) in blocks.into_iter().enumerate() {
                let path = format!("messages[{i}].content[{j}]");
                match block {
                    ContentBlock::Text { text, extra } => {
                        reject_unknown(&extra, &path)?;
                        message.content.push(sb::ContentPart::text(text));
                    }
                    ContentBlock::Thinking {
                        thinking,
                        signature,
                        extra,
                    } => {
                        reject_unknown(&extra, &path)?;
                        // A signature the gateway tagged with another origin
                        // gets that origin back (see `untag_signature`).
                        let (signature, origin) = if signature.is_empty() {
                            (None, None)
                        } else {
                            let (origin, raw) = untag_signature(&signature);
                            (Some(raw.to_owned()), Some(origin.to_owned()))
                        };
                        message.content.push(sb::ContentPart::Reasoning {
                            text: thinking.into_owned(),
                            signature,
                            redacted: None,
                            origin,
                        });
                    }
                    ContentBlock::RedactedThinking { data, extra } => {
                        reject_unknown(&extra, &path)?;
                        let (origin, raw) = untag_signature(&data);
                        message.content.push(sb::ContentPart::Reasoning {
                            text: String::new(),
                            signature: None,
                            redacted: Some(raw.to_owned()),
                            origin: Some(origin.to_owned()),
                        });
                    }
                    ContentBlock::ToolUse {
                        id,
                        name,
                        input,
                        extra,
                    } => {
                        reject_unknown(&extra, &path)?;
                        message.tool_calls.push(sb::ToolCall {
                            id: id.into_owned(),
                            name: name.into_owned(),
                            arguments: input.to_string(),
                        });
                    }
                    other => return Err(unsupported_block(&other, path, "assistant")),
                }
            }
            out.push(message);
        }
        other => {
            return Err(Error::invalid_param(
                format!("messages[{i}].role"),
                format!(
                    "unknown role `{other}`; expected user or assistant (the system prompt is the top-level `system`)"
                ),
            ));
        }
    }
    Ok(())
}

fn tool_from_wire(t: Tool<'_>, i: usize) -> Result<sb::Tool, Error> {
    let path = format!("tools[{i}]");
    if !t.is_custom() {
        return Err(Error::unsupported(format!(
            "server tools (`{}`) are not supported; only custom tools with an `input_schema` are",
            t.kind.as_deref().unwrap_or_default()
        ))
        .with_param(format!("{path}.type")));
    }
    reject_unknown(&t.extra, &path)?;
    Ok(sb::Tool {
        name: t.name.into_owned(),
        description: t.description.map(Cow::into_owned),
        parameters: t.input_schema.map_or_else(
            || serde_json::json!({"type": "object", "properties": {}}),
            Cow::into_owned,
        ),
        strict: t.strict,
    })
}

type CoreToolChoice = (Option<sb::ToolChoice>, Option<bool>);

fn tool_choice_from_wire(c: ToolChoice<'_>) -> Result<CoreToolChoice, Error> {
    let parallel = |disable: Option<bool>| disable.map(|d| !d);
    Ok(match c {
        ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (
            Some(sb::ToolChoice::Auto),
            parallel(disable_parallel_tool_use),
        ),
        ToolChoice::Any {
            disable_parallel_tool_use,
        } => (
            Some(sb::ToolChoice::Required),
            parallel(disable_parallel_tool_use),
        ),
        ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            Some(sb::ToolChoice::Tool(name.into_owned())),
            parallel(disable_parallel_tool_use),
        ),
        ToolChoice::None => (Some(sb::ToolChoice::None), None),
        ToolChoice::Other(map) => {
            let kind = map
                .get("type")
                .map_or_else(|| "(missing)".to_owned(), Value::to_string);
            return Err(Error::unsupported(format!(
                "tool_choice of type {kind} is not supported (or it is malformed)"
            ))
            .with_param("tool_choice"));
        }
    })
}
