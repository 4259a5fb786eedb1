//! Core requests → `/api/chat` bodies, and `/api/chat` answers → core responses.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{
    ChatRequest, ChatResponse, ContentPart, Error, FinishReason, ImageSource, Message,
    ReasoningEffort, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

use crate::OllamaConfig;
use crate::wire;

/// Option names Ollama accepts in `options` (Modelfile parameters and runner
/// settings). An `extra` entry with one of these names goes into `options`.
pub(crate) const OPTION_NAMES: &[&str] = &[
    "num_keep",
    "seed",
    "num_predict",
    "top_k",
    "top_p",
    "min_p",
    "typical_p",
    "tfs_z",
    "repeat_last_n",
    "temperature",
    "repeat_penalty",
    "presence_penalty",
    "frequency_penalty",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    "penalize_newline",
    "stop",
    "numa",
    "num_ctx",
    "num_batch",
    "num_gpu",
    "main_gpu",
    "low_vram",
    "vocab_only",
    "use_mmap",
    "use_mlock",
    "num_thread",
];

/// Core request fields that must not also come through `extra`.
const TYPED_FIELDS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "max_tokens",
    "user",
    "metadata",
];

/// Builds the `/api/chat` body for `req`.
///
/// See the crate docs for the mapping. Errors name the request field:
/// an image given by `http(s)` URL (Ollama takes only inline data), tool
/// arguments that are not a JSON object, `tool_choice: required`, and
/// `extra` entries that duplicate typed fields.
pub(crate) fn chat_request<'a>(
    req: &'a ChatRequest,
    cfg: &'a OllamaConfig,
    stream: bool,
) -> Result<wire::ChatRequest<'a>, Error> {
    let mut messages = Vec::with_capacity(req.messages.len());
    for (i, m) in req.messages.iter().enumerate() {
        messages.push(message(m, i, &req.messages[..i])?);
    }

    let tools = match &req.tool_choice {
        Some(ToolChoice::None) => Vec::new(),
        Some(ToolChoice::Required) => {
            return Err(Error::unsupported(
                "Ollama cannot be made to call a tool; tool_choice `required` is not supported",
            )
            .with_param("tool_choice"));
        }
        // Ollama has no tool_choice: offering only the named tool is the
        // closest it gets (the model may still answer in text).
        Some(ToolChoice::Tool(name)) => req
            .tools
            .iter()
            .filter(|t| &t.name == name)
            .map(tool)
            .collect(),
        Some(ToolChoice::Auto) | None => req.tools.iter().map(tool).collect(),
    };

    let format = match &req.response_format {
        None | Some(ResponseFormat::Text) => None,
        Some(ResponseFormat::JsonObject) => Some(Value::String("json".into())),
        Some(ResponseFormat::JsonSchema { schema, .. }) => Some(schema.clone()),
    };

    let think = req.reasoning.as_ref().map(|r| match r.effort {
        // Ollama takes "low"/"medium"/"high" (levels for gpt-oss; any level
        // turns thinking on for other thinking models) or a boolean.
        Some(ReasoningEffort::Minimal | ReasoningEffort::Low) => Value::String("low".into()),
        Some(ReasoningEffort::Medium) => Value::String("medium".into()),
        Some(ReasoningEffort::High) => Value::String("high".into()),
        None => Value::Bool(true),
    });

    let mut wire = wire::ChatRequest {
        model: &req.model,
        messages,
        stream,
        tools,
        format,
        options: cfg
            .options
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        keep_alive: cfg.keep_alive.as_ref().map(crate::KeepAlive::to_value),
        think,
        extra: Map::new(),
    };
    absorb_extra(&mut wire, &req.extra)?;

    // Typed request values win over config and `extra.options`.
    let opts = &mut wire.options;
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            opts.insert(k.to_owned(), v);
        }
    };
    set("temperature", req.temperature.map(f32_value));
    set("top_p", req.top_p.map(f32_value));
    set("num_predict", req.max_tokens.map(Value::from));
    set("seed", req.seed.map(Value::from));
    set("presence_penalty", req.presence_penalty.map(f32_value));
    set("frequency_penalty", req.frequency_penalty.map(f32_value));
    if !req.stop.is_empty() {
        set("stop", Some(Value::from(req.stop.clone())));
    }
    Ok(wire)
}

