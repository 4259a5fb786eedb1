//! Core requests → `generateContent` bodies: generation config, tools,
//! tool choice and `extra`.

use serde_json::{Map, Value};
use switchboard_core::{
    ChatRequest, ContentPart, Error, ReasoningEffort, ResponseFormat, Role, ToolChoice,
};

use super::messages::{model_parts, text_part, tool_parts, user_parts};
use crate::gemini::types::{self as wire, Content, Part};
use crate::gemini::{RequestOptions, schema};

/// `generationConfig` fields a request's `extra` may set directly (camelCase,
/// or snake_case for the names marked).
const GENERATION_CONFIG_KEYS: &[(&str, &str)] = &[
    ("topK", "top_k"),
    ("candidateCount", "candidate_count"),
    ("responseModalities", "response_modalities"),
    ("mediaResolution", "media_resolution"),
    ("responseLogprobs", "response_logprobs"),
    ("speechConfig", "speech_config"),
    ("thinkingConfig", "thinking_config"),
    ("responseSchema", "response_schema"),
    ("responseJsonSchema", "response_json_schema"),
    ("responseMimeType", "response_mime_type"),
    (
        "enableEnhancedCivicAnswers",
        "enable_enhanced_civic_answers",
    ),
    ("imageConfig", "image_config"),
];

/// Top-level request fields a request's `extra` may set (camelCase, snake_case).
const TOP_LEVEL_KEYS: &[(&str, &str)] = &[
    ("cachedContent", "cached_content"),
    ("safetySettings", "safety_settings"),
    ("toolConfig", "tool_config"),
    ("labels", "labels"),
];

/// Core request fields that must not also come through `extra`, and wire
/// fields built from them.
const TYPED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "contents",
    "systemInstruction",
    "system_instruction",
    "tools",
    "tool_choice",
    "temperature",
    "top_p",
    "topP",
    "max_tokens",
    "maxOutputTokens",
    "stop",
    "stopSequences",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "stream",
];

/// The thinking budget used for a reasoning effort (Gemini takes a token
/// budget): minimal 128, low 1024, medium 8192, high 24576.
pub fn effort_budget(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Minimal => 128,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::High => 24_576,
    }
}

/// Builds the `generateContent` body for `req`.
pub fn to_wire_request<'a>(
    req: &'a ChatRequest,
    cfg: &'a RequestOptions,
) -> Result<wire::GenerateContentRequest<'a>, Error> {
    let mut system: Vec<Part<'a>> = Vec::new();
    let mut contents: Vec<Content<'a>> = Vec::new();
    let mut last_was_tool = false;
    for (i, m) in req.messages.iter().enumerate() {
        let is_tool = m.role == Role::Tool;
        match m.role {
            Role::System | Role::Developer => {
                for (j, part) in m.content.iter().enumerate() {
                    match part {
                        ContentPart::Text { text } => system.push(text_part(text)),
                        ContentPart::Reasoning { .. } => {}
                        _ => {
                            return Err(Error::unsupported(
                                "Gemini's system instruction takes only text",
                            )
                            .with_param(format!("messages[{i}].content[{j}]")));
                        }
                    }
                }
            }
            Role::User => contents.push(Content {
                role: Some("user"),
                parts: user_parts(m, i)?,
            }),
            Role::Assistant => contents.push(Content {
                role: Some("model"),
                parts: model_parts(m, i, cfg)?,
            }),
            Role::Tool => {
                let parts = tool_parts(m, i, &req.messages[..i])?;
                match contents.last_mut() {
                    // Results of parallel calls go in one turn, in order.
                    Some(last) if last_was_tool => last.parts.extend(parts),
                    _ => contents.push(Content {
                        role: Some("user"),
                        parts,
                    }),
                }
            }
        }
        last_was_tool = is_tool;
    }

    let mut tools = Vec::new();
    if !req.tools.is_empty() {
        let mut declarations = Vec::with_capacity(req.tools.len());
        for (i, t) in req.tools.iter().enumerate() {
            declarations.push(wire::FunctionDeclaration {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: schema::function_parameters(&t.parameters)
                    .map_err(|e| e.with_param(format!("tools[{i}].parameters")))?,
            });
        }
        tools.push(wire::Tool {
            function_declarations: declarations,
        });
    }

    let tool_config = req.tool_choice.as_ref().map(|choice| {
        let config = match choice {
            ToolChoice::Auto => serde_json::json!({ "mode": "AUTO" }),
            ToolChoice::None => serde_json::json!({ "mode": "NONE" }),
            ToolChoice::Required => serde_json::json!({ "mode": "ANY" }),
            ToolChoice::Tool(name) => {
                serde_json::json!({ "mode": "ANY", "allowedFunctionNames": [name] })
            }
        };
        serde_json::json!({ "functionCallingConfig": config })
    });

    let mut wire = wire::GenerateContentRequest {
        contents,
        // With role `user`, as Google's SDKs send it.
        system_instruction: (!system.is_empty()).then_some(Content {
            role: Some("user"),
            parts: system,
        }),
        tools,
        tool_config,
        safety_settings: cfg.safety_settings.clone(),
        generation_config: cfg
            .generation_config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        extra: Map::new(),
    };
    absorb_extra(&mut wire, &req.extra)?;
    apply_typed(&mut wire.generation_config, req, cfg);
    Ok(wire)
}

