//! Core requests → `generateContent` bodies, and Gemini answers → core responses.
//!
//! # Thought signatures
//!
//! Gemini attaches an opaque `thoughtSignature` to some parts of an answer
//! — thought parts, the first `functionCall` part of a step, the last text
//! part — and Gemini 3 models reject a later turn whose replayed function
//! calls lack theirs (`Function call is missing a thought_signature in
//! functionCall parts`). The core vocabulary keeps signatures only on
//! reasoning parts, so they are carried like this:
//!
//! - a **thought** part becomes a reasoning part with its text and signature;
//! - a signature on any **other** part becomes a *signature carrier* — a
//!   reasoning part with empty text and the signature — placed just before
//!   that part's text, or, for a function call, at the end of the content
//!   (the message's tool calls come after its content);
//! - when the message is sent back, a carrier's signature goes on the next
//!   part written (text or image), and a carrier with no part after it goes
//!   on the message's first function call — or, if there is none, on an
//!   empty text part. An empty signature means none.
//!
//! When the first replayed function call of a turn still has no signature
//! (the conversation came through a client that drops them, such as an
//! OpenAI-format client), Google's documented placeholder
//! [`SKIP_THOUGHT_SIGNATURE`] is sent instead (`thought_signature_fallback`).
//!
//! # Provenance
//!
//! Gemini rejects thought signatures it did not issue, so every reasoning
//! part read from Gemini — thought parts and signature carriers, whole or
//! streamed — gets origin [`ORIGIN`] (`"gemini"`), and a reasoning part is
//! replayed (thought text, signature, carrier) only when its origin is
//! `None` (unknown: conversations saved before origins were recorded) or
//! `"gemini"`. Another family's reasoning — an Anthropic thinking block, say
//! — is left out whole, signed or not; the fallback above still gives the
//! turn's first function call its placeholder.
//!
//! # Tool errors
//!
//! A tool message with `is_error` sends its result under
//! `functionResponse.response.error` — the key Google's docs name for a
//! function's error details — instead of `output`: `{"error": <the result
//! object, or its text>}`.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{
    ChatRequest, ChatResponse, ContentPart, Error, FinishReason, ImageSource, Message,
    ReasoningEffort, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

use crate::wire::{self, Content, Part};
use crate::{GeminiConfig, schema};

/// The origin of Gemini's reasoning parts and thought signatures
/// ([`ContentPart::Reasoning`]'s `origin`); see the module docs.
pub const ORIGIN: &str = "gemini";

/// Google's placeholder for a missing thought signature, documented for
/// conversations that were not produced by Gemini
/// (<https://ai.google.dev/gemini-api/docs/thought-signatures>).
pub const SKIP_THOUGHT_SIGNATURE: &str = "skip_thought_signature_validator";

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
pub(crate) fn effort_budget(effort: ReasoningEffort) -> u32 {
    match effort {
        ReasoningEffort::Minimal => 128,
        ReasoningEffort::Low => 1024,
        ReasoningEffort::Medium => 8192,
        ReasoningEffort::High => 24_576,
    }
}

/// Builds the `generateContent` body for `req`.
pub(crate) fn generate_request<'a>(
    req: &'a ChatRequest,
    cfg: &'a GeminiConfig,
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

fn apply_typed(gc: &mut Map<String, Value>, req: &ChatRequest, cfg: &GeminiConfig) {
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

fn text_part(text: &str) -> Part<'_> {
    Part {
        text: Some(Cow::Borrowed(text)),
        ..Part::default()
    }
}

fn user_parts(m: &Message, i: usize) -> Result<Vec<Part<'_>>, Error> {
    let mut parts = Vec::with_capacity(m.content.len());
    for (j, part) in m.content.iter().enumerate() {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => {
                if !text.is_empty() {
                    parts.push(text_part(text));
                }
            }
            ContentPart::Image { source, .. } => {
                parts.push(
                    image_part(source)
                        .map_err(|e| e.with_param(format!("messages[{i}].content[{j}]")))?,
                );
            }
            ContentPart::Reasoning { .. } => {}
        }
    }
    if parts.is_empty() {
        parts.push(text_part(""));
    }
    Ok(parts)
}

