//! Client requests (`generateContent` bodies) → core requests.

use serde_json::Value;
use switchboard_core::{
    ChatRequest, ContentPart, Error, Message, Reasoning, ReasoningEffort, ResponseFormat, Role,
    Tool, ToolCall, ToolChoice,
};

use super::schema::to_json_schema;
use super::types::{
    InCall, InFunctionResult, InGenerationConfig, InRequest, InRequestPart, InToolConfig, InTurn,
};
use crate::gemini::ORIGIN;

/// Reads a `generateContent` / `streamGenerateContent` body sent by a client
/// for `model` (the path's model: an id or alias, `models/` already
/// stripped) and converts it ([`from_wire_request`]).
pub fn parse_generate_content_request(body: &[u8], model: &str) -> Result<ChatRequest, Error> {
    let wire: InRequest = crate::parse_inbound(body)?;
    from_wire_request(wire, model)
}

/// Converts a client's request:
///
/// - `systemInstruction` → a system message; `contents` turns → messages
///   (`user` → user, `model` → assistant). Parts: `text`, thought parts
///   (reasoning, with `thoughtSignature`, origin `gemini`), `inlineData`
///   images (base64), `fileData` (an image by URL), `functionCall` (the
///   assistant's tool calls; a call without `id` gets `call_<turn>_<n>`) and
///   `functionResponse` (a tool message, matched to the earlier call by `id`,
///   else by name; `{"output": x}` is sent as `x`, a lone `{"error": x}` is an
///   error result).
/// - `tools[].functionDeclarations` (`parametersJsonSchema`, or `parameters`
///   in Gemini's schema subset, upper-case types lowered) → tools; other tool
///   kinds are unsupported.
/// - `toolConfig.functionCallingConfig.mode`: `AUTO`/`VALIDATED` → auto,
///   `NONE` → none, `ANY` → required, or that tool when
///   `allowedFunctionNames` names one; more names keep only those tools.
/// - `generationConfig`: temperature, topP, maxOutputTokens, stopSequences,
///   penalties, seed; topK → `extra.top_k`; `candidateCount` above 1 is
///   refused; `responseMimeType: application/json` → a JSON schema format
///   with `responseJsonSchema` or `responseSchema`, else JSON object;
///   `thinkingConfig` → reasoning (`thinkingBudget` > 0 → budget, `0` →
///   minimal effort, `thinkingLevel` → effort).
/// - Other top-level fields go to `extra`, as on the other inbound APIs
///   (`safetySettings` is Gemini-only and dropped; `cachedContent` is refused).
pub fn from_wire_request(wire: InRequest, model: &str) -> Result<ChatRequest, Error> {
    if wire.cached_content.is_some() {
        return Err(Error::unsupported(
            "`cachedContent` names a Gemini cache and cannot be served through the gateway",
        )
        .with_param("cachedContent"));
    }
    let mut messages = Vec::with_capacity(wire.contents.len() + 1);
    if let Some(system) = wire.system_instruction {
        let content = system_parts(system)?;
        if !content.is_empty() {
            messages.push(message(Role::System, content));
        }
    }
    let mut calls = PendingCalls::default();
    for (i, turn) in wire.contents.into_iter().enumerate() {
        turn_messages(turn, i, &mut calls, &mut messages)?;
    }
    let mut request = ChatRequest {
        model: model.to_owned(),
        messages,
        extra: wire.extra,
        ..ChatRequest::default()
    };
    for (i, tool) in wire.tools.into_iter().enumerate() {
        if let Some(kind) = tool.extra.keys().next() {
            return Err(Error::unsupported(format!(
                "tool `{kind}` is Gemini-only; only `functionDeclarations` can be served"
            ))
            .with_param(format!("tools[{i}]")));
        }
        for f in tool.function_declarations {
            let parameters = match (f.parameters_json_schema, f.parameters) {
                (Some(schema), _) => schema,
                (None, Some(schema)) => to_json_schema(schema),
                (None, None) => serde_json::json!({"type": "object", "properties": {}}),
            };
            request.tools.push(Tool {
                name: f.name,
                description: f.description,
                parameters,
                strict: None,
            });
        }
    }
    if let Some(config) = wire.tool_config {
        apply_tool_config(config, &mut request)?;
    }
    if let Some(config) = wire.generation_config {
        apply_generation_config(config, &mut request)?;
    }
    Ok(request)
}

fn message(role: Role, content: Vec<ContentPart>) -> Message {
    Message {
        role,
        content,
        tool_calls: Vec::new(),
        tool_call_id: None,
        name: None,
        is_error: false,
    }
}