fn apply_typed(gc: &mut Map<String, Value>, req: &ChatRequest, cfg: &RequestOptions) {
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            gc.insert(k.to_owned(), v);
        }
    };
    set("temperature", req.temperature.map(f32_value));
    set("topP", req.top_p.map(f32_value));
    set("maxOutputTokens", req.max_tokens.map(Value::from));
    set("seed", req.seed.map(Value::from));
    set("presencePenalty", req.presence_penalty.map(f32_value));
    set("frequencyPenalty", req.frequency_penalty.map(f32_value));
    if !req.stop.is_empty() {
        set("stopSequences", Some(Value::from(req.stop.clone())));
    }
    match &req.response_format {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            set(
                "responseMimeType",
                Some(Value::String("application/json".into())),
            );
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            set(
                "responseMimeType",
                Some(Value::String("application/json".into())),
            );
            set("responseJsonSchema", Some(schema.clone()));
        }
    }
    if let Some(r) = &req.reasoning {
        let budget = r.budget_tokens.or(r.effort.map(effort_budget));
        let entry = gc
            .entry("thinkingConfig")
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        if let Value::Object(tc) = entry {
            if let Some(b) = budget {
                tc.insert("thinkingBudget".into(), Value::from(b));
            }
            if cfg.include_thoughts {
                tc.insert("includeThoughts".into(), Value::Bool(true));
            }
        }
    }
}

fn absorb_extra(
    wire: &mut wire::GenerateContentRequest<'_>,
    extra: &Map<String, Value>,
) -> Result<(), Error> {
    for (key, value) in extra {
        let param = || format!("extra.{key}");
        let k = key.as_str();
        if TYPED_FIELDS.contains(&k) {
            return Err(Error::invalid_param(
                param(),
                format!("`{key}` has its own request field; set it there, not in `extra`"),
            ));
        }
        if k == "generationConfig" || k == "generation_config" {
            let Value::Object(map) = value else {
                return Err(Error::invalid_param(
                    param(),
                    "`generationConfig` must be an object",
                ));
            };
            wire.generation_config
                .extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            continue;
        }
        if let Some((camel, _)) = GENERATION_CONFIG_KEYS
            .iter()
            .find(|(camel, snake)| k == *camel || k == *snake)
        {
            wire.generation_config
                .insert((*camel).to_owned(), value.clone());
            continue;
        }
        if let Some((camel, _)) = TOP_LEVEL_KEYS
            .iter()
            .find(|(camel, snake)| k == *camel || k == *snake)
        {
            match *camel {
                "safetySettings" => {
                    wire.safety_settings = serde_json::from_value(value.clone()).map_err(|e| {
                        Error::invalid_param(param(), format!("invalid safety settings: {e}"))
                    })?;
                }
                "toolConfig" if wire.tool_config.is_some() => {
                    return Err(Error::invalid_param(
                        param(),
                        "`toolConfig` is given both as `tool_choice` and in `extra`",
                    ));
                }
                "toolConfig" => wire.tool_config = Some(value.clone()),
                _ => {
                    wire.extra.insert((*camel).to_owned(), value.clone());
                }
            }
            continue;
        }
        match k {
            // OpenAI's names, as the OpenAI inbound API leaves them in `extra`.
            "logprobs" => {
                wire.generation_config
                    .insert("responseLogprobs".into(), value.clone());
            }
            "top_logprobs" => {
                wire.generation_config
                    .insert("logprobs".into(), value.clone());
            }
            "n" => {
                if value.as_u64() != Some(1) {
                    return Err(Error::unsupported(
                        "only one candidate is read; `n` must be 1 (use `candidateCount` to ask Gemini for more)",
                    )
                    .with_param(param()));
                }
            }
            // Anything else is sent as a top-level field: Gemini rejects
            // names it does not know with an error naming them, so nothing
            // is dropped silently.
            _ => {
                wire.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

/// An `f32` as the JSON number a person would write (`0.2`, `1`).
pub(crate) fn f32_value(f: f32) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(f as i64);
    }
    f.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}
