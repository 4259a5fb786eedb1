//! [`OpenAiConfig`]: the `[providers.<instance>]` table of the `openai` provider.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, Secret};
use url::Url;

/// The default API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// Model-id prefixes of OpenAI's reasoning models, which reject `max_tokens`
/// and need `max_completion_tokens` (the default of
/// [`OpenAiConfig::reasoning_model_prefixes`]).
pub const DEFAULT_REASONING_MODEL_PREFIXES: &[&str] = &["o1", "o3", "o4", "gpt-5"];

/// Which wire field carries a request's `max_tokens`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_completion_tokens` for models matching `reasoning_model_prefixes`,
    /// `max_tokens` for the others.
    #[default]
    Auto,
    /// Always `max_tokens`.
    MaxTokens,
    /// Always `max_completion_tokens` (which OpenAI accepts for every current model).
    MaxCompletionTokens,
}

/// Settings of the `openai` provider.
#[derive(Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenAiConfig {
    /// The API key, sent as `Authorization: Bearer <key>`. Use `${OPENAI_API_KEY}`
    /// to keep it out of the file.
    pub api_key: Secret,
    /// The API root; `chat/completions`, `models` and `embeddings` are appended
    /// to it. Point it at a proxy or an Azure-style gateway speaking the same API.
    #[serde(default = "default_base_url")]
    pub base_url: Url,
    /// Sent as the `OpenAI-Organization` header: which organization the usage is billed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Sent as the `OpenAI-Project` header: which project the usage is billed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The timeout of one request in milliseconds (for a stream: until the
    /// headers, then between two reads). Defaults to the runtime's request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Extra headers sent with every request. Their values never appear in
    /// logs or `Debug` output. `Authorization` is not allowed here (use `api_key`).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "redacted_values"
    )]
    pub headers: BTreeMap<String, String>,
    /// Which field carries `max_tokens`: `auto` (by `reasoning_model_prefixes`),
    /// `max_tokens` or `max_completion_tokens`.
    #[serde(default)]
    pub max_tokens_field: MaxTokensField,
    /// Model-id prefixes of reasoning models (o-series, gpt-5), which take
    /// `max_completion_tokens` instead of `max_tokens` when `max_tokens_field`
    /// is `auto`. A fine-tuned model (`ft:o4-mini:...`) matches by its base model.
    #[serde(default = "default_reasoning_prefixes")]
    pub reasoning_model_prefixes: Vec<String>,
}

/// Serializes a header table with every value replaced by `***` (a config
/// is serialized for status views, never to be sent anywhere).
pub(crate) fn redacted_values<S: serde::Serializer>(
    headers: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(headers.keys().map(|k| (k, Secret::REDACTED)))
}

fn default_base_url() -> Url {
    // A constant that parses; the fallback is unreachable.
    Url::parse(DEFAULT_BASE_URL)
        .unwrap_or_else(|_| Url::parse("https://localhost").expect("valid URL"))
}

fn default_reasoning_prefixes() -> Vec<String> {
    DEFAULT_REASONING_MODEL_PREFIXES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

impl OpenAiConfig {
    /// A config with `api_key` and every other key at its default.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        OpenAiConfig {
            api_key: api_key.into(),
            base_url: default_base_url(),
            organization: None,
            project: None,
            timeout_ms: None,
            headers: BTreeMap::new(),
            max_tokens_field: MaxTokensField::Auto,
            reasoning_model_prefixes: default_reasoning_prefixes(),
        }
    }

    /// The configured timeout, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout_ms.map(Duration::from_millis)
    }

    /// Whether requests for `model` carry `max_completion_tokens`.
    pub fn uses_max_completion_tokens(&self, model: &str) -> bool {
        match self.max_tokens_field {
            MaxTokensField::MaxTokens => false,
            MaxTokensField::MaxCompletionTokens => true,
            MaxTokensField::Auto => {
                let base = model.strip_prefix("ft:").unwrap_or(model);
                self.reasoning_model_prefixes
                    .iter()
                    .any(|p| !p.is_empty() && base.starts_with(p.as_str()))
            }
        }
    }

    /// Checks what the types cannot; errors name the key.
    pub fn validate(&self) -> Result<(), Error> {
        if self.api_key.expose().trim().is_empty() {
            return Err(Error::config("`api_key` must not be empty").with_param("api_key"));
        }
        let scheme = self.base_url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Error::config(format!(
                "`base_url` must be an http or https URL, not `{scheme}:`"
            ))
            .with_param("base_url"));
        }
        if self.timeout_ms == Some(0) {
            return Err(
                Error::config("`timeout_ms` must be greater than 0").with_param("timeout_ms")
            );
        }
        for (name, value) in &self.headers {
            let param = format!("headers.{name}");
            if name.eq_ignore_ascii_case("authorization") {
                return Err(Error::config(
                    "set the key with `api_key`, not an `Authorization` header",
                )
                .with_param(param));
            }
            if http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(
                    Error::config(format!("`{name}` is not a valid HTTP header name"))
                        .with_param(param),
                );
            }
            if http::header::HeaderValue::from_str(value).is_err() {
                return Err(Error::config(
                    "the header value contains characters not allowed in an HTTP header",
                )
                .with_param(param));
            }
        }
        for (key, value) in [
            ("organization", &self.organization),
            ("project", &self.project),
        ] {
            if let Some(v) = value
                && http::header::HeaderValue::from_str(v).is_err()
            {
                return Err(Error::config(format!(
                    "`{key}` contains characters not allowed in an HTTP header"
                ))
                .with_param(key));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for OpenAiConfig {
    /// Leaves the key and header values out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url.as_str())
            .field("organization", &self.organization)
            .field("project", &self.project)
            .field("timeout_ms", &self.timeout_ms)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("max_tokens_field", &self.max_tokens_field)
            .field("reasoning_model_prefixes", &self.reasoning_model_prefixes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_models_use_max_completion_tokens() {
        let c = OpenAiConfig::new("k");
        for m in [
            "o1",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5-mini",
            "ft:o4-mini:acme::x",
        ] {
            assert!(c.uses_max_completion_tokens(m), "{m}");
        }
        for m in [
            "gpt-4o",
            "gpt-4.1-mini",
            "chatgpt-4o-latest",
            "omni-moderation",
        ] {
            assert!(!c.uses_max_completion_tokens(m), "{m}");
        }
        let mut always = c.clone();
        always.max_tokens_field = MaxTokensField::MaxCompletionTokens;
        assert!(always.uses_max_completion_tokens("gpt-4o"));
        let mut never = c;
        never.max_tokens_field = MaxTokensField::MaxTokens;
        assert!(!never.uses_max_completion_tokens("o3"));
    }

    #[test]
    fn debug_leaves_secrets_out() {
        let mut c = OpenAiConfig::new("sk-live-XYZ");
        c.headers
            .insert("x-proxy-token".into(), "proxy-SECRET".into());
        let d = format!("{c:?}");
        assert!(
            !d.contains("sk-live-XYZ") && !d.contains("proxy-SECRET"),
            "{d}"
        );
        assert!(d.contains("x-proxy-token"));
    }
}
