//! Wire → core: a Responses API request (`POST /v1/responses`) as a
//! [`ChatRequest`], and stored input/output items as core messages.

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, ContentPart, Error, Message, Role, ToolCall};

/// The fields of a `POST /v1/responses` body the gateway reads. The
/// Responses-only fields in [`IGNORED`] are accepted and dropped; other
/// unknown fields go to [`ChatRequest::extra`], as on Chat Completions.
/// `metadata` is only echoed in (and stored with) the response.
#[derive(Debug, Deserialize)]
struct WireRequest {
    model: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    instructions: Option<String>,
    #[serde(default)]
    tools: Option<Vec<Value>>,
    #[serde(default)]
    tool_choice: Option<Value>,
    #[serde(default)]
    parallel_tool_calls: Option<bool>,
    #[serde(default)]
    text: Option<Value>,
    #[serde(default)]
    reasoning: Option<Value>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    metadata: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    store: Option<bool>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    previous_response_id: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Responses-only request fields that have no core meaning and are not
/// passed to providers.
const IGNORED: &[&str] = &[
    "include",
    "truncation",
    "service_tier",
    "background",
    "prompt_cache_key",
    "prompt_cache_retention",
    "safety_identifier",
    "stream_options",
    "max_tool_calls",
    "top_logprobs",
    "conversation",
    "prompt",
];

/// A Responses request received by the gateway: the core request (its
/// `messages` hold only `instructions` and this turn's input; a
/// `previous_response_id` conversation is prepended by the caller with
/// [`items_to_messages`]), plus what the answer echoes and what is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundResponsesRequest {
    /// The request in core terms.
    pub request: ChatRequest,
    /// Whether the client asked for a streamed answer (`stream`).
    pub stream: bool,
    /// Whether the finished response is kept for `GET` and
    /// `previous_response_id` (`store`, default `true`).
    pub store: bool,
    /// The response whose conversation this one continues.
    pub previous_response_id: Option<String>,
    /// This turn's input as items (a string input becomes one user message item).
    pub input_items: Vec<Value>,
    /// The request fields the response object repeats (`instructions`,
    /// `tools`, `tool_choice`, `text`, `reasoning`, `temperature`, ...).
    pub echo: Map<String, Value>,
}

/// Parses a `POST /v1/responses` body. A malformed body is an invalid
/// request naming the field; the request is converted but not validated.
pub fn parse_responses_request(body: &[u8]) -> Result<InboundResponsesRequest, Error> {
    let wire: WireRequest = crate::parse_inbound(body)?;
    from_wire(wire)
}