/// An `f32` as the JSON number a person would write: `0.2`, not
/// `0.20000000298`, and `0` rather than `0.0` for whole numbers.
pub(crate) fn f32_value(f: f32) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        // Whole and small enough to be exact.
        #[allow(clippy::cast_possible_truncation)]
        return Value::from(f as i64);
    }
    let shortest = f.to_string();
    shortest
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn absorb_extra<'a>(
    wire: &mut wire::ChatRequest<'a>,
    extra: &'a Map<String, Value>,
) -> Result<(), Error> {
    for (key, value) in extra {
        let param = || format!("extra.{key}");
        match key.as_str() {
            k if TYPED_FIELDS.contains(&k) => {
                return Err(Error::invalid_param(
                    param(),
                    format!("`{key}` has its own request field; set it there, not in `extra`"),
                ));
            }
            "options" => {
                let Value::Object(map) = value else {
                    return Err(Error::invalid_param(param(), "`options` must be an object"));
                };
                for (k, v) in map {
                    wire.options.insert(k.clone(), v.clone());
                }
            }
            "format" => {
                if wire.format.is_some() {
                    return Err(Error::invalid_param(
                        param(),
                        "`format` is given both as `response_format` and in `extra`",
                    ));
                }
                wire.format = Some(value.clone());
            }
            "keep_alive" => wire.keep_alive = Some(value.clone()),
            "think" => wire.think = Some(value.clone()),
            "n" => {
                if value.as_u64() != Some(1) {
                    return Err(Error::unsupported(
                        "Ollama produces one answer per request; `n` must be 1",
                    )
                    .with_param(param()));
                }
            }
            k if OPTION_NAMES.contains(&k) => {
                wire.options.insert(key.clone(), value.clone());
            }
            _ => {
                wire.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

fn tool(t: &switchboard_core::Tool) -> wire::Tool<'_> {
    wire::Tool {
        kind: "function",
        function: wire::FunctionDef {
            name: &t.name,
            description: t.description.as_deref(),
            parameters: &t.parameters,
        },
    }
}

/// Joins the text of a message's parts. Ollama has one `content` string, so
/// several text parts are separated by a blank line.
fn join_texts<'a>(texts: &[&'a str]) -> Cow<'a, str> {
    match texts {
        [] => Cow::Borrowed(""),
        [one] => Cow::Borrowed(one),
        many => Cow::Owned(many.join("\n\n")),
    }
}

fn message<'a>(
    m: &'a Message,
    i: usize,
    before: &'a [Message],
) -> Result<wire::Message<'a>, Error> {
    let mut texts: Vec<&str> = Vec::new();
    let mut thinking: Vec<&str> = Vec::new();
    let mut images: Vec<&str> = Vec::new();
    for (j, part) in m.content.iter().enumerate() {
        match part {
            ContentPart::Text { text } | ContentPart::Refusal { text } => texts.push(text),
            ContentPart::Reasoning { text, .. } => {
                if !text.is_empty() {
                    thinking.push(text);
                }
            }
            ContentPart::Image { source, .. } => {
                images.push(image_data(source).ok_or_else(|| {
                    Error::unsupported("Ollama takes images only as inline base64 data, not by URL")
                        .with_param(format!("messages[{i}].content[{j}]"))
                })?);
            }
        }
    }
    let role = match m.role {
        Role::System | Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut tool_calls = Vec::with_capacity(m.tool_calls.len());
    for (j, call) in m.tool_calls.iter().enumerate() {
        tool_calls.push(wire::OutToolCall {
            id: (!call.id.is_empty()).then_some(call.id.as_str()),
            function: wire::OutFunction {
                index: u32::try_from(j).unwrap_or(u32::MAX),
                name: &call.name,
                arguments: arguments_object(&call.arguments).map_err(|e| {
                    e.with_param(format!("messages[{i}].tool_calls[{j}].arguments"))
                })?,
            },
        });
    }
    let tool_call_id = if m.role == Role::Tool {
        m.tool_call_id.as_deref()
    } else {
        None
    };
    let tool_name = match tool_call_id {
        Some(id) => tool_name_for(id, before).or(m.name.as_deref()),
        None => None,
    };
    Ok(wire::Message {
        role,
        content: join_texts(&texts),
        images,
        thinking: (!thinking.is_empty()).then(|| join_texts(&thinking)),
        tool_calls,
        tool_name,
        tool_call_id,
    })
}

