#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod error;

use http::Method;
use serde_json::Value;
use switchboard_core::upstream::Upstream;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, ModelInfo,
    Provider, ProviderContext, ProviderInit, async_trait, provider,
};
use switchboard_protocol::openai::{
    FittedRequest, chat_event_stream, parse_chat_response, parse_embeddings_response,
    to_wire_embeddings_request, to_wire_request_with,
};

pub use crate::config::{
    ApiShape, AzureOpenAiConfig, DEFAULT_API_VERSION, ENV_AD_TOKEN, ENV_API_KEY, ENV_ENDPOINT,
};
use crate::config::{Auth, Resolved};
pub use crate::error::{CONTENT_FILTER_CODE, POLICY_VIOLATION_CODE, classify, is_content_filter};

/// The provider's name: the `kind` of its config entries.
pub const NAME: &str = "azure-openai";

/// The key of [`ChatResponse::extra`] keeping Azure's request id (the
/// `apim-request-id` header, which Azure support asks for).
pub const UPSTREAM_REQUEST_ID: &str = "upstream_request_id";

/// The key of [`ChatResponse::extra`] naming the deployment that answered.
pub const DEPLOYMENT: &str = "azure_deployment";

/// The key of [`ChatResponse::extra`] listing parameters dropped from the request.
pub const DROPPED_PARAMS: &str = "dropped_params";

const CHAT: &str = "chat/completions";
const EMBEDDINGS: &str = "embeddings";

/// Azure OpenAI: OpenAI's models deployed in an Azure resource, through the
/// Chat Completions and Embeddings APIs, addressed by deployment, with a key
/// or a Microsoft Entra ID token, on the v1 or the dated URL shape.
#[provider(name = "azure-openai", display_name = "Azure OpenAI",
           config = AzureOpenAiConfig,
           capabilities(streaming, tools, vision, embeddings, json_schema, reasoning))]
pub struct AzureOpenAi {
    config: AzureOpenAiConfig,
    resolved: Resolved,
    upstream: Upstream,
}

impl std::fmt::Debug for AzureOpenAi {
    /// The config and the upstream, both of which leave credentials out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureOpenAi")
            .field("config", &self.config)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl AzureOpenAi {
    /// Builds the provider for the instance in `ctx`; the config (with the
    /// environment fallbacks) is checked first.
    pub fn new(config: AzureOpenAiConfig, ctx: &ProviderContext) -> Result<Self, Error> {
        let resolved = config
            .resolve()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut builder = Upstream::builder(ctx, &resolved.base_url);
        builder = match &resolved.auth {
            Auth::ApiKey(key) => builder.secret_header("api-key", key),
            Auth::Bearer(token) => builder.bearer(token),
        };
        if let Some(timeout) = resolved.timeout {
            builder = builder.timeout(timeout);
        }
        let upstream = builder
            .classify(classify)
            .request_id_header("apim-request-id")
            .build()?;
        Ok(AzureOpenAi {
            config,
            resolved,
            upstream,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &AzureOpenAiConfig {
        &self.config
    }

    /// The way to the service (for requests this provider has no method for).
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// The path (under `{endpoint}/openai`, with the `api-version` query when
    /// one is sent) of `operation` for `model`, and the deployment serving it.
    pub fn route(&self, model: &str, operation: &str) -> (String, String) {
        let deployment = self.config.deployment(model).to_owned();
        (self.resolved.path(&deployment, operation), deployment)
    }

    /// The request as Azure wants it: the OpenAI wire format with the
    /// deployment as `model` (the body field the v1 shape routes by; the
    /// dated shape ignores it), fitted by the protocol crate's [`WireOptions`](switchboard_protocol::openai::WireOptions).
    pub fn wire_request<'a>(
        &self,
        request: &'a ChatRequest,
        deployment: &str,
        stream: bool,
    ) -> Result<FittedRequest<'a>, Error> {
        let mut fitted = to_wire_request_with(request, &self.resolved.wire, stream)
            .map_err(|e| self.upstream.error(e))?;
        fitted.request.model = deployment.to_owned().into();
        Ok(fitted)
    }
}

#[async_trait]
impl ProviderInit for AzureOpenAi {
    type Config = AzureOpenAiConfig;

    fn validate(config: &AzureOpenAiConfig) -> Result<(), Error> {
        config.resolve().map(|_| ())
    }

    async fn init(config: AzureOpenAiConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Self::new(config, &ctx)
    }
}

#[async_trait]
impl Provider for AzureOpenAi {
    /// `POST .../chat/completions`; the answer keeps Azure's filter results
    /// (`prompt_filter_results`, per-choice `content_filter_results`) in
    /// `extra`, plus `extra["azure_deployment"]` and
    /// `extra["upstream_request_id"]`. A filtered completion has finish
    /// reason `content_filter`; a filtered prompt is a `content_filter` error.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let (path, deployment) = self.route(&request.model, CHAT);
        let FittedRequest {
            request: wire,
            dropped,
        } = self.wire_request(request, &deployment, false)?;
        let reply = self
            .upstream
            .post_json(&path, &wire)
            .await
            .map_err(|e| error::name_deployment(e, &deployment))?;
        let mut response = reply.decode(parse_chat_response)?;
        response.provider = self.upstream.instance().to_string();
        response
            .extra
            .insert(DEPLOYMENT.into(), Value::String(deployment));
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

    /// `POST .../chat/completions` with `stream: true` and
    /// `stream_options.include_usage: true`; returns once the headers arrived.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let (path, deployment) = self.route(&request.model, CHAT);
        let fitted = self.wire_request(request, &deployment, true)?;
        let body = self.upstream.encode(&fitted.request)?;
        let http = self.upstream.request(Method::POST, &path, body)?;
        let reply = self
            .upstream
            .open(http)
            .await
            .map_err(|e| error::name_deployment(e, &deployment))?;
        Ok(reply.events(chat_event_stream))
    }

    /// The models of `deployments` (Azure lists base models, not
    /// deployments, so nothing is asked upstream).
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let instance = self.upstream.instance();
        Ok(self
            .config
            .deployments
            .keys()
            .map(|id| ModelInfo {
                provider: instance.to_string(),
                ..ModelInfo::new(id.clone())
            })
            .collect())
    }

    /// `POST .../embeddings` on the model's deployment.
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let (path, deployment) = self.route(&request.model, EMBEDDINGS);
        let mut wire = to_wire_embeddings_request(request).map_err(|e| self.upstream.error(e))?;
        wire.model = deployment.clone().into();
        let reply = self
            .upstream
            .post_json(&path, &wire)
            .await
            .map_err(|e| error::name_deployment(e, &deployment))?;
        let mut response = reply.decode(parse_embeddings_response)?;
        response.provider = self.upstream.instance().to_string();
        Ok(response)
    }
}
