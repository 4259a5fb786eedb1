#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod preset;
mod shape;

use serde_json::{Map, Value};
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, ModelInfo,
    Provider, ProviderContext, ProviderInit, async_trait, provider,
};
use switchboard_openai::{ChatCompletionsClient, ClientOptions};
use switchboard_protocol::openai::{RequestOptions, to_wire_embeddings_request, to_wire_request};

pub use crate::config::OpenAiCompatibleConfig;
use crate::config::Resolved;
pub use crate::preset::{
    AuthStyle, CUSTOM, DeveloperRole, PRESETS, Preset, PresetName, TokenField,
};
pub use crate::shape::UnsupportedParams;

/// The provider's name: the `kind` of its config entries.
pub const NAME: &str = "openai-compatible";

/// The key of [`ChatResponse::extra`] listing the parameters left out of
/// the request under `unsupported_params = "drop"`.
pub const DROPPED_PARAMS: &str = "dropped_params";

/// Any OpenAI-compatible endpoint — Groq, Together, OpenRouter, DeepInfra,
/// Mistral, DeepSeek, vLLM, llama.cpp, LM Studio or your own — with each
/// service's documented quirks applied from a preset.
#[provider(name = "openai-compatible", display_name = "OpenAI-compatible",
           config = OpenAiCompatibleConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
pub struct OpenAiCompatible {
    config: OpenAiCompatibleConfig,
    resolved: Resolved,
    client: ChatCompletionsClient,
}

impl std::fmt::Debug for OpenAiCompatible {
    /// The config and the client, both of which leave credentials and header values out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("service", &self.resolved.service)
            .field("config", &self.config)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// Builds the provider for the instance in `ctx`; the config is checked first.
    pub fn new(config: OpenAiCompatibleConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        let resolved = config
            .resolve()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let options = ClientOptions {
            base_url: resolved.base_url.clone(),
            auth: resolved.auth.clone(),
            headers: resolved.headers.clone(),
            timeout: resolved.timeout,
            include_usage: resolved.include_usage,
        };
        let client = ChatCompletionsClient::new(options, ctx)?;
        Ok(OpenAiCompatible {
            config,
            resolved,
            client,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OpenAiCompatibleConfig {
        &self.config
    }

    /// The HTTP client.
    pub fn client(&self) -> &ChatCompletionsClient {
        &self.client
    }

    /// The request as this service wants it, and the parameters dropped
    /// from it. Fails (naming the parameter) on an unsupported parameter
    /// under `unsupported_params = "reject"`.
    pub fn wire_request(
        &self,
        request: &ChatRequest,
    ) -> Result<(Map<String, Value>, Vec<String>), Error> {
        request.validate().map_err(|e| self.client.error(e))?;
        let mut options = RequestOptions::default();
        if self.resolved.max_tokens_field == TokenField::MaxCompletionTokens {
            options = options.max_completion_tokens();
        }
        if self.resolved.send_reasoning_content {
            options = options.with_reasoning_content();
        }
        let wire = to_wire_request(request, &options).map_err(|e| self.client.error(e))?;
        let mut body = match serde_json::to_value(&wire) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(self.client.error(Error::invalid_request(
                    "the request could not be serialized",
                )));
            }
        };
        let dropped = self
            .resolved
            .shaping
            .apply(&mut body)
            .map_err(|e| self.client.error(e))?;
        Ok((body, dropped))
    }
}

#[async_trait]
impl ProviderInit for OpenAiCompatible {
    type Config = OpenAiCompatibleConfig;

    fn validate(config: &OpenAiCompatibleConfig) -> Result<(), Error> {
        config.resolve().map(|_| ())
    }

    async fn init(config: OpenAiCompatibleConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, &ctx)
    }
}

#[async_trait]
impl Provider for OpenAiCompatible {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let (body, dropped) = self.wire_request(request)?;
        let mut response = self.client.chat_json(body).await?;
        if !dropped.is_empty() {
            response.extra.insert(
                DROPPED_PARAMS.into(),
                Value::Array(dropped.into_iter().map(Value::String).collect()),
            );
        }
        Ok(response)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let (body, _dropped) = self.wire_request(request)?;
        self.client.chat_stream_json(body).await
    }

    /// The configured `models`, else `GET /models`.
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        if !self.resolved.models.is_empty() || !self.resolved.models_endpoint {
            return Ok(self
                .resolved
                .models
                .iter()
                .map(|id| ModelInfo {
                    provider: self.client.instance().to_owned(),
                    ..ModelInfo::new(id.clone())
                })
                .collect());
        }
        self.client.models().await
    }

    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        if !self.resolved.embeddings {
            return Err(self.client.error(Error::unsupported(format!(
                "{} has no embeddings endpoint (set `embeddings = true` if it does)",
                self.resolved.service
            ))));
        }
        request.validate().map_err(|e| self.client.error(e))?;
        let wire = to_wire_embeddings_request(request).map_err(|e| self.client.error(e))?;
        self.client.embed(&wire).await
    }
}
