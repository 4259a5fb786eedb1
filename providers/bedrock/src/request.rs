//! [`ChatRequest`] → the Converse request body.
//!
//! Shapes from the Bedrock Runtime Smithy model (`aws/api-models-aws`,
//! `bedrock-runtime-2023-09-30.json`) and the Converse API reference,
//! <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html>:
//! content blocks are single-key objects (`{"text": ..}`, `{"image": ..}`,
//! `{"toolUse": ..}`, `{"toolResult": ..}`, `{"reasoningContent": ..}`),
//! system prompts a top-level `system` list, tool results a `user` message,
//! and consecutive messages of one role are merged (the API wants the roles
//! to alternate). The model id is in the path, not the body.

use serde_json::{Map, Value, json};
use switchboard_core::{
    ChatRequest, ContentPart, Error, ImageSource, Message, ReasoningEffort, ResponseFormat, Role,
    ToolChoice,
};

/// The provider family whose reasoning signatures Bedrock accepts back.
pub const REASONING_ORIGIN: &str = "bedrock";

/// `maxTokens` sent with a reasoning budget when the request sets none
/// (Claude needs `maxTokens` above the budget).
const ANSWER_TOKENS_WITH_REASONING: u32 = 4096;

/// Options of the conversion, from the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    /// Leave out parameters Converse lacks instead of failing.
    pub drop_unsupported: bool,
    /// Add cache points after the system prompt, the tools and the last user
    /// message (config `prompt_caching`).
    pub cache_points: bool,
}

/// A prompt-cache checkpoint: the prefix before it is cached (source:
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html>).
fn cache_point() -> Value {
    json!({"cachePoint": {"type": "default"}})
}

/// The Converse (and ConverseStream: same body) request for `req`.
pub fn to_converse(req: &ChatRequest, opts: RequestOptions) -> Result<Value, Error> {
    let mut body = Map::new();
    let mut system = Vec::new();
    let mut messages: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in &req.messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => {
                system.extend(text_blocks(message));
                continue;
            }
            Role::User => ("user", user_blocks(message)?),
            Role::Assistant => ("assistant", assistant_blocks(message)?),
            Role::Tool => ("user", vec![tool_result(message)?]),
        };
        if blocks.is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    if opts.cache_points {
        if let Some((_, content)) = messages.iter_mut().rev().find(|(role, _)| *role == "user") {
            content.push(cache_point());
        }
        if !system.is_empty() {
            system.push(cache_point());
        }
    }
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    unsupported_params(req, opts)?;
    let budget = reasoning_budget(req, opts)?;
    let mut inference = Map::new();
    let max_tokens = match (req.max_tokens, budget) {
        (Some(max), Some(b)) => Some(max.saturating_add(b)),
        (None, Some(b)) => Some(b.saturating_add(ANSWER_TOKENS_WITH_REASONING)),
        (max, None) => max,
    };
    if let Some(max) = max_tokens {
        inference.insert("maxTokens".into(), json!(max));
    }
    if let Some(t) = req.temperature {
        inference.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        inference.insert("topP".into(), json!(p));
    }
    if !req.stop.is_empty() {
        inference.insert("stopSequences".into(), json!(req.stop));
    }
    if !inference.is_empty() {
        body.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if let Some(mut tool_config) = tool_config(req) {
        if opts.cache_points
            && let Some(tools) = tool_config["tools"].as_array_mut()
        {
            tools.push(cache_point());
        }
        body.insert("toolConfig".into(), tool_config);
    }
    if let Some(ResponseFormat::JsonSchema {
        name,
        description,
        schema,
        ..
    }) = &req.response_format
    {
        body.insert(
            "outputConfig".into(),
            output_config(name, description.as_deref(), schema),
        );
    }
    if let Some(b) = budget {
        body.insert(
            "additionalModelRequestFields".into(),
            json!({"thinking": {"type": "enabled", "budget_tokens": b}}),
        );
    }
    Ok(Value::Object(body))
}