fn from_wire(wire: WireRequest) -> Result<InboundResponsesRequest, Error> {
    let input_items = match wire.input {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) => vec![serde_json::json!({
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": text}],
        })],
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::invalid_param(
                "input",
                "`input` must be a string or an array of input items",
            ));
        }
    };
    let mut messages = Vec::new();
    if let Some(instructions) = &wire.instructions {
        messages.push(Message::system(instructions.clone()));
    }
    messages.extend(items_to_messages_at(&input_items, "input")?);

    let mut tools = Vec::new();
    for (i, t) in wire.tools.iter().flatten().enumerate() {
        tools.push(tool_from_wire(t, i)?);
    }
    let tool_choice = wire
        .tool_choice
        .as_ref()
        .map(tool_choice_from_wire)
        .transpose()?;
    let response_format = match wire.text.as_ref().and_then(|t| t.get("format")) {
        None | Some(Value::Null) => None,
        Some(f) => Some(format_from_wire(f)?),
    };
    let reasoning = wire
        .reasoning
        .as_ref()
        .and_then(|r| r.get("effort"))
        .and_then(Value::as_str)
        .and_then(parse_effort)
        .map(|effort| sb::Reasoning {
            effort: Some(effort),
            budget_tokens: None,
        });

    let mut echo = Map::new();
    let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
    echo.insert(
        "instructions".into(),
        opt(wire.instructions.map(Value::from)),
    );
    echo.insert(
        "max_output_tokens".into(),
        opt(wire.max_output_tokens.map(Value::from)),
    );
    echo.insert(
        "parallel_tool_calls".into(),
        Value::Bool(wire.parallel_tool_calls.unwrap_or(true)),
    );
    echo.insert(
        "previous_response_id".into(),
        opt(wire.previous_response_id.clone().map(Value::from)),
    );
    echo.insert(
        "reasoning".into(),
        wire.reasoning
            .clone()
            .unwrap_or_else(|| serde_json::json!({"effort": null, "summary": null})),
    );
    echo.insert("store".into(), Value::Bool(wire.store.unwrap_or(true)));
    echo.insert(
        "temperature".into(),
        Value::from(f64::from(wire.temperature.unwrap_or(1.0))),
    );
    echo.insert(
        "text".into(),
        wire.text.clone().unwrap_or_else(
            || serde_json::json!({"format": {"type": "text"}, "verbosity": "medium"}),
        ),
    );
    echo.insert(
        "tool_choice".into(),
        wire.tool_choice.clone().unwrap_or_else(|| "auto".into()),
    );
    echo.insert("tools".into(), Value::Array(wire.tools.unwrap_or_default()));
    echo.insert(
        "top_p".into(),
        Value::from(f64::from(wire.top_p.unwrap_or(1.0))),
    );
    echo.insert("truncation".into(), "disabled".into());
    echo.insert("user".into(), opt(wire.user.clone().map(Value::from)));
    echo.insert(
        "metadata".into(),
        serde_json::to_value(wire.metadata.clone().unwrap_or_default()).unwrap_or_default(),
    );

    let mut extra = wire.extra;
    extra.retain(|k, _| !IGNORED.contains(&k.as_str()));
    let request = ChatRequest {
        extra,
        model: wire.model,
        messages,
        temperature: wire.temperature,
        top_p: wire.top_p,
        max_tokens: wire.max_output_tokens,
        tools,
        tool_choice,
        parallel_tool_calls: wire.parallel_tool_calls,
        response_format,
        reasoning,
        user: wire.user,
        // The Responses `metadata` belongs to the response object: echoed
        // and stored with it, never sent to the provider (OpenAI's Chat
        // Completions refuses `metadata` without `store: true`, Anthropic
        // has no place for it).
        ..Default::default()
    };
    Ok(InboundResponsesRequest {
        request,
        stream: wire.stream == Some(true),
        store: wire.store.unwrap_or(true),
        previous_response_id: wire.previous_response_id,
        input_items,
        echo,
    })
}

/// Converts Responses items (input items, or a stored response's output
/// items) into core messages: `message` items (also without `type`, with
/// `input_text`/`output_text`/`input_image`/`refusal` parts or a string),
/// `function_call` (joined to the preceding assistant message),
/// `function_call_output` (a tool message) and `reasoning` (a reasoning part
/// of the next assistant message, from its summary or content text).
pub fn items_to_messages(items: &[Value]) -> Result<Vec<Message>, Error> {
    items_to_messages_at(items, "input")
}

