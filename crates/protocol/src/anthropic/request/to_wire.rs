//! Core → wire: a [`ChatRequest`] as an Anthropic Messages request (what
//! the `anthropic` provider sends upstream).

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Map, Value};
use switchboard_core::{self as sb, ChatRequest, Error};

use crate::anthropic::origin::ORIGIN;
use crate::anthropic::types::{
    ContentBlock, ImageSource, InputMessage, MessageContent, MessagesRequest, Metadata,
    OutputConfig, OutputFormat, SystemBlock, SystemPrompt, ThinkingConfig, Tool, ToolChoice,
    ToolResultContent,
};

/// The `max_tokens` sent when a request gives none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The name a JSON-schema response format gets when it comes from an
/// Anthropic request, which names none.
pub const DEFAULT_SCHEMA_NAME: &str = "response";

/// The key under which a tool call's arguments are wrapped when they are
/// not a JSON object (see [`to_wire_response`](crate::anthropic::to_wire_response)).
pub const RAW_ARGUMENTS_KEY: &str = "_switchboard_raw_arguments";

/// How [`to_wire_request`] writes a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOptions {
    /// `max_tokens` when the request has none (see [`DEFAULT_MAX_TOKENS`]).
    pub default_max_tokens: u32,
    /// Leave out the parameters Anthropic does not have (`seed`,
    /// `presence_penalty`, `frequency_penalty`, `metadata`) instead of
    /// failing with an [`Unsupported`](sb::ErrorKind::Unsupported) error naming them.
    pub drop_unsupported: bool,
    /// Mark cache breakpoints (`cache_control: {"type": "ephemeral"}`) on the
    /// last system block, the last tool and the last block of the last
    /// message, so that repeated prefixes are read from Anthropic's prompt cache.
    pub cache_breakpoints: bool,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            default_max_tokens: DEFAULT_MAX_TOKENS,
            drop_unsupported: false,
            cache_breakpoints: false,
        }
    }
}

impl RequestOptions {
    /// Uses `max_tokens` when the request has none.
    #[must_use]
    pub fn default_max_tokens(mut self, max_tokens: u32) -> Self {
        self.default_max_tokens = max_tokens;
        self
    }

    /// Drops unsupported parameters instead of failing.
    #[must_use]
    pub fn drop_unsupported(mut self) -> Self {
        self.drop_unsupported = true;
        self
    }

    /// Marks prompt-cache breakpoints.
    #[must_use]
    pub fn cache_breakpoints(mut self) -> Self {
        self.cache_breakpoints = true;
        self
    }
}

/// The thinking budget an effort level maps to when a request gives only
/// [`Reasoning::effort`](sb::Reasoning::effort): `minimal` 1024 (the API's
/// minimum), `low` 2048, `medium` 8192, `high` 16384. The high budget plus
/// the default `max_tokens` stays within every extended-thinking model's
/// output limit.
pub fn effort_budget(effort: sb::ReasoningEffort) -> u32 {
    match effort {
        sb::ReasoningEffort::Minimal => 1024,
        sb::ReasoningEffort::Low => 2048,
        sb::ReasoningEffort::Medium => 8192,
        sb::ReasoningEffort::High => 16_384,
    }
}

