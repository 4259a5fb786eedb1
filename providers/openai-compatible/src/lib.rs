#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod preset;

use http::Method;
use serde_json::Value;
use switchboard_core::extension::InboundApi;
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error,
    ForwardRequest, ForwardedReply, ForwardedStream, ModelInfo, Provider, ProviderContext,
    ProviderInit, async_trait, provider,
};
/// Which wire field carries the request's `max_tokens` (the protocol
/// crate's [`MaxTokensField`](switchboard_protocol::openai::MaxTokensField),
/// under the name this crate has always used).
pub use switchboard_protocol::openai::MaxTokensField as TokenField;
pub use switchboard_protocol::openai::UnsupportedParams;
use switchboard_protocol::openai::{
    FittedRequest, chat_event_stream, error_from_response, forward_chat, forward_chat_stream,
    parse_chat_response, parse_embeddings_response, parse_models, to_wire_embeddings_request,
    to_wire_request_with,
};

pub use crate::config::OpenAiCompatibleConfig;
use crate::config::{Auth, Resolved};
pub use crate::preset::{AuthStyle, CUSTOM, DeveloperRole, PRESETS, Preset, PresetName};

/// The provider's name: the `kind` of its config entries.
pub const NAME: &str = "openai-compatible";

/// The key of [`ChatResponse::extra`] listing the parameters left out of
/// the request under `unsupported_params = "drop"`.
pub const DROPPED_PARAMS: &str = "dropped_params";

/// The key of [`ChatResponse::extra`] keeping the upstream's request id (its
/// `x-request-id` header); errors carry it in their message as
/// `(upstream request id: ...)`. The same key as the `openai` provider's.
const UPSTREAM_REQUEST_ID: &str = "upstream_request_id";

const CHAT: &str = "chat/completions";
const EMBEDDINGS: &str = "embeddings";
const MODELS: &str = "models";

/// OpenAI-format error bodies (vLLM's integer `code` included), classified
/// by the protocol crate.
fn classify(r: &ErrorResponse<'_>) -> Error {
    error_from_response(r.status, r.retry_after(), r.body)
}

/// Any OpenAI-compatible endpoint — Groq, Together, OpenRouter, DeepInfra,
/// Mistral, DeepSeek, vLLM, llama.cpp, LM Studio or your own — with each
/// service's documented quirks applied from a preset.
#[provider(name = "openai-compatible", display_name = "OpenAI-compatible",
           config = OpenAiCompatibleConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
pub struct OpenAiCompatible {
    config: OpenAiCompatibleConfig,
    resolved: Resolved,
    upstream: Upstream,
}

impl std::fmt::Debug for OpenAiCompatible {
    /// The config and the upstream, both of which leave credentials and header values out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("service", &self.resolved.service)
            .field("config", &self.config)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// Builds the provider for the instance in `ctx`; the config is checked first.
    pub fn new(config: OpenAiCompatibleConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        let resolved = config
            .resolve()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut builder = Upstream::builder(ctx, resolved.base_url.as_str());
        for (name, value) in &resolved.headers {
            builder = builder.header(name, value);
        }
        builder = match &resolved.auth {
            Auth::None => builder,
            Auth::Bearer(key) => builder.bearer(key),
            Auth::Header { name, value } => builder.secret_header(name, value),
        };
        if let Some(timeout) = resolved.timeout {
            builder = builder.timeout(timeout);
        }
        let upstream = builder
            .classify(classify)
            .request_id_header("x-request-id")
            .endpoint(CHAT)
            .endpoint(EMBEDDINGS)
            .endpoint(MODELS)
            .build()?;
        Ok(OpenAiCompatible {
            config,
            resolved,
            upstream,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &OpenAiCompatibleConfig {
        &self.config
    }

    /// The way to the service (for requests this provider has no method for).
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The request (already validated by the gateway) as this service wants
    /// it, and the parameters dropped from it: without `stream` or
    /// `stream_options` unless `stream` is set, and then with `stream: true`
    /// and `stream_options.include_usage: true` (unless the instance turned
    /// it off). Fails (naming the parameter) on an unsupported parameter
    /// under `unsupported_params = "reject"`.
    pub fn wire_request<'a>(
        &self,
        request: &'a ChatRequest,
        stream: bool,
    ) -> Result<FittedRequest<'a>, Error> {
        to_wire_request_with(request, &self.resolved.wire, stream)
            .map_err(|e| self.upstream.error(e))
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
    /// `POST chat/completions`; the answer names the instance as its
    /// provider, keeps the upstream request id in
    /// `extra["upstream_request_id"]` and lists dropped parameters in
    /// `extra["dropped_params"]`.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let FittedRequest {
            request: wire,
            dropped,
        } = self.wire_request(request, false)?;
        let reply = self.upstream.post_json(CHAT, &wire).await?;
        let mut response = reply.decode(parse_chat_response)?;
        response.provider = self.upstream.instance().to_string();
        if let Some(id) = reply.request_id {
            response
                .extra
                .insert(UPSTREAM_REQUEST_ID.into(), Value::String(id));
        }
        if !dropped.is_empty() {
            response.extra.insert(
                DROPPED_PARAMS.into(),
                Value::Array(dropped.into_iter().map(Value::String).collect()),
            );
        }
        Ok(response)
    }

    /// OpenAI Chat Completions requests, when the service has no quirk
    /// (a preset's unsupported parameters, renames or roles) the full path
    /// would apply; streamed ones when the service takes
    /// `stream_options.include_usage` too.
    fn forwards(&self, _model: &str, request: &ForwardRequest) -> bool {
        let wire = &self.resolved.wire;
        request.api == InboundApi::OpenAi
            && wire.is_plain()
            && (!request.stream || wire.include_usage)
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

    /// `POST chat/completions` with `stream: true`; returns once the
    /// answer's headers arrived.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let fitted = self.wire_request(request, true)?;
        let body = self.upstream.encode(&fitted.request)?;
        let http = self.upstream.request(Method::POST, CHAT, body)?;
        let reply = self.upstream.open(http).await?;
        Ok(reply.events(chat_event_stream))
    }

    /// The configured `models`, else `GET models`; each named with the
    /// instance as its provider.
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let instance = self.upstream.instance();
        if !self.resolved.models.is_empty() || !self.resolved.models_endpoint {
            return Ok(self
                .resolved
                .models
                .iter()
                .map(|id| ModelInfo {
                    provider: instance.to_string(),
                    ..ModelInfo::new(id.clone())
                })
                .collect());
        }
        let mut models = self.upstream.get(MODELS).await?.decode(parse_models)?;
        for m in &mut models {
            m.provider = instance.to_string();
        }
        Ok(models)
    }

    /// `POST embeddings`, answered with the instance as the provider.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        if !self.resolved.embeddings {
            return Err(self.upstream.error(Error::unsupported(format!(
                "{} has no embeddings endpoint (set `embeddings = true` if it does)",
                self.resolved.service
            ))));
        }
        let wire = to_wire_embeddings_request(request).map_err(|e| self.upstream.error(e))?;
        let reply = self.upstream.post_json(EMBEDDINGS, &wire).await?;
        let mut response = reply.decode(parse_embeddings_response)?;
        response.provider = self.upstream.instance().to_string();
        Ok(response)
    }
}