/// An image as `inlineData` (base64, `data:` URLs) or `fileData` (files
/// uploaded through the Files API, `gs://` objects).
fn image_part(source: &ImageSource) -> Result<Part<'_>, Error> {
    match source {
        ImageSource::Base64 { media_type, data } => Ok(Part {
            inline_data: Some(wire::Blob {
                mime_type: Cow::Borrowed(media_type),
                data,
            }),
            ..Part::default()
        }),
        ImageSource::Url { url } => {
            if let Some((mime, data)) = parse_data_url(url) {
                return Ok(Part {
                    inline_data: Some(wire::Blob {
                        mime_type: Cow::Borrowed(mime),
                        data,
                    }),
                    ..Part::default()
                });
            }
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("gs://")
                || lower.starts_with("https://generativelanguage.googleapis.com/")
            {
                return Ok(Part {
                    file_data: Some(wire::FileData {
                        mime_type: image_mime_from_name(&lower),
                        file_uri: url,
                    }),
                    ..Part::default()
                });
            }
            Err(Error::unsupported(
                "Gemini does not fetch images from http(s) URLs; send the image inline (base64 or a data: URL), or upload it with the Files API and pass its URI",
            ))
        }
    }
}

fn parse_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let mime = meta.strip_suffix(";base64")?;
    (!mime.is_empty()).then_some((mime, data))
}

fn image_mime_from_name(name: &str) -> Option<&'static str> {
    let path = name.split(['?', '#']).next().unwrap_or(name);
    let ext = path.rsplit('.').next()?;
    Some(match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

/// The parts of a `model` turn; see the module docs for signatures.
fn model_parts<'a>(m: &'a Message, i: usize, cfg: &GeminiConfig) -> Result<Vec<Part<'a>>, Error> {
    let replay = cfg.replay_thought_signatures;
    let mut parts: Vec<Part<'a>> = Vec::with_capacity(m.content.len() + m.tool_calls.len());
    let mut pending: Option<&'a str> = None;
    let sig = |s: Option<&'a str>| s.filter(|s| replay && !s.is_empty()).map(Cow::Borrowed);
    for (j, part) in m.content.iter().enumerate() {
        match part {
            ContentPart::Reasoning { origin, .. }
                if !ContentPart::reasoning_origin_compatible(origin.as_deref(), ORIGIN) =>
            {
                // Another family's reasoning: Gemini rejects foreign
                // signatures, and the thought text belongs with them.
            }
            ContentPart::Reasoning {
                text, signature, ..
            } => {
                if text.is_empty() {
                    if let Some(s) = signature.as_deref().filter(|s| !s.is_empty()) {
                        pending = Some(s);
                    }
                } else {
                    parts.push(Part {
                        text: Some(Cow::Borrowed(text)),
                        thought: Some(true),
                        thought_signature: sig(signature.as_deref()),
                        ..Part::default()
                    });
                }
            }
            // Gemini rejects empty text parts, except as a signature's holder
            // (it sends those itself).
            ContentPart::Text { text } | ContentPart::Refusal { text }
                if text.is_empty() && pending.is_none() => {}
            ContentPart::Text { text } | ContentPart::Refusal { text } => parts.push(Part {
                text: Some(Cow::Borrowed(text)),
                thought_signature: sig(pending.take()),
                ..Part::default()
            }),
            ContentPart::Image { source, .. } => {
                let mut p = image_part(source)
                    .map_err(|e| e.with_param(format!("messages[{i}].content[{j}]")))?;
                p.thought_signature = sig(pending.take());
                parts.push(p);
            }
        }
    }
    for (j, call) in m.tool_calls.iter().enumerate() {
        let args = arguments_object(&call.arguments)
            .map_err(|e| e.with_param(format!("messages[{i}].tool_calls[{j}].arguments")))?;
        let mut signature = if j == 0 { sig(pending.take()) } else { None };
        if j == 0 && signature.is_none() && cfg.thought_signature_fallback {
            signature = Some(Cow::Borrowed(SKIP_THOUGHT_SIGNATURE));
        }
        parts.push(Part {
            function_call: Some(wire::FunctionCall {
                name: &call.name,
                args,
            }),
            thought_signature: signature,
            ..Part::default()
        });
    }
    if let Some(s) = sig(pending.take()) {
        parts.push(Part {
            text: Some(Cow::Borrowed("")),
            thought_signature: Some(s),
            ..Part::default()
        });
    }
    if parts.is_empty() {
        parts.push(text_part(""));
    }
    Ok(parts)
}