/// Converts a core request into an Anthropic request, borrowing from it.
/// The mapping rules are listed in the [module docs](crate::anthropic).
pub fn to_wire_request<'a>(
    req: &'a ChatRequest,
    opts: &RequestOptions,
) -> Result<MessagesRequest<'a>, Error> {
    let unsupported = |param: &'static str, what: &str| -> Result<(), Error> {
        if opts.drop_unsupported {
            return Ok(());
        }
        Err(Error::unsupported(format!(
            "Anthropic has no `{param}` parameter ({what}); remove it, or set the provider's \
             `drop_unsupported_params` to leave it out"
        ))
        .with_param(param))
    };
    if req.seed.is_some() {
        unsupported("seed", "sampling is not seedable")?;
    }
    if req.presence_penalty.is_some() {
        unsupported("presence_penalty", "there are no repetition penalties")?;
    }
    if req.frequency_penalty.is_some() {
        unsupported("frequency_penalty", "there are no repetition penalties")?;
    }
    if !req.metadata.is_empty() {
        unsupported("metadata", "only `user` is sent, as `metadata.user_id`")?;
    }
    if let Some(t) = req.temperature
        && !(0.0..=1.0).contains(&t)
    {
        return Err(Error::invalid_param(
            "temperature",
            format!("Anthropic accepts a temperature between 0 and 1, got {t}"),
        ));
    }

    let (system, messages) = messages_to_wire(&req.messages)?;
    let thinking = req.reasoning.as_ref().and_then(|r| {
        let budget = r.budget_tokens.or_else(|| r.effort.map(effort_budget))?;
        Some(ThinkingConfig::enabled(budget))
    });
    let max_tokens = match (req.max_tokens, &thinking) {
        (Some(m), _) => m,
        (None, Some(t)) => t
            .budget_tokens
            .unwrap_or(0)
            .saturating_add(opts.default_max_tokens),
        (None, None) => opts.default_max_tokens,
    };
    let disable_parallel = (req.parallel_tool_calls == Some(false)).then_some(true);
    let tool_choice = match (&req.tool_choice, disable_parallel) {
        (None, None) => None,
        (None, Some(_)) => Some(ToolChoice::Auto {
            disable_parallel_tool_use: disable_parallel,
        }),
        (Some(sb::ToolChoice::Auto), _) => Some(ToolChoice::Auto {
            disable_parallel_tool_use: disable_parallel,
        }),
        (Some(sb::ToolChoice::Required), _) => Some(ToolChoice::Any {
            disable_parallel_tool_use: disable_parallel,
        }),
        (Some(sb::ToolChoice::Tool(name)), _) => Some(ToolChoice::Tool {
            name: Cow::Borrowed(name),
            disable_parallel_tool_use: disable_parallel,
        }),
        (Some(sb::ToolChoice::None), _) => Some(ToolChoice::None),
    };
    let output_config = match &req.response_format {
        None | Some(sb::ResponseFormat::Text) => None,
        Some(sb::ResponseFormat::JsonObject) => {
            return Err(Error::unsupported(
                "Anthropic has no JSON-object mode; use a `json_schema` response format \
                 (sent as `output_config.format`)",
            )
            .with_param("response_format"));
        }
        Some(sb::ResponseFormat::JsonSchema { schema, .. }) => {
            if !schema.is_object() {
                return Err(Error::invalid_param(
                    "response_format",
                    "a `json_schema` response format needs its schema (a JSON object)",
                ));
            }
            Some(OutputConfig {
                format: Some(OutputFormat {
                    kind: Cow::Borrowed("json_schema"),
                    schema: Some(Cow::Borrowed(schema)),
                    extra: Map::new(),
                }),
                extra: Map::new(),
            })
        }
    };
    let mut wire = MessagesRequest {
        model: Cow::Borrowed(&req.model),
        max_tokens,
        system,
        messages,
        metadata: req.user.as_deref().map(|u| Metadata {
            user_id: Some(Cow::Borrowed(u)),
            extra: Map::new(),
        }),
        stop_sequences: (!req.stop.is_empty())
            .then(|| req.stop.iter().map(|s| Cow::Borrowed(s.as_str())).collect()),
        stream: None,
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: None,
        tools: (!req.tools.is_empty()).then(|| req.tools.iter().map(tool_to_wire).collect()),
        tool_choice,
        thinking,
        output_config,
        extra: Map::new(),
    };
    absorb_extra(&mut wire, &req.extra)?;
    if opts.cache_breakpoints {
        mark_cache_breakpoints(&mut wire);
    }
    Ok(wire)
}

