//! The `openai` provider: wire requests from the protocol crate, sent through
//! core's [`Upstream`].

use http::Method;
use serde_json::Value;
use switchboard_core::extension::InboundApi;
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error,
    ForwardRequest, ForwardedReply, ForwardedStream, ModelInfo, Provider, ProviderContext,
    ProviderInit, async_trait, provider,
};
use switchboard_protocol::openai::types::{ChatCompletionRequest, StreamOptions};
use switchboard_protocol::openai::{
    RequestOptions, chat_event_stream, error_from_response, forward_chat, forward_chat_stream,
    parse_chat_response, parse_embeddings_response, parse_models, to_wire_embeddings_request,
    to_wire_request,
};

use crate::UPSTREAM_REQUEST_ID;
use crate::config::OpenAiConfig;

const CHAT: &str = "chat/completions";
const EMBEDDINGS: &str = "embeddings";
const MODELS: &str = "models";

/// OpenAI's error bodies, classified by the protocol crate.
fn classify(r: &ErrorResponse<'_>) -> Error {
    error_from_response(r.status, r.retry_after(), r.body)
}

/// OpenAI's hosted models through the Chat Completions API: streaming, tools,
/// vision, structured output, reasoning models, embeddings.
#[provider(name = "openai", display_name = "OpenAI", config = OpenAiConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
#[derive(Debug)]
pub struct OpenAi {
    config: OpenAiConfig,
    upstream: Upstream,
}

impl OpenAi {
    /// Builds the provider for the instance in `ctx`; the config is checked first.
    pub fn new(config: OpenAiConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut builder = Upstream::builder(ctx, config.base_url.as_str());
        if let Some(org) = &config.organization {
            builder = builder.public_header("OpenAI-Organization", org, "organization");
        }
        if let Some(project) = &config.project {
            builder = builder.public_header("OpenAI-Project", project, "project");
        }
        for (name, value) in &config.headers {
            builder = builder.header(name, value);
        }
        if let Some(timeout) = config.timeout() {
            builder = builder.timeout(timeout);
        }
        let upstream = builder
            .bearer(&config.api_key)
            .classify(classify)
            .request_id_header("x-request-id")
            .endpoint(CHAT)
            .endpoint(EMBEDDINGS)
            .endpoint(MODELS)
            .build()?;
        Ok(OpenAi { config, upstream })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    /// The way to the service (for requests this provider has no method for).
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The wire request for `request` (already validated by the gateway),
    /// with the token limit in the field the model needs.
    pub fn wire_request<'a>(
        &self,
        request: &'a ChatRequest,
    ) -> Result<ChatCompletionRequest<'a>, Error> {
        let mut options = RequestOptions::default();
        if self.config.uses_max_completion_tokens(&request.model) {
            options = options.max_completion_tokens();
        }
        to_wire_request(request, &options).map_err(|e| self.upstream.error(e))
    }
}

#[async_trait]
impl ProviderInit for OpenAi {
    type Config = OpenAiConfig;

    fn validate(config: &OpenAiConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: OpenAiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, &ctx)
    }
}

#[async_trait]
impl Provider for OpenAi {
    /// `POST chat/completions`; the answer names the instance as its
    /// provider and keeps the upstream request id in
    /// `extra["upstream_request_id"]`.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let wire = self.wire_request(request)?;
        let reply = self.upstream.post_json(CHAT, &wire).await?;
        let mut response = reply.decode(parse_chat_response)?;
        response.provider = self.upstream.instance().to_string();
        if let Some(id) = reply.request_id {
            response
                .extra
                .insert(UPSTREAM_REQUEST_ID.into(), Value::String(id));
        }
        Ok(response)
    }

    /// OpenAI Chat Completions requests, except for a model that needs
    /// `max_completion_tokens` (the full path renames `max_tokens` for it).
    fn forwards(&self, model: &str, request: &ForwardRequest) -> bool {
        request.api == InboundApi::OpenAi && !self.config.uses_max_completion_tokens(model)
    }

    /// `POST chat/completions` with the client's body, only its `model`
    /// changed; the answer as it came.
    async fn forward(&self, request: &ForwardRequest) -> Result<ForwardedReply, Error> {
        forward_chat(&self.upstream, CHAT, request).await
    }

    /// `POST chat/completions` with the client's body, only its `model`
    /// changed and usage asked for; the chunks as they came (the usage
    /// chunk only if the client asked for it).
    async fn forward_stream(&self, request: &ForwardRequest) -> Result<ForwardedStream, Error> {
        forward_chat_stream(&self.upstream, CHAT, request).await
    }

    /// `POST chat/completions` with `stream: true` and
    /// `stream_options.include_usage: true` (OpenAI sends the usage chunk
    /// only when asked).
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let mut wire = self.wire_request(request)?;
        wire.stream = Some(true);
        wire.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(true);
        let body = self.upstream.encode(&wire)?;
        let request = self.upstream.request(Method::POST, CHAT, body)?;
        let reply = self.upstream.open(request).await?;
        Ok(reply.events(chat_event_stream))
    }

    /// `GET models`, each named with the instance as its provider.
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let mut models = self.upstream.get(MODELS).await?.decode(parse_models)?;
        for m in &mut models {
            m.provider = self.upstream.instance().to_string();
        }
        Ok(models)
    }

    /// `POST embeddings`, answered with the instance as the provider.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let wire = to_wire_embeddings_request(request).map_err(|e| self.upstream.error(e))?;
        let reply = self.upstream.post_json(EMBEDDINGS, &wire).await?;
        let mut response = reply.decode(parse_embeddings_response)?;
        response.provider = self.upstream.instance().to_string();
        Ok(response)
    }
}
