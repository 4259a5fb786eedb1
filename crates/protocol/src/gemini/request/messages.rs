//! Core messages → Gemini turns: user, model (with thought signatures;
//! see the [module docs](super)) and tool-result parts.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{ContentPart, Error, ImageSource, Message, Role};

use crate::gemini::RequestOptions;
use crate::gemini::types::{self as wire, Part};
use crate::gemini::{ORIGIN, SKIP_THOUGHT_SIGNATURE};

pub(super) fn text_part(text: &str) -> Part<'_> {
    Part {
        text: Some(Cow::Borrowed(text)),
        ..Part::default()
    }
}

pub(super) fn user_parts(m: &Message, i: usize) -> Result<Vec<Part<'_>>, Error> {
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
pub(super) fn model_parts<'a>(
    m: &'a Message,
    i: usize,
    cfg: &RequestOptions,
) -> Result<Vec<Part<'a>>, Error> {
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
pub(super) fn tool_parts<'a>(
    m: &'a Message,
    i: usize,
    before: &'a [Message],
) -> Result<Vec<Part<'a>>, Error> {
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