/// Tool-call arguments (JSON text) as the object Gemini wants. Empty text is `{}`.
fn arguments_object(arguments: &str) -> Result<Value, Error> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Error::invalid_request(
            "tool-call arguments must be a JSON object for Gemini",
        )),
        Err(e) => Err(Error::invalid_request(format!(
            "tool-call arguments are not valid JSON ({e})"
        ))),
    }
}

/// The name of the tool call `id` in the nearest earlier assistant message.
fn tool_name_for<'a>(id: &str, before: &'a [Message]) -> Option<&'a str> {
    before
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| m.tool_calls.iter().find(|c| c.id == id))
        .map(|c| c.name.as_str())
}

/// A tool result as a `functionResponse` part (plus any images it carries).
///
/// Gemini matches results to calls by function **name**, so the name is
/// looked up from `tool_call_id` in the earlier assistant messages (the
/// nearest call with that id), falling back to the message's `name`. The
/// result text becomes the `response` object: a JSON object is sent as it
/// is; anything else is wrapped as `{"output": "<text>"}` (the key Google's
/// docs name for a function's output). An error result (`is_error`) is
/// wrapped as `{"error": <object or text>}` (the key for error details).
fn tool_parts<'a>(m: &'a Message, i: usize, before: &'a [Message]) -> Result<Vec<Part<'a>>, Error> {
    let id = m.tool_call_id.as_deref().unwrap_or_default();
    let name = tool_name_for(id, before)
        .or(m.name.as_deref())
        .ok_or_else(|| {
            Error::invalid_param(
                format!("messages[{i}].tool_call_id"),
                format!(
                    "Gemini matches tool results by function name, and no earlier assistant message has a tool call with id `{id}` (give the tool message a `name`)"
                ),
            )
        })?;
    let mut text = String::new();
    let mut extra = Vec::new();
    for (j, part) in m.content.iter().enumerate() {
        match part {
            ContentPart::Text { text: t } | ContentPart::Refusal { text: t } => text.push_str(t),
            ContentPart::Image { source, .. } => {
                extra.push(
                    image_part(source)
                        .map_err(|e| e.with_param(format!("messages[{i}].content[{j}]")))?,
                );
            }
            ContentPart::Reasoning { .. } => {}
        }
    }
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) if m.is_error => serde_json::json!({ "error": v }),
        _ if m.is_error => serde_json::json!({ "error": text }),
        Ok(v @ Value::Object(_)) => v,
        _ => serde_json::json!({ "output": text }),
    };
    let mut parts = vec![Part {
        function_response: Some(wire::FunctionResponse { name, response }),
        ..Part::default()
    }];
    parts.extend(extra);
    Ok(parts)
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/// A completion id for an answer without `responseId`.
pub(crate) fn new_id() -> String {
    format!("gemini-{:016x}", fastrand::u64(..))
}

/// The id of the `index`-th function call of answer `response_id`, for
/// calls without one: `call_<responseId>_<index>` — deterministic for one
/// answer, distinct across answers.
pub(crate) fn tool_call_id(response_id: &str, index: usize) -> String {
    format!("call_{response_id}_{index}")
}