fn items_to_messages_at(items: &[Value], at: &str) -> Result<Vec<Message>, Error> {
    let mut out: Vec<Message> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let param = format!("{at}[{i}]");
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message");
        match kind {
            "message" => {
                let role = match item.get("role").and_then(Value::as_str) {
                    Some("user") => Role::User,
                    Some("system") => Role::System,
                    Some("developer") => Role::Developer,
                    Some("assistant") => Role::Assistant,
                    _ => {
                        return Err(Error::invalid_param(
                            format!("{param}.role"),
                            "a message item's `role` must be user, system, developer or assistant",
                        ));
                    }
                };
                let content = content_from_wire(item.get("content"), &param)?;
                match out.last_mut() {
                    // Reasoning that came before this answer joins it.
                    Some(last)
                        if role == Role::Assistant
                            && last.role == Role::Assistant
                            && last.tool_calls.is_empty()
                            && last
                                .content
                                .iter()
                                .all(|p| matches!(p, ContentPart::Reasoning { .. })) =>
                    {
                        last.content.extend(content);
                    }
                    _ => out.push(Message {
                        content,
                        ..Message::new(role, "")
                    }),
                }
            }
            "function_call" => {
                let field = |name: &str| {
                    item.get(name).and_then(Value::as_str).ok_or_else(|| {
                        Error::invalid_param(
                            format!("{param}.{name}"),
                            format!("a function_call item needs a string `{name}`"),
                        )
                    })
                };
                let call = ToolCall {
                    id: field("call_id")?.to_owned(),
                    name: field("name")?.to_owned(),
                    arguments: field("arguments")?.to_owned(),
                };
                match out.last_mut() {
                    Some(last) if last.role == Role::Assistant => last.tool_calls.push(call),
                    _ => out.push(Message {
                        content: Vec::new(),
                        tool_calls: vec![call],
                        ..Message::new(Role::Assistant, "")
                    }),
                }
            }
            "function_call_output" => {
                let call_id = item.get("call_id").and_then(Value::as_str).ok_or_else(|| {
                    Error::invalid_param(
                        format!("{param}.call_id"),
                        "a function_call_output item needs a string `call_id`",
                    )
                })?;
                let content = match item.get("output") {
                    Some(Value::String(s)) => vec![ContentPart::text(s.clone())],
                    other => content_from_wire(other, &param)?,
                };
                out.push(Message {
                    content,
                    tool_call_id: Some(call_id.to_owned()),
                    ..Message::new(Role::Tool, "")
                });
            }
            "reasoning" => {
                let text = reasoning_text(item);
                if text.is_empty() {
                    continue;
                }
                out.push(Message {
                    content: vec![ContentPart::Reasoning {
                        text,
                        signature: None,
                        redacted: None,
                        origin: None,
                    }],
                    ..Message::new(Role::Assistant, "")
                });
            }
            other => {
                return Err(Error::invalid_param(
                    format!("{param}.type"),
                    format!(
                        "input items of type `{other}` are not supported; use message, function_call, function_call_output or reasoning"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The text of a reasoning item: its summaries, else its content, joined.
fn reasoning_text(item: &Value) -> String {
    let texts = |key: &str| -> Vec<&str> {
        item.get(key)
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.get("text").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    };
    let summary = texts("summary");
    if summary.is_empty() {
        texts("content").join("\n\n")
    } else {
        summary.join("\n\n")
    }
}

fn content_from_wire(content: Option<&Value>, param: &str) -> Result<Vec<ContentPart>, Error> {
    let parts = match content {
        Some(Value::String(s)) => return Ok(vec![ContentPart::text(s.clone())]),
        Some(Value::Array(parts)) => parts,
        _ => {
            return Err(Error::invalid_param(
                format!("{param}.content"),
                "`content` must be a string or an array of content parts",
            ));
        }
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{param}.content[{j}]");
        let text = || part.get("text").and_then(Value::as_str).map(str::to_owned);
        match part.get("type").and_then(Value::as_str) {
            Some("input_text" | "output_text" | "text") => match text() {
                Some(t) => out.push(ContentPart::text(t)),
                None => return Err(Error::invalid_param(at, "a text part needs `text`")),
            },
            Some("refusal") => {
                let t = part.get("refusal").and_then(Value::as_str).unwrap_or("");
                out.push(ContentPart::Refusal { text: t.to_owned() });
            }
            Some("input_image") => {
                let Some(url) = part.get("image_url").and_then(Value::as_str) else {
                    return Err(Error::invalid_param(
                        format!("{at}.image_url"),
                        "an input_image part needs `image_url` (`file_id` is not supported)",
                    ));
                };
                let detail = part
                    .get("detail")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut image = data_url_image(url).unwrap_or_else(|| ContentPart::image_url(url));
                if let ContentPart::Image { detail: d, .. } = &mut image {
                    *d = detail;
                }
                out.push(image);
            }
            other => {
                return Err(Error::invalid_param(
                    format!("{at}.type"),
                    format!(
                        "content parts of type `{}` are not supported; use input_text or input_image",
                        other.unwrap_or("(none)")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// A `data:<type>;base64,<data>` URL as a base64 image.
fn data_url_image(url: &str) -> Option<ContentPart> {
    let rest = url.strip_prefix("data:")?;
    let (media_type, data) = rest.split_once(";base64,")?;
    Some(ContentPart::image_base64(media_type, data))
}

fn tool_from_wire(tool: &Value, i: usize) -> Result<sb::Tool, Error> {
    let param = format!("tools[{i}]");
    if tool.get("type").and_then(Value::as_str) != Some("function") {
        return Err(Error::invalid_param(
            format!("{param}.type"),
            "only function tools (`type: \"function\"`) are supported",
        ));
    }
    let Some(name) = tool.get("name").and_then(Value::as_str) else {
        return Err(Error::invalid_param(
            format!("{param}.name"),
            "a function tool needs a `name`",
        ));
    };
    Ok(sb::Tool {
        name: name.to_owned(),
        description: tool
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        parameters: match tool.get("parameters") {
            Some(p) if !p.is_null() => p.clone(),
            _ => serde_json::json!({"type": "object", "properties": {}}),
        },
        strict: tool.get("strict").and_then(Value::as_bool),
    })
}

fn tool_choice_from_wire(choice: &Value) -> Result<sb::ToolChoice, Error> {
    match choice {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(sb::ToolChoice::Auto),
            "none" => Ok(sb::ToolChoice::None),
            "required" => Ok(sb::ToolChoice::Required),
            _ => Err(Error::invalid_param(
                "tool_choice",
                "`tool_choice` must be auto, none, required or a function",
            )),
        },
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => {
            match o.get("name").and_then(Value::as_str) {
                Some(name) => Ok(sb::ToolChoice::Tool(name.to_owned())),
                None => Err(Error::invalid_param(
                    "tool_choice.name",
                    "a function `tool_choice` needs a `name`",
                )),
            }
        }
        _ => Err(Error::invalid_param(
            "tool_choice",
            "`tool_choice` must be auto, none, required or {\"type\": \"function\", \"name\"}",
        )),
    }
}

fn format_from_wire(format: &Value) -> Result<sb::ResponseFormat, Error> {
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(sb::ResponseFormat::Text),
        Some("json_object") => Ok(sb::ResponseFormat::JsonObject),
        Some("json_schema") => {
            let (Some(name), Some(schema)) = (
                format.get("name").and_then(Value::as_str),
                format.get("schema"),
            ) else {
                return Err(Error::invalid_param(
                    "text.format",
                    "a json_schema format needs `name` and `schema`",
                ));
            };
            Ok(sb::ResponseFormat::JsonSchema {
                name: name.to_owned(),
                description: format
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                schema: schema.clone(),
                strict: format.get("strict").and_then(Value::as_bool),
            })
        }
        _ => Err(Error::invalid_param(
            "text.format.type",
            "`text.format.type` must be text, json_object or json_schema",
        )),
    }
}

/// Reasoning effort names; `xhigh` is as high as the core goes, `none` is no setting.
fn parse_effort(s: &str) -> Option<sb::ReasoningEffort> {
    Some(match s {
        "minimal" => sb::ReasoningEffort::Minimal,
        "low" => sb::ReasoningEffort::Low,
        "medium" => sb::ReasoningEffort::Medium,
        "high" | "xhigh" => sb::ReasoningEffort::High,
        _ => return None,
    })
}