/// `outputConfig.textFormat` for a JSON schema: `type: "json_schema"` and the
/// schema as a JSON **string** in `structure.jsonSchema.schema` (sources:
/// <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputFormat.html>,
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html>).
fn output_config(name: &str, description: Option<&str>, schema: &Value) -> Value {
    let mut definition = json!({"schema": schema.to_string(), "name": name});
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        definition["description"] = json!(d);
    }
    json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}})
}

fn unsupported_params(req: &ChatRequest, opts: RequestOptions) -> Result<(), Error> {
    if let Some(ResponseFormat::JsonObject) = &req.response_format {
        return Err(Error::unsupported(
            "Bedrock Converse has no JSON mode without a schema; use a JSON schema response format",
        )
        .with_param("response_format"));
    }
    if opts.drop_unsupported {
        return Ok(());
    }
    let mut named = Vec::new();
    if req.seed.is_some() {
        named.push("seed");
    }
    if req.presence_penalty.is_some() {
        named.push("presence_penalty");
    }
    if req.frequency_penalty.is_some() {
        named.push("frequency_penalty");
    }
    match named.first() {
        None => Ok(()),
        Some(first) => Err(Error::unsupported(format!(
            "Bedrock Converse has no {} (set `drop_unsupported_params` to leave them out)",
            named.join(", ")
        ))
        .with_param(*first)),
    }
}

/// The thinking budget for Anthropic Claude models (`thinking.budget_tokens`
/// in `additionalModelRequestFields`; source:
/// <https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html>).
fn reasoning_budget(req: &ChatRequest, opts: RequestOptions) -> Result<Option<u32>, Error> {
    let Some(reasoning) = &req.reasoning else {
        return Ok(None);
    };
    let budget = reasoning.budget_tokens.or(match reasoning.effort {
        None => None,
        Some(ReasoningEffort::Minimal | ReasoningEffort::Low) => Some(1024),
        Some(ReasoningEffort::Medium) => Some(4096),
        Some(ReasoningEffort::High) => Some(16384),
    });
    let Some(budget) = budget else {
        return Ok(None);
    };
    if req.model.contains("anthropic.claude") {
        return Ok(Some(budget.max(1024)));
    }
    if opts.drop_unsupported {
        return Ok(None);
    }
    Err(Error::unsupported(format!(
        "reasoning settings are only mapped for Anthropic Claude models on Bedrock, not `{}` \
         (set `drop_unsupported_params` to leave them out)",
        req.model
    ))
    .with_param("reasoning"))
}

fn text_blocks(message: &Message) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|part| match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } if !text.is_empty() => {
                Some(json!({"text": text}))
            }
            _ => None,
        })
        .collect()
}

fn user_blocks(message: &Message) -> Result<Vec<Value>, Error> {
    let mut blocks = Vec::with_capacity(message.content.len());
    for part in &message.content {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => {
                if !text.is_empty() {
                    blocks.push(json!({"text": text}));
                }
            }
            ContentPart::Image { source, .. } => blocks.push(image_block(source)?),
            ContentPart::Reasoning { .. } => {}
        }
    }
    Ok(blocks)
}

fn assistant_blocks(message: &Message) -> Result<Vec<Value>, Error> {
    let mut blocks = Vec::with_capacity(message.content.len() + message.tool_calls.len());
    for part in &message.content {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => {
                if !text.is_empty() {
                    blocks.push(json!({"text": text}));
                }
            }
            ContentPart::Reasoning {
                text,
                signature,
                redacted,
                origin,
            } => {
                let ours =
                    ContentPart::reasoning_origin_compatible(origin.as_deref(), REASONING_ORIGIN);
                if let Some(data) = redacted.as_ref().filter(|_| ours) {
                    blocks.push(json!({"reasoningContent": {"redactedContent": data}}));
                } else if let Some(sig) = signature.as_ref().filter(|_| ours) {
                    blocks.push(json!({"reasoningContent": {
                        "reasoningText": {"text": text, "signature": sig}
                    }}));
                }
                // Unsigned or foreign reasoning is not sent back: Claude on
                // Bedrock rejects reasoning blocks without a valid signature.
            }
            ContentPart::Image { source, .. } => blocks.push(image_block(source)?),
        }
    }
    for call in &message.tool_calls {
        let input: Value = if call.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&call.arguments).map_err(|e| {
                Error::invalid_request(format!(
                    "the arguments of tool call `{}` are not JSON: {e}",
                    call.id
                ))
                .with_param("messages")
            })?
        };
        blocks.push(json!({"toolUse": {
            "toolUseId": call.id, "name": call.name, "input": input
        }}));
    }
    Ok(blocks)
}

