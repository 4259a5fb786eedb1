//! The provider's configuration.

use std::fmt;
use std::time::Duration;

use http::HeaderValue;
use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::{Error, Secret};
use url::Url;

/// The API's root when `base_url` is not set.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The `anthropic-version` header sent when `anthropic_version` is not set.
pub const DEFAULT_VERSION: &str = "2023-06-01";

/// `max_tokens` for requests that give none (the API requires it).
pub const DEFAULT_MAX_TOKENS: u32 = switchboard_protocol::anthropic::DEFAULT_MAX_TOKENS;

/// Settings of the Anthropic provider.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnthropicConfig {
    /// The API key, sent as `x-api-key`. Use `${ANTHROPIC_API_KEY}` to keep it out of the file.
    pub api_key: Secret,
    /// The API's root; requests go to `<base_url>/v1/messages`. Change it for
    /// a proxy or gateway that speaks the Anthropic API.
    #[serde(default = "default_base_url")]
    pub base_url: Url,
    /// The `anthropic-version` header.
    #[serde(default = "default_version")]
    pub anthropic_version: String,
    /// Beta features to enable, sent as one comma-separated `anthropic-beta`
    /// header (e.g. `["context-1m-2025-08-07"]`).
    #[serde(default)]
    pub anthropic_beta: Vec<String>,
    /// `max_tokens` for requests that do not set one (the API requires it).
    /// With extended thinking on, the thinking budget is added to it.
    #[serde(default = "default_max_tokens")]
    pub default_max_tokens: u32,
    /// Milliseconds to wait for the response headers of one request, and at
    /// most between two pieces of a streamed answer (the API sends `ping`s
    /// while a long answer is generated). Defaults to the runtime's request
    /// timeout (10 minutes).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// A fixed model list for `models`, instead of asking `GET /v1/models`
    /// (for proxies that do not list models).
    #[serde(default)]
    pub models: Vec<String>,
    /// Leave out request parameters Anthropic does not have (`seed`,
    /// `presence_penalty`, `frequency_penalty`, OpenAI `metadata`) instead of
    /// failing with an `unsupported` error that names them.
    #[serde(default)]
    pub drop_unsupported_params: bool,
    /// Mark prompt-cache breakpoints on the system prompt, the tools and the
    /// last message, so that repeated prefixes are billed as cache reads.
    /// Cache writes cost more than plain input, so this pays off for
    /// conversations and agents that resend a long prefix.
    #[serde(default)]
    pub prompt_caching: bool,
}

fn default_base_url() -> Url {
    // A constant that parses; a failure here is a bug caught by the tests.
    Url::parse(DEFAULT_BASE_URL).unwrap_or_else(|e| panic!("{DEFAULT_BASE_URL}: {e}"))
}

fn default_version() -> String {
    DEFAULT_VERSION.to_owned()
}

fn default_max_tokens() -> u32 {
    DEFAULT_MAX_TOKENS
}

impl AnthropicConfig {
    /// A config with `api_key` and every other key at its default.
    pub fn new(api_key: impl Into<Secret>) -> Self {
        AnthropicConfig {
            api_key: api_key.into(),
            base_url: default_base_url(),
            anthropic_version: default_version(),
            anthropic_beta: Vec::new(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            timeout_ms: None,
            models: Vec::new(),
            drop_unsupported_params: false,
            prompt_caching: false,
        }
    }

    /// The per-request timeout: `timeout_ms`, else `fallback`.
    pub fn timeout(&self, fallback: Duration) -> Duration {
        self.timeout_ms.map_or(fallback, Duration::from_millis)
    }

    /// Checks what the types do not: a usable key, an `http(s)` base URL,
    /// header values that can be sent, and positive limits.
    pub fn validate(&self) -> Result<(), Error> {
        let key = self.api_key.expose();
        if key.trim().is_empty() {
            return Err(Error::config("`api_key` is empty").with_param("api_key"));
        }
        if HeaderValue::from_str(key).is_err() {
            return Err(Error::config(
                "`api_key` contains characters that cannot be sent in a header",
            )
            .with_param("api_key"));
        }
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "`base_url` must be an http or https URL, got `{}`",
                self.base_url
            ))
            .with_param("base_url"));
        }
        if self.anthropic_version.trim().is_empty()
            || HeaderValue::from_str(&self.anthropic_version).is_err()
        {
            return Err(Error::config(format!(
                "`anthropic_version` must be a header value such as `{DEFAULT_VERSION}`"
            ))
            .with_param("anthropic_version"));
        }
        for (i, beta) in self.anthropic_beta.iter().enumerate() {
            if beta.trim().is_empty() || beta.contains(',') || HeaderValue::from_str(beta).is_err()
            {
                return Err(Error::config(format!(
                    "`anthropic_beta` entries must be single feature names, got `{beta}`"
                ))
                .with_param(format!("anthropic_beta[{i}]")));
            }
        }
        if self.default_max_tokens == 0 {
            return Err(Error::config("`default_max_tokens` must be positive")
                .with_param("default_max_tokens"));
        }
        if self.timeout_ms == Some(0) {
            return Err(Error::config("`timeout_ms` must be positive").with_param("timeout_ms"));
        }
        Ok(())
    }
}

impl fmt::Debug for AnthropicConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicConfig")
            .field("api_key", &Secret::REDACTED)
            .field("base_url", &self.base_url.as_str())
            .field("anthropic_version", &self.anthropic_version)
            .field("anthropic_beta", &self.anthropic_beta)
            .field("default_max_tokens", &self.default_max_tokens)
            .field("timeout_ms", &self.timeout_ms)
            .field("models", &self.models)
            .field("drop_unsupported_params", &self.drop_unsupported_params)
            .field("prompt_caching", &self.prompt_caching)
            .finish()
    }
}