/// Core fields that must not also be given through `extra`, with the field to use.
const TYPED_CORE_FIELDS: &[(&str, &str)] = &[
    ("model", "model"),
    ("messages", "messages"),
    ("max_tokens", "max_tokens"),
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("stop", "stop"),
    ("stop_sequences", "stop"),
    ("system", "system messages"),
    ("tools", "tools"),
    ("tool_choice", "tool_choice"),
    ("metadata", "user"),
    ("seed", "seed"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
    ("parallel_tool_calls", "parallel_tool_calls"),
    ("response_format", "response_format"),
    ("user", "user"),
];

fn absorb_extra<'a>(
    wire: &mut MessagesRequest<'a>,
    extra: &'a Map<String, Value>,
) -> Result<(), Error> {
    for (key, value) in extra {
        let param = || format!("extra.{key}");
        if let Some((_, field)) = TYPED_CORE_FIELDS.iter().find(|(k, _)| k == key) {
            return Err(Error::invalid_param(
                param(),
                format!("`{key}` has its own request field; set `{field}`, not `extra.{key}`"),
            ));
        }
        match key.as_str() {
            "stream" => {
                return Err(Error::invalid_param(
                    param(),
                    "`stream` is chosen by the call (chat or chat_stream), not by `extra`",
                ));
            }
            "top_k" => {
                let k = value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        Error::invalid_param(
                            param(),
                            format!("`top_k` must be a non-negative integer, got {value}"),
                        )
                    })?;
                wire.top_k = Some(k);
            }
            "thinking" => {
                if wire.thinking.is_some() {
                    return Err(Error::invalid_param(
                        param(),
                        "`thinking` is given both as `reasoning` and in `extra`",
                    ));
                }
                let thinking = ThinkingConfig::deserialize(value).map_err(|e| {
                    Error::invalid_param(param(), format!("invalid `thinking`: {e}"))
                })?;
                wire.thinking = Some(thinking);
            }
            "output_config" => {
                let Value::Object(entries) = value else {
                    return Err(Error::invalid_param(
                        param(),
                        "`output_config` must be an object",
                    ));
                };
                let config = wire.output_config.get_or_insert_with(OutputConfig::default);
                for (k, v) in entries {
                    if k == "format" && config.format.is_some() {
                        return Err(Error::invalid_param(
                            "extra.output_config.format",
                            "`output_config.format` is given both as `response_format` and in `extra`",
                        ));
                    }
                    if k == "format" {
                        let format = OutputFormat::deserialize(v).map_err(|e| {
                            Error::invalid_param(
                                "extra.output_config.format",
                                format!("invalid `output_config.format`: {e}"),
                            )
                        })?;
                        config.format = Some(format);
                    } else {
                        config.extra.insert(k.clone(), v.clone());
                    }
                }
            }
            _ => {
                wire.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

fn cache_control() -> Value {
    serde_json::json!({"type": "ephemeral"})
}

/// Adds `cache_control` to the last system block, the last tool and the
/// last cacheable block of the last message (three of the API's four breakpoints).
fn mark_cache_breakpoints(wire: &mut MessagesRequest<'_>) {
    if let Some(system) = wire.system.take() {
        let mut blocks = match system {
            SystemPrompt::Text(text) => vec![SystemBlock::text(text)],
            SystemPrompt::Blocks(blocks) => blocks,
        };
        if let Some(last) = blocks.last_mut() {
            last.extra
                .entry("cache_control")
                .or_insert_with(cache_control);
        }
        wire.system = Some(SystemPrompt::Blocks(blocks));
    }
    if let Some(last) = wire.tools.as_mut().and_then(|t| t.last_mut()) {
        last.extra
            .entry("cache_control")
            .or_insert_with(cache_control);
    }
    if let Some(last) = wire.messages.last_mut() {
        if let MessageContent::Text(text) = &mut last.content {
            let text = std::mem::take(text);
            last.content = MessageContent::Blocks(vec![ContentBlock::text(text)]);
        }
        if let MessageContent::Blocks(blocks) = &mut last.content {
            // Thinking blocks cannot carry `cache_control` themselves.
            let cacheable = blocks.iter_mut().rev().find(|b| {
                !matches!(
                    b,
                    ContentBlock::Thinking { .. }
                        | ContentBlock::RedactedThinking { .. }
                        | ContentBlock::Other(_)
                )
            });
            if let Some(extra) = cacheable.and_then(ContentBlock::extra_mut) {
                extra.entry("cache_control").or_insert_with(cache_control);
            }
        }
    }
}

type WireMessages<'a> = (Option<SystemPrompt<'a>>, Vec<InputMessage<'a>>);

fn messages_to_wire(messages: &[sb::Message]) -> Result<WireMessages<'_>, Error> {
    let mut system: Vec<SystemBlock<'_>> = Vec::new();
    let mut turns: Vec<(&'static str, Vec<ContentBlock<'_>>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let (role, blocks) = match m.role {
            sb::Role::System | sb::Role::Developer => {
                for (j, part) in m.content.iter().enumerate() {
                    match part {
                        sb::ContentPart::Text { text } => {
                            system.push(SystemBlock::text(text.as_str()))
                        }
                        other => {
                            return Err(Error::invalid_param(
                                format!("messages[{i}].content[{j}]"),
                                format!(
                                    "Anthropic's system prompt holds only text, not {} parts",
                                    part_name(other)
                                ),
                            ));
                        }
                    }
                }
                continue;
            }
            sb::Role::User => ("user", user_blocks(m, i)?),
            sb::Role::Tool => ("user", vec![tool_result_block(m, i)?]),
            sb::Role::Assistant => ("assistant", assistant_blocks(m, i)?),
        };
        if blocks.is_empty() && role == "assistant" {
            // Nothing Anthropic can take (e.g. only another provider's unsigned reasoning).
            continue;
        }
        match turns.last_mut() {
            Some((last, prev)) if *last == role => prev.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(|b| SystemPrompt::Text(b.text)),
        _ => Some(SystemPrompt::Blocks(system)),
    };
    let messages = turns
        .into_iter()
        .map(|(role, mut blocks)| {
            let content = match blocks.as_slice() {
                [ContentBlock::Text { extra, .. }] if extra.is_empty() => match blocks.pop() {
                    Some(ContentBlock::Text { text, .. }) => MessageContent::Text(text),
                    _ => MessageContent::Blocks(blocks),
                },
                [] => MessageContent::Text(Cow::Borrowed("")),
                _ => MessageContent::Blocks(blocks),
            };
            InputMessage {
                role: Cow::Borrowed(role),
                content,
                extra: Map::new(),
            }
        })
        .collect();
    Ok((system, messages))
}

fn part_name(part: &sb::ContentPart) -> &'static str {
    match part {
        sb::ContentPart::Text { .. } => "text",
        sb::ContentPart::Image { .. } => "image",
        sb::ContentPart::Reasoning { .. } => "reasoning",
        sb::ContentPart::Refusal { .. } => "refusal",
    }
}

fn image_to_wire(source: &sb::ImageSource) -> ContentBlock<'_> {
    let source = match source {
        sb::ImageSource::Url { url } => match parse_data_url(url) {
            Some((media_type, data)) => ImageSource::Base64 {
                media_type: Cow::Borrowed(media_type),
                data: Cow::Borrowed(data),
            },
            None => ImageSource::Url {
                url: Cow::Borrowed(url),
            },
        },
        sb::ImageSource::Base64 { media_type, data } => ImageSource::Base64 {
            media_type: Cow::Borrowed(media_type),
            data: Cow::Borrowed(data),
        },
    };
    ContentBlock::Image {
        source,
        extra: Map::new(),
    }
}