/// Maps a `finishReason`. `STOP` with function calls is `tool_calls`.
///
/// | Gemini | core |
/// | --- | --- |
/// | `STOP` | `stop` (`tool_calls` when the answer called functions) |
/// | `MAX_TOKENS` | `length` |
/// | `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII`, `IMAGE_SAFETY` | `content_filter` |
/// | `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`, `LANGUAGE`, `OTHER`, anything else | the Gemini name, verbatim |
pub(crate) fn finish_reason(reason: &str, has_tool_calls: bool) -> FinishReason {
    match reason {
        "STOP" | "FINISH_REASON_UNSPECIFIED" | "" if has_tool_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_owned()),
    }
}

/// `usageMetadata` as usage. Gemini counts thinking apart from the answer
/// (`candidatesTokenCount` excludes `thoughtsTokenCount`); core output
/// tokens include reasoning, so output = candidates + thoughts and
/// reasoning = thoughts. Input = prompt + tool-use prompt tokens; cached =
/// `cachedContentTokenCount`; total = `totalTokenCount` (else input + output).
pub(crate) fn usage(u: &wire::UsageMetadata) -> Usage {
    // Saturating: the counts come from the network.
    let input = u
        .prompt_token_count
        .unwrap_or(0)
        .saturating_add(u.tool_use_prompt_token_count.unwrap_or(0));
    let thoughts = u.thoughts_token_count.unwrap_or(0);
    let output = u
        .candidates_token_count
        .unwrap_or(0)
        .saturating_add(thoughts);
    Usage {
        input_tokens: input,
        output_tokens: output,
        cached_input_tokens: u.cached_content_token_count.unwrap_or(0),
        cache_write_input_tokens: 0,
        reasoning_tokens: thoughts,
        total_tokens: u.total_token_count.unwrap_or(input.saturating_add(output)),
    }
}

/// A signature carrier: a reasoning part with no text, origin [`ORIGIN`].
fn carrier(signature: String) -> ContentPart {
    ContentPart::Reasoning {
        text: String::new(),
        signature: Some(signature),
        redacted: None,
        origin: Some(ORIGIN.to_owned()),
    }
}

/// The first candidate (the one with `index` 0 when indices are given).
pub(crate) fn first_candidate(candidates: Vec<wire::Candidate>) -> Option<wire::Candidate> {
    let mut iter = candidates.into_iter();
    let first = iter.next()?;
    if first.index.unwrap_or(0) == 0 {
        return Some(first);
    }
    iter.find(|c| c.index == Some(0)).or(Some(first))
}

