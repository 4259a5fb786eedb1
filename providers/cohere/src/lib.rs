#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, Error, ModelInfo, Provider,
    ProviderContext, ProviderInit, Secret, async_trait, provider,
};

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "cohere";

/// The API root used when the config does not set `base_url`.
pub const DEFAULT_BASE_URL: &str = "https://api.cohere.com";

/// The model [`Provider::models`] lists.
// TODO: list the upstream's models (or the ones it documents) instead.
pub const DEFAULT_MODEL: &str = "command-a-03-2025";

/// Settings of the `cohere` provider (`[providers.<instance>]` with
/// `kind = "cohere"`). Its `Debug` output never shows the key: [`Secret`]
/// prints `***`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CohereConfig {
    /// The API key. Use `${COHERE_API_KEY}` to keep it out of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// The API root that request paths are appended to.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// The timeout of one request in milliseconds. Defaults to the runtime's
    /// request timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

impl CohereConfig {
    /// Checks what the types cannot: `base_url` is an `http(s)` URL.
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(Error::config(format!(
                "`base_url` must be an http(s) URL, got `{}`",
                self.base_url
            ))
            .with_param("base_url"));
        }
        Ok(())
    }

    /// The timeout of one request: `timeout_ms`, else `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_ms.map_or(default, Duration::from_millis)
    }
}

/// Cohere as a Switchboard provider. Scaffolded: chat is not implemented
/// yet.
// TODO: say what the provider is and which API it speaks (this doc comment is
// the catalog's description), and declare each capability as it is done:
// `capabilities(streaming, tools, vision, embeddings, json_schema, reasoning)`.
#[provider(name = "cohere", display_name = "Cohere", config = CohereConfig,
           capabilities(streaming))]
#[derive(Debug)]
pub struct CohereProvider {
    config: CohereConfig,
    /// The way to the service (bounds calls, classifies and scrubs errors).
    upstream: Upstream,
}

/// Turns a non-2xx answer into an error of the right kind.
// TODO: read the error body; 429 → rate_limited with `r.retry_after()`.
fn classify(r: &ErrorResponse<'_>) -> Error {
    Error::upstream(r.status, format!("Cohere answered HTTP {}", r.status))
}

impl CohereProvider {
    /// A provider for the instance in `ctx`, with `config` checked first.
    pub fn new(config: CohereConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut upstream = Upstream::builder(&ctx, &config.base_url)
            .timeout(config.timeout(ctx.request_timeout))
            .classify(classify);
        if let Some(key) = &config.api_key {
            upstream = upstream.bearer(key);
        }
        Ok(CohereProvider {
            upstream: upstream.build()?,
            config,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &CohereConfig {
        &self.config
    }
}

#[async_trait]
impl ProviderInit for CohereProvider {
    type Config = CohereConfig;

    fn validate(config: &CohereConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: CohereConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, ctx)
    }
}

#[async_trait]
impl Provider for CohereProvider {
    // The request is already validated by the gateway.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let _ = request;
        // TODO: `let reply = self.upstream.post_json("chat", &wire_body).await?;`
        // then map `reply.json::<Answer>("chat answer")?` to a `ChatResponse`.
        Err(self.upstream.error(Error::unsupported(
            "cohere: chat is not implemented yet (TODO)",
        )))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let _ = request;
        // TODO: `self.upstream.open(request).await?.events(decode)`, with an
        // `EventDecoder` from switchboard-protocol (or delete this method:
        // the default replays `chat`).
        Err(self.upstream.error(Error::unsupported(
            "cohere: streaming chat is not implemented yet (TODO)",
        )))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        Ok(vec![ModelInfo {
            id: DEFAULT_MODEL.to_owned(),
            provider: self.upstream.instance().to_string(),
            capabilities: Capabilities {
                streaming: true,
                ..Capabilities::default()
            },
            ..ModelInfo::default()
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_is_valid() {
        let config: CohereConfig =
            serde_json::from_value(serde_json::json!({})).expect("`{}` is a valid config");
        assert_eq!(config.base_url, DEFAULT_BASE_URL);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn the_key_never_prints() {
        let config: CohereConfig =
            serde_json::from_value(serde_json::json!({ "api_key": "sk-SECRET" }))
                .expect("valid config");
        assert!(!format!("{config:?}").contains("sk-SECRET"));
    }
}