/// Splits `data:<media type>;base64,<data>` into its parts (Anthropic's
/// `url` source does not take `data:` URLs, so they are sent as base64).
pub(crate) fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    if media_type.is_empty() || media_type.contains(';') || media_type.contains(',') {
        return None;
    }
    Some((media_type, data))
}

fn user_blocks(m: &sb::Message, i: usize) -> Result<Vec<ContentBlock<'_>>, Error> {
    let mut blocks = Vec::with_capacity(m.content.len());
    for (j, part) in m.content.iter().enumerate() {
        match part {
            sb::ContentPart::Text { text } => blocks.push(ContentBlock::text(text.as_str())),
            sb::ContentPart::Image { source, .. } => blocks.push(image_to_wire(source)),
            other => {
                return Err(Error::invalid_param(
                    format!("messages[{i}].content[{j}]"),
                    format!(
                        "a user message cannot hold a {} part on Anthropic",
                        part_name(other)
                    ),
                ));
            }
        }
    }
    Ok(blocks)
}

fn tool_result_block(m: &sb::Message, i: usize) -> Result<ContentBlock<'_>, Error> {
    let Some(id) = m.tool_call_id.as_deref() else {
        return Err(Error::invalid_param(
            format!("messages[{i}].tool_call_id"),
            "a tool message needs the `tool_call_id` it answers",
        ));
    };
    let content = match m.content.as_slice() {
        [] => None,
        [sb::ContentPart::Text { text }] => Some(ToolResultContent::Text(Cow::Borrowed(text))),
        parts => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                match part {
                    sb::ContentPart::Text { text } => {
                        blocks.push(ContentBlock::text(text.as_str()));
                    }
                    sb::ContentPart::Image { source, .. } => blocks.push(image_to_wire(source)),
                    other => {
                        return Err(Error::invalid_param(
                            format!("messages[{i}].content[{j}]"),
                            format!(
                                "a tool result holds only text and images on Anthropic, not {} parts",
                                part_name(other)
                            ),
                        ));
                    }
                }
            }
            Some(ToolResultContent::Blocks(blocks))
        }
    };
    Ok(ContentBlock::ToolResult {
        tool_use_id: Cow::Borrowed(id),
        content,
        is_error: m.is_error.then_some(true),
        extra: Map::new(),
    })
}