/// The name of the tool call `id` in the nearest earlier assistant message.
pub(crate) fn tool_name_for<'a>(id: &str, before: &'a [Message]) -> Option<&'a str> {
    before
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .find_map(|m| m.tool_calls.iter().find(|c| c.id == id))
        .map(|c| c.name.as_str())
}

/// Tool-call arguments (JSON text) as the object Ollama wants. Empty text is `{}`.
fn arguments_object(arguments: &str) -> Result<Value, Error> {
    if arguments.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Error::invalid_request(
            "tool-call arguments must be a JSON object for Ollama",
        )),
        Err(e) => Err(Error::invalid_request(format!(
            "tool-call arguments are not valid JSON ({e})"
        ))),
    }
}

/// The base64 data of an image, if it is inline (base64 or a `data:` URL).
fn image_data(source: &ImageSource) -> Option<&str> {
    match source {
        ImageSource::Base64 { data, .. } => Some(data),
        ImageSource::Url { url } => {
            let rest = url.strip_prefix("data:")?;
            let (meta, data) = rest.split_once(',')?;
            meta.ends_with(";base64").then_some(data)
        }
    }
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/// A fresh completion id (Ollama gives none).
pub(crate) fn new_id() -> String {
    format!("chatcmpl-ollama-{:016x}", fastrand::u64(..))
}

/// The id of the `index`-th tool call of the answer `response_id`, for
/// servers that send none: `call_<hex>_<index>`, where `<hex>` comes from the
/// completion id. Deterministic for one answer, distinct across answers (so a
/// conversation never has two calls with the same id, which providers that
/// match results by id would confuse).
pub(crate) fn tool_call_id(response_id: &str, index: usize) -> String {
    let tail = response_id.rsplit('-').next().unwrap_or(response_id);
    format!("call_{tail}_{index}")
}

/// Maps `done_reason`; tool calls turn a plain stop into `tool_calls`
/// (Ollama reports `stop` for an answer that calls tools).
pub(crate) fn finish_reason(done_reason: Option<&str>, has_tool_calls: bool) -> FinishReason {
    match done_reason {
        None | Some("" | "stop") if has_tool_calls => FinishReason::ToolCalls,
        None | Some("" | "stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some(other) => FinishReason::Other(other.to_owned()),
    }
}

/// `prompt_eval_count` and `eval_count` as usage (the total saturates: the
/// counts come from the network).
pub(crate) fn usage(chunk: &wire::ChatChunk) -> Usage {
    let input = chunk.prompt_eval_count.unwrap_or(0);
    let output = chunk.eval_count.unwrap_or(0);
    Usage {
        input_tokens: input,
        output_tokens: output,
        total_tokens: input.saturating_add(output),
        ..Usage::default()
    }
}

/// The timing fields and anything unmodelled, for [`ChatResponse::extra`].
pub(crate) fn extra(chunk: &mut wire::ChatChunk) -> Map<String, Value> {
    let mut extra = std::mem::take(&mut chunk.extra);
    for (k, v) in [
        ("total_duration", chunk.total_duration),
        ("load_duration", chunk.load_duration),
        ("prompt_eval_duration", chunk.prompt_eval_duration),
        ("eval_duration", chunk.eval_duration),
    ] {
        if let Some(v) = v {
            extra.insert(k.to_owned(), Value::from(v));
        }
    }
    if let Some(at) = &chunk.created_at {
        extra.insert("created_at".to_owned(), Value::String(at.clone()));
    }
    if let Some(reason) = &chunk.done_reason {
        extra.insert("done_reason".to_owned(), Value::String(reason.clone()));
    }
    extra
}

/// Converts a complete (`stream: false`) answer.
pub(crate) fn response(mut chunk: wire::ChatChunk, instance: &str) -> ChatResponse {
    let id = new_id();
    let message = chunk.message.take().unwrap_or_default();
    let mut content = Vec::new();
    if !message.thinking.is_empty() {
        content.push(ContentPart::Reasoning {
            text: message.thinking,
            signature: None,
            redacted: None,
            origin: None,
        });
    }
    if !message.content.is_empty() {
        content.push(ContentPart::text(message.content));
    }
    let tool_calls: Vec<ToolCall> = message
        .tool_calls
        .iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: c
                .id
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| tool_call_id(&id, i)),
            name: c.function.name.clone(),
            arguments: c.function.arguments_text(),
        })
        .collect();
    ChatResponse {
        finish_reason: finish_reason(chunk.done_reason.as_deref(), !tool_calls.is_empty()),
        usage: usage(&chunk),
        created: chunk
            .created_at
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or(0),
        model: std::mem::take(&mut chunk.model),
        extra: extra(&mut chunk),
        id,
        provider: instance.to_owned(),
        content,
        tool_calls,
    }
}

