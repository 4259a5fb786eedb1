#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
pub mod convert;
mod error;
pub mod stream;
pub mod wire;

use http::Method;
use serde_json::Value;
use switchboard_core::upstream::Upstream;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, ModelInfo,
    Provider, ProviderContext, ProviderInit, Usage, async_trait, provider,
};
use switchboard_protocol::sse::DecodedEventStream;

pub use crate::config::{
    CohereConfig, DEFAULT_BASE_URL, DEFAULT_INPUT_TYPE, DEFAULT_MODEL, ENV_API_KEYS, INPUT_TYPES,
};
pub use crate::convert::{BILLED_UNITS, CITATIONS, ORIGIN};
pub use crate::error::classify;

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "cohere";

const CHAT: &str = "v2/chat";
const EMBED: &str = "v2/embed";

/// Cohere's Command models through the Chat v2 API (streaming, tools,
/// documents with citations, images, JSON output, reasoning) and its Embed v2
/// API.
#[provider(name = "cohere", display_name = "Cohere", config = CohereConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct CohereProvider {
    config: CohereConfig,
    /// The way to the service (bounds calls, classifies and scrubs errors).
    upstream: Upstream,
}

impl CohereProvider {
    /// A provider for the instance in `ctx`, with `config` checked first.
    pub fn new(config: CohereConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let key = config
            .key()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let upstream = Upstream::builder(ctx, &config.base_url)
            .timeout(config.timeout(ctx.request_timeout))
            .bearer(&key)
            .header("accept", "application/json")
            .classify(classify)
            .endpoint(CHAT)
            .endpoint(EMBED)
            .build()?;
        Ok(CohereProvider { config, upstream })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &CohereConfig {
        &self.config
    }

    /// The way to the service (for requests this provider has no method for).
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }
}

#[async_trait]
impl ProviderInit for CohereProvider {
    type Config = CohereConfig;

    fn validate(config: &CohereConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: CohereConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, &ctx)
    }
}

#[async_trait]
impl Provider for CohereProvider {
    /// `POST /v2/chat`; citations are kept in `extra["citations"]`, billed
    /// units in `extra["billed_units"]`.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let body = convert::chat_body(request, false).map_err(|e| self.upstream.error(e))?;
        let reply = self.upstream.post_json(CHAT, &body).await?;
        let answer: wire::ChatAnswer = reply.json("Cohere chat answer")?;
        let mut response = convert::response(answer, &request.model).map_err(|e| reply.error(e))?;
        response.provider = self.upstream.instance().to_string();
        Ok(response)
    }

    /// `POST /v2/chat` with `stream: true`; returns once the headers arrived.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = convert::chat_body(request, true).map_err(|e| self.upstream.error(e))?;
        let body = self.upstream.encode(&body)?;
        let http = self.upstream.request(Method::POST, CHAT, body)?;
        let decoder = stream::StreamDecoder::new(&request.model);
        let reply = self.upstream.open(http).await?;
        Ok(reply.events(|body| DecodedEventStream::with_decoder(body, decoder)))
    }

    /// The configured `models` (Cohere's model list is not asked).
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let instance = self.upstream.instance();
        Ok(self
            .config
            .models
            .iter()
            .map(|id| ModelInfo {
                provider: instance.to_string(),
                ..ModelInfo::new(id.clone())
            })
            .collect())
    }

    /// `POST /v2/embed` with `embedding_types: ["float"]` and the
    /// `input_type` from the request's `extra.input_type`, else the config's
    /// `embed_input_type`; `dimensions` → `output_dimension`; other `extra`
    /// entries (`truncate`, ...) are passed through.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let mut extra = request.extra.clone();
        let input_type = match extra.remove("input_type") {
            None => self.config.embed_input_type.clone(),
            Some(Value::String(s)) => {
                config::check_input_type(&s, "input_type").map_err(|e| self.upstream.error(e))?;
                s
            }
            Some(_) => {
                return Err(self.upstream.error(Error::invalid_param(
                    "input_type",
                    "`input_type` must be a string",
                )));
            }
        };
        for key in ["model", "texts", "embedding_types", "output_dimension"] {
            if extra.contains_key(key) {
                return Err(self.upstream.error(Error::invalid_param(
                    format!("extra.{key}"),
                    format!("`{key}` is set from the request itself, not from `extra`"),
                )));
            }
        }
        let body = wire::EmbedBody {
            model: &request.model,
            texts: &request.input,
            input_type,
            embedding_types: ["float"],
            output_dimension: request.dimensions,
            extra,
        };
        let reply = self.upstream.post_json(EMBED, &body).await?;
        let answer: wire::EmbedAnswer = reply.json("Cohere embed answer")?;
        let Some(embeddings) = answer.embeddings.float else {
            return Err(reply.error(Error::protocol(
                "Cohere's embed answer has no `embeddings.float`",
            )));
        };
        if embeddings.len() != request.input.len() {
            return Err(reply.error(Error::protocol(format!(
                "Cohere returned {} vectors for {} inputs",
                embeddings.len(),
                request.input.len()
            ))));
        }
        let input_tokens = answer
            .meta
            .and_then(|m| m.billed_units)
            .map_or(0, |b| b.input_tokens);
        Ok(EmbeddingsResponse {
            model: request.model.clone(),
            provider: self.upstream.instance().to_string(),
            embeddings,
            usage: Usage::new(input_tokens, 0),
        })
    }
}