/// Parses tool-call arguments into the object Anthropic's `input` must be.
/// Empty arguments are `{}`.
pub(crate) fn parse_arguments(arguments: &str) -> Result<Value, String> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(format!(
            "tool-call arguments must be a JSON object, got {}",
            json_kind(&other)
        )),
        Err(e) => Err(format!("tool-call arguments are not valid JSON: {e}")),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn assistant_blocks(m: &sb::Message, i: usize) -> Result<Vec<ContentBlock<'_>>, Error> {
    let mut blocks = Vec::with_capacity(m.content.len() + m.tool_calls.len());
    for (j, part) in m.content.iter().enumerate() {
        match part {
            sb::ContentPart::Reasoning {
                text,
                signature,
                redacted,
                origin,
            } => {
                if !sb::ContentPart::reasoning_origin_compatible(origin.as_deref(), ORIGIN) {
                    // Another family's signature or encrypted data: Anthropic
                    // would reject it, and its text alone cannot be sent.
                    continue;
                }
                if let Some(data) = redacted {
                    blocks.push(ContentBlock::RedactedThinking {
                        data: Cow::Borrowed(data),
                        extra: Map::new(),
                    });
                } else if let Some(signature) = signature.as_deref().filter(|s| !s.is_empty()) {
                    blocks.push(ContentBlock::Thinking {
                        thinking: Cow::Borrowed(text),
                        signature: Cow::Borrowed(signature),
                        extra: Map::new(),
                    });
                }
                // Unsigned reasoning (another provider's) cannot be verified
                // by Anthropic and is left out.
            }
            sb::ContentPart::Text { text } | sb::ContentPart::Refusal { text } => {
                // The API rejects empty text blocks.
                if !text.is_empty() {
                    blocks.push(ContentBlock::text(text.as_str()));
                }
            }
            sb::ContentPart::Image { .. } => {
                return Err(Error::invalid_param(
                    format!("messages[{i}].content[{j}]"),
                    "Anthropic takes images only in user messages and tool results",
                ));
            }
        }
    }
    for (j, call) in m.tool_calls.iter().enumerate() {
        let input = parse_arguments(&call.arguments).map_err(|e| {
            Error::invalid_param(
                format!("messages[{i}].tool_calls[{j}].arguments"),
                format!("{e} (tool call `{}`)", call.id),
            )
        })?;
        blocks.push(ContentBlock::ToolUse {
            id: Cow::Borrowed(&call.id),
            name: Cow::Borrowed(&call.name),
            input: Cow::Owned(input),
            extra: Map::new(),
        });
    }
    Ok(blocks)
}

fn tool_to_wire(t: &sb::Tool) -> Tool<'_> {
    Tool {
        kind: None,
        name: Cow::Borrowed(&t.name),
        description: t.description.as_deref().map(Cow::Borrowed),
        input_schema: Some(Cow::Borrowed(&t.parameters)),
        strict: t.strict,
        extra: Map::new(),
    }
}