fn tool_result(message: &Message) -> Result<Value, Error> {
    let Some(id) = &message.tool_call_id else {
        return Err(
            Error::invalid_request("a tool message needs the id of its tool call")
                .with_param("messages"),
        );
    };
    let mut content = Vec::new();
    for part in &message.content {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => {
                content.push(json!({"text": text}));
            }
            ContentPart::Image { source, .. } => content.push(image_block(source)?),
            ContentPart::Reasoning { .. } => {}
        }
    }
    if content.is_empty() {
        content.push(json!({"text": ""}));
    }
    let mut result = json!({"toolUseId": id, "content": content});
    if message.is_error {
        result["status"] = json!("error");
    }
    Ok(json!({"toolResult": result}))
}

/// `{"image": {"format": "png", "source": {"bytes": "<base64>"}}}`: Converse
/// takes image bytes (base64 in JSON) or S3 locations, not URLs; a `data:`
/// URL is unpacked.
fn image_block(source: &ImageSource) -> Result<Value, Error> {
    let (media_type, data) = match source {
        ImageSource::Base64 { media_type, data } => (media_type.as_str(), data.as_str()),
        ImageSource::Url { url } => match parse_data_url(url) {
            Some(parts) => parts,
            None => {
                return Err(Error::unsupported(
                    "Bedrock Converse takes images as inline data, not by URL",
                )
                .with_param("messages"));
            }
        },
    };
    let format = match media_type.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(Error::unsupported(format!(
                "Bedrock Converse takes png, jpeg, gif and webp images, not `{other}`"
            ))
            .with_param("messages"));
        }
    };
    Ok(json!({"image": {"format": format, "source": {"bytes": data}}}))
}

/// `data:<media type>;base64,<data>` → its media type and data.
fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// `toolConfig`: each tool as `toolSpec{name, description, inputSchema.json}`,
/// the choice as `auto` / `any` / `tool{name}`. Converse has no "none": the
/// tools are then left out, unless the conversation already holds tool
/// calls (the API needs `toolConfig` to read them), when they are sent
/// without a choice.
fn tool_config(req: &ChatRequest) -> Option<Value> {
    if req.tools.is_empty() {
        return None;
    }
    let history_has_tools = req
        .messages
        .iter()
        .any(|m| !m.tool_calls.is_empty() || m.role == Role::Tool);
    let choice = match &req.tool_choice {
        None | Some(ToolChoice::Auto) => Some(json!({"auto": {}})),
        Some(ToolChoice::Required) => Some(json!({"any": {}})),
        Some(ToolChoice::Tool(name)) => Some(json!({"tool": {"name": name}})),
        Some(ToolChoice::None) if history_has_tools => None,
        Some(ToolChoice::None) => return None,
    };
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|tool| {
            let mut spec = json!({"name": tool.name, "inputSchema": {"json": tool.parameters}});
            if let Some(d) = tool.description.as_ref().filter(|d| !d.is_empty()) {
                spec["description"] = json!(d);
            }
            json!({"toolSpec": spec})
        })
        .collect();
    let mut config = json!({"tools": tools});
    if let Some(choice) = choice {
        config["toolChoice"] = choice;
    }
    Some(config)
}
