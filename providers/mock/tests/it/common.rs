//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, ChatRequest, ChatStream, Error, Message, Provider};
use switchboard_mock::{MockConfig, MockProvider};

/// A mock built from a JSON config.
pub fn mock(config: Value) -> MockProvider {
    let config: MockConfig = serde_json::from_value(config).expect("valid config");
    MockProvider::new(config).expect("valid mock")
}

/// A request for `mock-1` with one user message.
pub fn req(text: &str) -> ChatRequest {
    ChatRequest::new("mock-1", vec![Message::user(text)])
}

/// A request carrying `extra.mock = value`.
pub fn with_override(mut request: ChatRequest, value: Value) -> ChatRequest {
    request.extra.insert("mock".into(), value);
    request
}

/// Every item of a stream, errors included.
pub async fn drain(mut stream: ChatStream) -> Vec<Result<ChatEvent, Error>> {
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        out.push(item);
    }
    out
}

/// The events of a streamed answer that must not fail.
pub async fn events(provider: &MockProvider, request: &ChatRequest) -> Vec<ChatEvent> {
    let stream = provider.chat_stream(request).await.expect("stream starts");
    drain(stream)
        .await
        .into_iter()
        .map(|e| e.expect("no error item"))
        .collect()
}

/// A small JSON Schema checker for the keywords the generator handles
/// (type, required, properties, enum, const, minimum, minLength, maxLength,
/// minItems, maxItems, items). Returns the first violation.
pub fn check(schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(c) = schema.get("const") {
        return if c == value {
            Ok(())
        } else {
            Err(format!("{value} != const {c}"))
        };
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{value} not in enum"));
    }
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_array) {
        return if branches.iter().any(|b| check(b, value).is_ok()) {
            Ok(())
        } else {
            Err(format!("{value} matches no anyOf branch"))
        };
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let ok = match ty {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some("null") => value.is_null(),
        _ => true,
    };
    if !ok {
        return Err(format!("{value} is not of type {ty:?}"));
    }
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(v) = value.as_f64() {
        if bound("minimum").is_some_and(|min| v < min) {
            return Err(format!("{v} below minimum"));
        }
        if bound("maximum").is_some_and(|max| v > max) {
            return Err(format!("{v} above maximum"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return Err(format!("{s:?} shorter than minLength"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return Err(format!("{s:?} longer than maxLength"));
        }
    }
    if let Some(items) = value.as_array() {
        let len = items.len() as u64;
        if schema
            .get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            return Err("too few items".into());
        }
        if schema
            .get("maxItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            return Err("too many items".into());
        }
        if let Some(item_schema) = schema.get("items") {
            for item in items {
                check(item_schema, item)?;
            }
        }
    }
    if let Some(obj) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                return Err(format!("missing required `{name}`"));
            }
        }
        let props = schema.get("properties").cloned().unwrap_or(json!({}));
        for (name, v) in obj {
            match props.get(name) {
                Some(sub) => check(sub, v)?,
                None if schema.get("additionalProperties") == Some(&json!(false)) => {
                    return Err(format!("unexpected property `{name}`"));
                }
                None => {}
            }
        }
    }
    Ok(())
}