/// Unix seconds of an RFC 3339 timestamp (`2023-08-04T08:52:19.385406455-07:00`,
/// `2023-12-12T14:13:43.416799Z`).
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if s.get(4..5) != Some("-") || s.get(7..8) != Some("-") || s.get(13..14) != Some(":") {
        return None;
    }
    if !matches!(s.get(10..11), Some("T" | "t" | " ")) || s.get(16..17) != Some(":") {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = s.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let h: i64 = tz.get(1..3)?.parse().ok()?;
            let m: i64 = tz.get(4..6)?.parse().ok()?;
            sign * (h * 3600 + m * 60)
        }
        _ => return None,
    };
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use switchboard_core::{Reasoning, Tool};

    fn cfg() -> OllamaConfig {
        OllamaConfig::default()
    }

    #[test]
    fn request_maps_every_field() {
        let mut req = ChatRequest::new(
            "llama3.2",
            vec![
                Message::system("Be brief."),
                Message::user("Weather in Tokyo?"),
            ],
        )
        .temperature(0.2)
        .max_tokens(64)
        .tool(Tool::new(
            "get_weather",
            "Weather",
            json!({"type":"object","properties":{"city":{"type":"string"}}}),
        ));
        req.top_p = Some(0.9);
        req.seed = Some(7);
        req.stop = vec!["\n\n".into()];
        req.response_format = Some(ResponseFormat::JsonObject);
        req.reasoning = Some(Reasoning {
            effort: Some(ReasoningEffort::High),
            budget_tokens: None,
        });
        req.extra.insert("top_k".into(), json!(20));
        req.extra.insert(
            "options".into(),
            json!({"num_ctx": 4096, "temperature": 1.5}),
        );
        req.extra.insert("logprobs".into(), json!(true));
        let mut config = cfg();
        config.options.insert("num_ctx".into(), json!(2048));
        config.options.insert("repeat_penalty".into(), json!(1.1));
        config.keep_alive = Some(crate::KeepAlive::Duration("10m".into()));
        let wire = chat_request(&req, &config, false).expect("maps");
        let v = serde_json::to_value(&wire).expect("serializes");
        assert_eq!(
            v,
            json!({
                "model": "llama3.2",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Weather in Tokyo?"}
                ],
                "stream": false,
                "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                    "parameters": {"type":"object","properties":{"city":{"type":"string"}}}}}],
                "format": "json",
                "options": {"num_ctx": 4096, "repeat_penalty": 1.1, "temperature": 0.2, "top_p": 0.9,
                    "num_predict": 64, "seed": 7, "stop": ["\n\n"], "top_k": 20},
                "keep_alive": "10m",
                "think": "high",
                "logprobs": true
            })
        );
    }

    #[test]
    fn tool_turns_round_trip() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("weather in Toronto?"),
                Message {
                    content: vec![ContentPart::Reasoning {
                        text: "Look it up.".into(),
                        signature: None,
                        redacted: None,
                        origin: None,
                    }],
                    ..Message::assistant_tool_calls(vec![ToolCall {
                        id: "call_1".into(),
                        name: "get_weather".into(),
                        arguments: "{\"city\":\"Toronto\"}".into(),
                    }])
                },
                Message::tool_result("call_1", "11 degrees celsius"),
            ],
        );
        let v =
            serde_json::to_value(chat_request(&req, &cfg(), true).expect("maps")).expect("json");
        assert_eq!(v["stream"], json!(true));
        assert_eq!(
            v["messages"][1],
            json!({"role": "assistant", "content": "", "thinking": "Look it up.",
                   "tool_calls": [{"id": "call_1", "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Toronto"}}}]})
        );
        assert_eq!(
            v["messages"][2],
            json!({"role": "tool", "content": "11 degrees celsius", "tool_name": "get_weather", "tool_call_id": "call_1"})
        );
    }

    #[test]
    fn unsupported_inputs_name_the_field() {
        let mut req = ChatRequest::new(
            "m",
            vec![Message {
                content: vec![
                    ContentPart::text("what?"),
                    ContentPart::image_url("https://x/y.png"),
                ],
                ..Message::user("")
            }],
        );
        let err = chat_request(&req, &cfg(), false).expect_err("url image");
        assert_eq!(err.kind(), &switchboard_core::ErrorKind::Unsupported);
        assert_eq!(err.param(), Some("messages[0].content[1]"));
        req.messages[0].content[1] = ContentPart::image_url("data:image/png;base64,AAAA");
        let v = serde_json::to_value(chat_request(&req, &cfg(), false).expect("data url"))
            .expect("json");
        assert_eq!(v["messages"][0]["images"], json!(["AAAA"]));

        let bad_args = ChatRequest::new(
            "m",
            vec![Message::assistant_tool_calls(vec![ToolCall {
                id: "a".into(),
                name: "f".into(),
                arguments: "[1]".into(),
            }])],
        );
        let err = chat_request(&bad_args, &cfg(), false).expect_err("array args");
        assert_eq!(err.param(), Some("messages[0].tool_calls[0].arguments"));

        let mut required = ChatRequest::new("m", vec![Message::user("x")]);
        required.tool_choice = Some(ToolChoice::Required);
        assert_eq!(
            chat_request(&required, &cfg(), false)
                .expect_err("required")
                .param(),
            Some("tool_choice")
        );

        let mut dup = ChatRequest::new("m", vec![Message::user("x")]);
        dup.extra.insert("messages".into(), json!([]));
        assert_eq!(
            chat_request(&dup, &cfg(), false).expect_err("dup").param(),
            Some("extra.messages")
        );
    }

    #[test]
    fn finish_reasons() {
        assert_eq!(finish_reason(Some("stop"), false), FinishReason::Stop);
        assert_eq!(finish_reason(None, false), FinishReason::Stop);
        assert_eq!(finish_reason(Some("stop"), true), FinishReason::ToolCalls);
        assert_eq!(finish_reason(Some("length"), false), FinishReason::Length);
        assert_eq!(
            finish_reason(Some("unload"), false),
            FinishReason::Other("unload".into())
        );
    }

    #[test]
    fn timestamps() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2023-12-12T14:13:43.416799Z"),
            Some(1_702_390_423)
        );
        assert_eq!(
            parse_rfc3339("2023-08-04T08:52:19.385406455-07:00"),
            parse_rfc3339("2023-08-04T15:52:19Z")
        );
        for bad in [
            "",
            "2023-12-12",
            "2023-13-01T00:00:00Z",
            "2023-12-12T14:13:43",
            "x023-12-12T14:13:43Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn tool_call_ids_are_distinct_per_answer() {
        assert_eq!(tool_call_id("chatcmpl-ollama-00ff", 2), "call_00ff_2");
        assert_ne!(tool_call_id(&new_id(), 0), tool_call_id(&new_id(), 0));
    }
}