/// Converts a whole `generateContent` answer.
///
/// A prompt blocked before any candidate was produced
/// (`promptFeedback.blockReason`, no `candidates`) is an answer with no
/// content and finish reason `content_filter`; the block reason is in
/// `extra.blockReason` (so it reaches clients as an ordinary, filtered answer,
/// like a blocked completion, and is not retried elsewhere).
pub(crate) fn response(
    mut wire: wire::GenerateContentResponse,
    request_model: &str,
    instance: &str,
) -> Result<ChatResponse, Error> {
    if let Some(error) = wire.error.take().filter(|e| !e.is_null()) {
        return Err(crate::error::error_from_value(&error));
    }
    let id = wire
        .response_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(new_id);
    let mut extra = std::mem::take(&mut wire.extra);
    let block = wire
        .prompt_feedback
        .as_mut()
        .and_then(|f| f.block_reason.take());
    if let Some(feedback) = wire.prompt_feedback.take()
        && !feedback.extra.is_empty()
    {
        extra.insert("promptFeedback".into(), Value::Object(feedback.extra));
    }
    let usage = wire.usage_metadata.as_ref().map(usage).unwrap_or_default();
    let model = wire
        .model_version
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| request_model.to_owned());
    let mut response = ChatResponse {
        id,
        model,
        provider: instance.to_owned(),
        usage,
        ..ChatResponse::default()
    };
    let Some(candidate) = first_candidate(std::mem::take(&mut wire.candidates)) else {
        let Some(reason) = block else {
            return Err(Error::protocol("Gemini's answer has no candidates"));
        };
        extra.insert("blockReason".into(), Value::String(reason));
        response.finish_reason = FinishReason::ContentFilter;
        response.extra = extra;
        return Ok(response);
    };
    let mut fc_carriers = Vec::new();
    for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
        let signature = part.thought_signature.filter(|s| !s.is_empty());
        if let Some(call) = part.function_call {
            let index = response.tool_calls.len();
            if let Some(s) = signature {
                fc_carriers.push(s);
            }
            response.tool_calls.push(ToolCall {
                id: call
                    .id
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| tool_call_id(&response.id, index)),
                name: call.name.clone(),
                arguments: call.arguments_text(),
            });
        } else if part.thought {
            response.content.push(ContentPart::Reasoning {
                text: part.text.unwrap_or_default(),
                signature,
                redacted: None,
                origin: Some(ORIGIN.to_owned()),
            });
        } else if let Some(text) = part.text {
            if let Some(s) = signature {
                response.content.push(carrier(s));
            }
            response.content.push(ContentPart::text(text));
        } else if let Some(s) = signature {
            response.content.push(carrier(s));
        }
    }
    response
        .content
        .extend(fc_carriers.into_iter().map(carrier));
    response.finish_reason = match candidate.finish_reason.as_deref() {
        Some(r) => finish_reason(r, !response.tool_calls.is_empty()),
        None if !response.tool_calls.is_empty() => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    };
    extra.extend(candidate.extra);
    response.extra = extra;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::{Reasoning, Tool};

    fn cfg() -> GeminiConfig {
        GeminiConfig::new("k")
    }

    fn body(req: &ChatRequest, cfg: &GeminiConfig) -> Value {
        serde_json::to_value(generate_request(req, cfg).expect("maps")).expect("serializes")
    }

    #[test]
    fn request_fields_map() {
        let mut req = ChatRequest::new(
            "gemini-2.5-flash",
            vec![
                Message::system("I say high you say low"),
                Message::user("high"),
            ],
        )
        .temperature(0.7)
        .max_tokens(200);
        req.top_p = Some(0.95);
        req.seed = Some(42);
        req.stop = vec!["END".into()];
        req.presence_penalty = Some(0.5);
        req.frequency_penalty = Some(-0.5);
        req.reasoning = Some(Reasoning {
            effort: Some(ReasoningEffort::Low),
            budget_tokens: None,
        });
        req.response_format = Some(ResponseFormat::JsonSchema {
            name: "r".into(),
            description: None,
            schema: json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}),
            strict: Some(true),
        });
        req.extra.insert("top_k".into(), json!(40));
        req.extra
            .insert("cachedContent".into(), json!("cachedContents/abc"));
        let mut config = cfg();
        config
            .generation_config
            .insert("candidateCount".into(), json!(1));
        config
            .generation_config
            .insert("temperature".into(), json!(1.5));
        config.safety_settings.push(crate::SafetySetting {
            category: "HARM_CATEGORY_HARASSMENT".into(),
            threshold: "BLOCK_ONLY_HIGH".into(),
        });
        assert_eq!(
            body(&req, &config),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "high"}]}],
                "systemInstruction": {"parts": [{"text": "I say high you say low"}], "role": "user"},
                "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
                "generationConfig": {
                    "candidateCount": 1, "temperature": 0.7, "topP": 0.95, "maxOutputTokens": 200,
                    "seed": 42, "stopSequences": ["END"], "presencePenalty": 0.5, "frequencyPenalty": -0.5,
                    "topK": 40, "responseMimeType": "application/json",
                    "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false},
                    "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}
                },
                "cachedContent": "cachedContents/abc"
            })
        );
    }

    #[test]
    fn tools_and_tool_choice() {
        let mut req = ChatRequest::new("m", vec![Message::user("100/2?")])
            .tool(Tool::new(
                "customDivide",
                "Custom divide function",
                json!({"$schema": "x", "type": "object", "properties": {"numerator": {"type": "number"}, "denominator": {"type": "number"}}, "additionalProperties": false}),
            ))
            .tool(Tool::new("now", "The time", json!({"type": "object", "properties": {}})));
        req.tool_choice = Some(ToolChoice::Tool("customDivide".into()));
        let v = body(&req, &cfg());
        assert_eq!(
            v["tools"],
            json!([{"functionDeclarations": [
                {"name": "customDivide", "description": "Custom divide function",
                 "parameters": {"type": "object", "properties": {"numerator": {"type": "number"}, "denominator": {"type": "number"}}}},
                {"name": "now", "description": "The time"}
            ]}])
        );
        assert_eq!(
            v["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["customDivide"]}})
        );
        for (choice, mode) in [
            (ToolChoice::Auto, "AUTO"),
            (ToolChoice::None, "NONE"),
            (ToolChoice::Required, "ANY"),
        ] {
            req.tool_choice = Some(choice);
            assert_eq!(
                body(&req, &cfg())["toolConfig"],
                json!({"functionCallingConfig": {"mode": mode}})
            );
        }
    }

    #[test]
    fn tool_turns_match_results_by_name_and_group_parallel_results() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("weather?"),
                Message {
                    content: vec![ContentPart::text("Checking.")],
                    ..Message::assistant_tool_calls(vec![
                        ToolCall {
                            id: "a".into(),
                            name: "get_weather".into(),
                            arguments: r#"{"city":"Paris"}"#.into(),
                        },
                        ToolCall {
                            id: "b".into(),
                            name: "get_time".into(),
                            arguments: String::new(),
                        },
                    ])
                },
                Message::tool_result("a", r#"{"temp": 18}"#),
                Message::tool_result("b", "12:00"),
                Message::user("thanks"),
            ],
        );
        let v = body(&req, &cfg());
        assert_eq!(
            v["contents"],
            json!([
                {"role": "user", "parts": [{"text": "weather?"}]},
                {"role": "model", "parts": [
                    {"text": "Checking."},
                    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE},
                    {"functionCall": {"name": "get_time", "args": {}}}
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
                    {"functionResponse": {"name": "get_time", "response": {"output": "12:00"}}}
                ]},
                {"role": "user", "parts": [{"text": "thanks"}]}
            ])
        );
        let mut no_fallback = cfg();
        no_fallback.thought_signature_fallback = false;
        assert!(
            body(&req, &no_fallback)["contents"][1]["parts"][1]
                .get("thoughtSignature")
                .is_none()
        );

        let orphan = ChatRequest::new(
            "m",
            vec![Message::user("x"), Message::tool_result("zzz", "1")],
        );
        let err = generate_request(&orphan, &cfg()).expect_err("unknown call");
        assert_eq!(err.param(), Some("messages[1].tool_call_id"));
        let mut named = orphan.clone();
        named.messages[1].name = Some("lookup".into());
        assert_eq!(
            body(&named, &cfg())["contents"][1]["parts"][0]["functionResponse"]["name"],
            "lookup"
        );
    }

    #[test]
    fn images() {
        let req = |part: ContentPart| {
            ChatRequest::new(
                "m",
                vec![Message {
                    content: vec![ContentPart::text("what?"), part],
                    ..Message::user("")
                }],
            )
        };
        let v = body(&req(ContentPart::image_base64("image/png", "AAAA")), &cfg());
        assert_eq!(
            v["contents"][0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/png", "data": "AAAA"}})
        );
        let v = body(
            &req(ContentPart::image_url("data:image/jpeg;base64,BBBB")),
            &cfg(),
        );
        assert_eq!(
            v["contents"][0]["parts"][1],
            json!({"inlineData": {"mimeType": "image/jpeg", "data": "BBBB"}})
        );
        let v = body(&req(ContentPart::image_url("gs://bucket/cat.png")), &cfg());
        assert_eq!(
            v["contents"][0]["parts"][1],
            json!({"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/cat.png"}})
        );
        let files = "https://generativelanguage.googleapis.com/v1beta/files/abc123";
        let v = body(&req(ContentPart::image_url(files)), &cfg());
        assert_eq!(
            v["contents"][0]["parts"][1],
            json!({"fileData": {"fileUri": files}})
        );
        let err = generate_request(
            &req(ContentPart::image_url("https://example.com/cat.png")),
            &cfg(),
        )
        .expect_err("http");
        assert_eq!(err.kind(), &switchboard_core::ErrorKind::Unsupported);
        assert_eq!(err.param(), Some("messages[0].content[1]"));
    }

    #[test]
    fn signatures_are_carried_back() {
        let answer: wire::GenerateContentResponse = serde_json::from_value(json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Need weather.", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
                {"text": "Let me check.", "thoughtSignature": "SIG_TEXT"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_CALL"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
            ]}, "finishReason": "STOP"}],
            "responseId": "resp1"
        }))
        .expect("parses");
        let resp = response(answer, "m", "g").expect("converts");
        assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
        assert_eq!(resp.tool_calls[0].id, "call_resp1_0");
        assert_eq!(resp.tool_calls[1].id, "call_resp1_1");
        assert_eq!(resp.text(), "Let me check.");
        let req = ChatRequest::new("m", vec![Message::user("weather?"), resp.to_message()]);
        assert_eq!(
            body(&req, &cfg())["contents"][1]["parts"],
            json!([
                {"text": "Need weather.", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
                {"text": "Let me check.", "thoughtSignature": "SIG_TEXT"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "SIG_CALL"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Rome"}}}
            ])
        );
        let mut off = cfg();
        off.replay_thought_signatures = false;
        let parts = body(&req, &off)["contents"][1]["parts"].clone();
        assert_eq!(parts[0], json!({"text": "Need weather.", "thought": true}));
        assert_eq!(
            parts[2]["thoughtSignature"],
            json!(SKIP_THOUGHT_SIGNATURE),
            "the fallback still applies"
        );
    }

    #[test]
    fn only_gemini_and_unknown_reasoning_is_replayed() {
        let reasoning =
            |text: &str, signature: &str, origin: Option<&str>| ContentPart::Reasoning {
                text: text.into(),
                signature: Some(signature.into()),
                redacted: None,
                origin: origin.map(Into::into),
            };
        let msg = Message {
            content: vec![
                reasoning("Claude thinks", "ANTHROPIC_SIG", Some("anthropic")),
                ContentPart::Reasoning {
                    text: String::new(),
                    signature: None,
                    redacted: Some("ENCRYPTED".into()),
                    origin: Some("anthropic".into()),
                },
                reasoning("", "FOREIGN_CARRIER", Some("mock")),
                reasoning("Gemini thinks", "SIG_THOUGHT", Some(ORIGIN)),
                // Saved before origins were recorded: replayed as before.
                reasoning("", "OLD_SIG", None),
                ContentPart::text("Hi"),
            ],
            ..Message::assistant_tool_calls(vec![ToolCall {
                id: "a".into(),
                name: "f".into(),
                arguments: "{}".into(),
            }])
        };
        let req = ChatRequest::new("m", vec![Message::user("x"), msg]);
        assert_eq!(
            body(&req, &cfg())["contents"][1]["parts"],
            json!([
                {"text": "Gemini thinks", "thought": true, "thoughtSignature": "SIG_THOUGHT"},
                {"text": "Hi", "thoughtSignature": "OLD_SIG"},
                {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": SKIP_THOUGHT_SIGNATURE}
            ])
        );
    }

    #[test]
    fn tool_errors_go_under_the_error_key() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "lookup".into(),
            arguments: "{}".into(),
        };
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("x"),
                Message::assistant_tool_calls(vec![call("a"), call("b"), call("c")]),
                Message::tool_error("a", "no such city"),
                Message::tool_error("b", r#"{"code": 404}"#),
                Message::tool_result("c", "fine"),
            ],
        );
        assert_eq!(
            body(&req, &cfg())["contents"][2]["parts"],
            json!([
                {"functionResponse": {"name": "lookup", "response": {"error": "no such city"}}},
                {"functionResponse": {"name": "lookup", "response": {"error": {"code": 404}}}},
                {"functionResponse": {"name": "lookup", "response": {"output": "fine"}}}
            ])
        );
    }

    #[test]
    fn a_trailing_signature_goes_on_an_empty_text_part() {
        let msg = Message {
            content: vec![ContentPart::text("Hi"), carrier("SIG".into())],
            ..Message::assistant("")
        };
        let req = ChatRequest::new("m", vec![Message::user("x"), msg]);
        assert_eq!(
            body(&req, &cfg())["contents"][1]["parts"],
            json!([{"text": "Hi"}, {"text": "", "thoughtSignature": "SIG"}])
        );
    }

    #[test]
    fn finish_reasons_and_usage() {
        assert_eq!(finish_reason("STOP", false), FinishReason::Stop);
        assert_eq!(finish_reason("STOP", true), FinishReason::ToolCalls);
        assert_eq!(finish_reason("MAX_TOKENS", true), FinishReason::Length);
        for r in [
            "SAFETY",
            "RECITATION",
            "BLOCKLIST",
            "PROHIBITED_CONTENT",
            "SPII",
            "IMAGE_SAFETY",
        ] {
            assert_eq!(finish_reason(r, false), FinishReason::ContentFilter, "{r}");
        }
        assert_eq!(
            finish_reason("MALFORMED_FUNCTION_CALL", false),
            FinishReason::Other("MALFORMED_FUNCTION_CALL".into())
        );
        let u: wire::UsageMetadata = serde_json::from_value(json!({
            "promptTokenCount": 100, "candidatesTokenCount": 20, "thoughtsTokenCount": 30,
            "cachedContentTokenCount": 64, "toolUsePromptTokenCount": 5, "totalTokenCount": 155
        }))
        .expect("parses");
        assert_eq!(
            usage(&u),
            Usage {
                input_tokens: 105,
                output_tokens: 50,
                cached_input_tokens: 64,
                cache_write_input_tokens: 0,
                reasoning_tokens: 30,
                total_tokens: 155
            }
        );
    }

    #[test]
    fn extra_entries() {
        let mut req = ChatRequest::new("m", vec![Message::user("x")]);
        req.extra
            .insert("generationConfig".into(), json!({"topK": 3}));
        req.extra.insert("logprobs".into(), json!(true));
        req.extra.insert("top_logprobs".into(), json!(2));
        req.extra.insert("futureField".into(), json!({"a": 1}));
        let v = body(&req, &cfg());
        assert_eq!(
            v["generationConfig"],
            json!({"topK": 3, "responseLogprobs": true, "logprobs": 2})
        );
        assert_eq!(v["futureField"], json!({"a": 1}));
        let mut dup = ChatRequest::new("m", vec![Message::user("x")]);
        dup.extra.insert("contents".into(), json!([]));
        assert_eq!(
            generate_request(&dup, &cfg()).expect_err("dup").param(),
            Some("extra.contents")
        );
        let mut n = ChatRequest::new("m", vec![Message::user("x")]);
        n.extra.insert("n".into(), json!(2));
        assert_eq!(
            generate_request(&n, &cfg()).expect_err("n").param(),
            Some("extra.n")
        );
    }
}