fn system_parts(turn: InTurn) -> Result<Vec<ContentPart>, Error> {
    let mut content = Vec::new();
    for (j, part) in turn.parts.into_iter().enumerate() {
        match part.text {
            Some(text) if !part.thought => content.push(ContentPart::Text { text }),
            _ => {
                return Err(Error::invalid_param(
                    format!("systemInstruction.parts[{j}]"),
                    "a system instruction may only hold text parts",
                ));
            }
        }
    }
    Ok(content)
}

/// The function calls of the latest `model` turn still waiting for a
/// result: `(id, name)`.
#[derive(Default)]
struct PendingCalls(Vec<(String, String)>);

impl PendingCalls {
    /// The id of the call `result` answers: its own id, else the first
    /// waiting call of that name, else a new one.
    fn take(&mut self, result: &InFunctionResult, turn: usize, n: usize) -> String {
        if let Some(id) = result.id.as_ref().filter(|s| !s.is_empty()) {
            self.0.retain(|(i, _)| i != id);
            return id.clone();
        }
        match self.0.iter().position(|(_, name)| *name == result.name) {
            Some(k) => self.0.remove(k).0,
            None => format!("call_{turn}_{n}"),
        }
    }
}

/// One part that is plain content (text, thought, image) → a content part;
/// `None` when the part is something else.
fn content_part(part: &mut InRequestPart, path: &str) -> Result<Option<ContentPart>, Error> {
    if let Some(text) = part.text.take() {
        return Ok(Some(if part.thought {
            ContentPart::Reasoning {
                text,
                signature: part.thought_signature.take(),
                redacted: None,
                origin: Some(ORIGIN.to_owned()),
            }
        } else {
            ContentPart::Text { text }
        }));
    }
    if let Some(blob) = part.inline_data.take() {
        if !blob.mime_type.starts_with("image/") {
            return Err(Error::unsupported(format!(
                "inline data of type `{}` is not supported; only images are",
                blob.mime_type
            ))
            .with_param(format!("{path}.inlineData")));
        }
        return Ok(Some(ContentPart::image_base64(blob.mime_type, blob.data)));
    }
    if let Some(file) = part.file_data.take() {
        return Ok(Some(ContentPart::image_url(file.file_uri)));
    }
    Ok(None)
}

fn unknown_part(part: &InRequestPart, path: String) -> Error {
    let kind = part.extra.keys().next().map_or("empty", String::as_str);
    Error::unsupported(format!("part kind `{kind}` is not supported")).with_param(path)
}

fn turn_messages(
    turn: InTurn,
    i: usize,
    calls: &mut PendingCalls,
    out: &mut Vec<Message>,
) -> Result<(), Error> {
    let role = match turn.role.as_deref() {
        None | Some("user" | "function") => Role::User,
        Some("model") => Role::Assistant,
        Some(other) => {
            return Err(Error::invalid_param(
                format!("contents[{i}].role"),
                format!("unknown role `{other}`; expected `user` or `model`"),
            ));
        }
    };
    let mut content = Vec::new();
    if role == Role::Assistant {
        calls.0.clear();
        let mut tool_calls = Vec::new();
        for (j, mut part) in turn.parts.into_iter().enumerate() {
            let path = format!("contents[{i}].parts[{j}]");
            if let Some(call) = part.function_call.take() {
                let id = call
                    .id
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| format!("call_{i}_{}", tool_calls.len()));
                if let Some(signature) = part.thought_signature.take().filter(|s| !s.is_empty()) {
                    content.push(crate::gemini::response::carrier(signature));
                }
                calls.0.push((id.clone(), call.name.clone()));
                tool_calls.push(tool_call(call, id));
                continue;
            }
            let signature = part.thought_signature.clone().filter(|s| !s.is_empty());
            match content_part(&mut part, &path)? {
                Some(p @ ContentPart::Reasoning { .. }) => content.push(p),
                Some(p) => {
                    if let Some(s) = signature {
                        content.push(crate::gemini::response::carrier(s));
                    }
                    content.push(p);
                }
                None if !part.extra.is_empty() => return Err(unknown_part(&part, path)),
                None => {
                    if let Some(s) = signature {
                        content.push(crate::gemini::response::carrier(s));
                    }
                }
            }
        }
        out.push(Message {
            tool_calls,
            ..message(role, content)
        });
        return Ok(());
    }
    let mut n = 0;
    for (j, mut part) in turn.parts.into_iter().enumerate() {
        let path = format!("contents[{i}].parts[{j}]");
        if let Some(result) = part.function_response.take() {
            let id = calls.take(&result, i, n);
            n += 1;
            out.push(tool_message(result, id));
            continue;
        }
        match content_part(&mut part, &path)? {
            Some(p) => content.push(p),
            None if part.extra.is_empty() => {}
            None => return Err(unknown_part(&part, path)),
        }
    }
    if !content.is_empty() {
        out.push(message(role, content));
    }
    Ok(())
}

