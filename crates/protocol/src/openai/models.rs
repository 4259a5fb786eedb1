//! `ModelInfo` ⇄ OpenAI model list.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{Error, ModelInfo};

use super::types::{Model, ModelList};

/// Parses an upstream `GET /models` body.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, Error> {
    let wire: ModelList<'_> = crate::parse_upstream(body, "model list")?;
    Ok(from_wire_models(wire))
}

/// Converts a model list. `provider` is left empty for the caller to fill in.
pub fn from_wire_models(list: ModelList<'_>) -> Vec<ModelInfo> {
    list.data.into_iter().map(from_wire_model).collect()
}

fn u32_field(extra: &Map<String, Value>, keys: &[&str]) -> Option<u32> {
    keys.iter()
        .find_map(|k| extra.get(*k).and_then(Value::as_u64))
        .and_then(|n| u32::try_from(n).ok())
}

/// Converts one model. `created: 0` and an empty `owned_by` mean unknown.
/// The context window is read from `context_length` (OpenRouter, and
/// Switchboard's own lists), `context_window` (Groq) or `max_model_len`
/// (vLLM); a display name from `name` (OpenRouter).
pub fn from_wire_model(m: Model<'_>) -> ModelInfo {
    ModelInfo {
        id: m.id.into_owned(),
        provider: String::new(),
        display_name: m
            .extra
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        context_length: u32_field(
            &m.extra,
            &["context_length", "context_window", "max_model_len"],
        ),
        max_output_tokens: None,
        capabilities: Default::default(),
        input_price_per_million: None,
        output_price_per_million: None,
        created: (m.created > 0).then_some(m.created),
        owned_by: (!m.owned_by.is_empty()).then(|| m.owned_by.into_owned()),
    }
}

/// Converts models into an OpenAI model list (the gateway's `GET /v1/models`).
/// `owned_by` falls back to the provider instance, then to `switchboard`;
/// `created` to 0; a known context window is added as `context_length`.
pub fn to_wire_models(models: &[ModelInfo]) -> ModelList<'_> {
    ModelList {
        object: Cow::Borrowed("list"),
        data: models.iter().map(to_wire_model).collect(),
        extra: Map::new(),
    }
}

fn to_wire_model(m: &ModelInfo) -> Model<'_> {
    let owned_by = match (&m.owned_by, m.provider.as_str()) {
        (Some(o), _) => o.as_str(),
        (None, p) if !p.is_empty() => p,
        _ => "switchboard",
    };
    let mut extra = Map::new();
    if let Some(n) = m.context_length {
        extra.insert("context_length".into(), Value::from(n));
    }
    // Not in OpenAI's model object (clients ignore it): a `pricing` object
    // as OpenRouter's model list has, here in US dollars per million tokens.
    if m.input_price_per_million.is_some() || m.output_price_per_million.is_some() {
        let mut pricing = Map::new();
        for (key, price) in [
            ("input_per_million_usd", m.input_price_per_million),
            ("output_per_million_usd", m.output_price_per_million),
        ] {
            if let Some(p) = price {
                pricing.insert(key.into(), Value::from(p));
            }
        }
        extra.insert("pricing".into(), Value::Object(pricing));
    }
    Model {
        id: Cow::Borrowed(&m.id),
        object: Cow::Borrowed("model"),
        created: m.created.unwrap_or(0),
        owned_by: Cow::Borrowed(owned_by),
        extra,
    }
}