fn tool_call(call: InCall, id: String) -> ToolCall {
    let arguments = match call.args {
        Value::Null => "{}".to_owned(),
        args => args.to_string(),
    };
    ToolCall {
        id,
        name: call.name,
        arguments,
    }
}

/// A `functionResponse` as a tool message: `{"output": x}` alone is `x`
/// (text as is, else its JSON), `{"error": x}` alone an error result,
/// anything else the object's JSON.
fn tool_message(result: InFunctionResult, id: String) -> Message {
    let mut is_error = false;
    let text = match result.response {
        Value::Object(mut map) if map.len() == 1 && map.contains_key("output") => {
            json_text(map.remove("output").unwrap_or_default())
        }
        Value::Object(mut map) if map.len() == 1 && map.contains_key("error") => {
            is_error = true;
            json_text(map.remove("error").unwrap_or_default())
        }
        Value::Null => "{}".to_owned(),
        other => other.to_string(),
    };
    Message {
        tool_call_id: Some(id),
        name: Some(result.name),
        is_error,
        ..message(Role::Tool, vec![ContentPart::Text { text }])
    }
}

fn json_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn apply_tool_config(config: InToolConfig, request: &mut ChatRequest) -> Result<(), Error> {
    let Some(f) = config.function_calling_config else {
        return Ok(());
    };
    let mode = f.mode.as_deref().unwrap_or("AUTO").to_ascii_uppercase();
    request.tool_choice = Some(match mode.as_str() {
        "AUTO" | "VALIDATED" | "MODE_UNSPECIFIED" => ToolChoice::Auto,
        "NONE" => ToolChoice::None,
        "ANY" => match f.allowed_function_names.as_slice() {
            [one] => ToolChoice::Tool(one.clone()),
            [] => ToolChoice::Required,
            names => {
                request.tools.retain(|t| names.contains(&t.name));
                ToolChoice::Required
            }
        },
        other => {
            return Err(Error::invalid_param(
                "toolConfig.functionCallingConfig.mode",
                format!("unknown mode `{other}`; expected AUTO, ANY, NONE or VALIDATED"),
            ));
        }
    });
    Ok(())
}

fn apply_generation_config(
    config: InGenerationConfig,
    request: &mut ChatRequest,
) -> Result<(), Error> {
    if config.candidate_count.is_some_and(|n| n > 1) {
        return Err(Error::unsupported("only one candidate can be generated")
            .with_param("generationConfig.candidateCount"));
    }
    request.temperature = config.temperature;
    request.top_p = config.top_p;
    request.max_tokens = config.max_output_tokens;
    request.stop = config.stop_sequences;
    request.presence_penalty = config.presence_penalty;
    request.frequency_penalty = config.frequency_penalty;
    request.seed = config.seed;
    if let Some(k) = config.top_k {
        request.extra.insert("top_k".into(), Value::from(k as u64));
    }
    let schema = config
        .response_json_schema
        .or_else(|| config.response_schema.map(to_json_schema));
    request.response_format = match config.response_mime_type.as_deref() {
        None | Some("text/plain" | "") => None,
        Some("application/json") => Some(match schema {
            Some(schema) => ResponseFormat::JsonSchema {
                name: "response".to_owned(),
                description: None,
                schema,
                strict: None,
            },
            None => ResponseFormat::JsonObject,
        }),
        Some(other) => {
            return Err(Error::unsupported(format!(
                "responseMimeType `{other}` is not supported; use text/plain or application/json"
            ))
            .with_param("generationConfig.responseMimeType"));
        }
    };
    if let Some(thinking) = config.thinking_config {
        let effort = match thinking
            .thinking_level
            .as_deref()
            .map(str::to_ascii_uppercase)
        {
            Some(level) => Some(match level.as_str() {
                "MINIMAL" => ReasoningEffort::Minimal,
                "LOW" => ReasoningEffort::Low,
                "MEDIUM" => ReasoningEffort::Medium,
                "HIGH" => ReasoningEffort::High,
                _ => {
                    return Err(Error::invalid_param(
                        "generationConfig.thinkingConfig.thinkingLevel",
                        format!("unknown thinking level `{level}`"),
                    ));
                }
            }),
            None if thinking.thinking_budget == Some(0) => Some(ReasoningEffort::Minimal),
            None => None,
        };
        let budget = thinking
            .thinking_budget
            .filter(|b| *b > 0)
            .map(|b| u32::try_from(b).unwrap_or(u32::MAX));
        if effort.is_some() || budget.is_some() {
            request.reasoning = Some(Reasoning {
                effort,
                budget_tokens: budget,
            });
        }
    }
    Ok(())
}
