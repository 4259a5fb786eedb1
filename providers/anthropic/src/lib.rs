#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;

use std::fmt;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::Method;
use switchboard_core::upstream::{self, ErrorResponse, Upstream};
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, Error, HealthReport, ModelInfo, Provider,
    ProviderContext, ProviderInit, async_trait, provider, response_to_events,
};
use switchboard_protocol::anthropic::{self, RequestOptions};

pub use crate::config::{AnthropicConfig, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_VERSION};

/// The provider's name (`kind = "anthropic"`).
pub const NAME: &str = "anthropic";

/// The origin of Anthropic's reasoning parts (thinking signatures and
/// redacted thinking); only reasoning of this origin, or of unknown origin,
/// is sent to Anthropic. The same constant as
/// [`switchboard_protocol::anthropic::ORIGIN`].
pub const ORIGIN: &str = anthropic::ORIGIN;

/// The most pages `models` reads from `GET /v1/models` (1000 models each).
const MAX_MODEL_PAGES: usize = 20;

/// Anthropic's Claude models through the Messages API: tools, images,
/// extended thinking and prompt caching.
#[provider(name = "anthropic", display_name = "Anthropic", config = AnthropicConfig,
           capabilities(streaming, tools, vision, json_schema, reasoning))]
pub struct Anthropic {
    config: AnthropicConfig,
    upstream: Upstream,
    options: RequestOptions,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("upstream", &self.upstream)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Anthropic's error bodies, with the `request-id` header it sends.
fn classify(r: &ErrorResponse<'_>) -> Error {
    anthropic::error_from_response(r.status, r.retry_after(), r.header("request-id"), r.body)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Anthropic {
    /// Builds the provider from a validated-or-not config (it is validated here).
    pub fn new(config: AnthropicConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let mut upstream = Upstream::builder(&ctx, config.base_url.as_str())
            .secret_header("x-api-key", &config.api_key)
            .public_header(
                "anthropic-version",
                &config.anthropic_version,
                "anthropic_version",
            )
            .timeout(config.timeout(ctx.request_timeout))
            .classify(classify)
            .endpoint("v1/messages");
        if !config.anthropic_beta.is_empty() {
            upstream = upstream.public_header(
                "anthropic-beta",
                &config.anthropic_beta.join(","),
                "anthropic_beta",
            );
        }
        let mut options = RequestOptions::default().default_max_tokens(config.default_max_tokens);
        options.drop_unsupported = config.drop_unsupported_params;
        options.cache_breakpoints = config.prompt_caching;
        Ok(Anthropic {
            upstream: upstream.build()?,
            options,
            config,
        })
    }

    /// The configuration this instance was built from.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    fn wire_body(&self, request: &ChatRequest, stream: bool) -> Result<bytes::Bytes, Error> {
        let mut wire = anthropic::to_wire_request(request, &self.options)
            .map_err(|e| self.upstream.error(e))?;
        if stream {
            wire = wire.streaming();
        }
        self.upstream.encode(&wire)
    }

    fn finish_response(&self, mut response: ChatResponse) -> ChatResponse {
        response.provider = self.upstream.instance().to_string();
        if response.created == 0 {
            response.created = unix_now();
        }
        response
    }

    async fn get_models(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> Result<anthropic::ModelPage, Error> {
        let mut path = format!("v1/models?limit={limit}");
        if let Some(after) = after {
            path.push_str("&after_id=");
            path.push_str(&upstream::percent_encode(after));
        }
        let reply = self.upstream.get(&path).await?;
        reply.decode(anthropic::parse_models)
    }

    fn model_info(&self, mut m: ModelInfo) -> ModelInfo {
        m.provider = self.upstream.instance().to_string();
        m.capabilities = Self::DESCRIPTOR.capabilities;
        m
    }
}

#[async_trait]
impl ProviderInit for Anthropic {
    type Config = AnthropicConfig;

    fn validate(config: &AnthropicConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: AnthropicConfig, ctx: ProviderContext) -> Result<Self, Error> {
        Anthropic::new(config, ctx)
    }
}

#[async_trait]
impl Provider for Anthropic {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let body = self.wire_body(request, false)?;
        let reply = self.upstream.post("v1/messages", body).await?;
        let response = reply.decode(anthropic::parse_messages_response)?;
        Ok(self.finish_response(response))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = self.wire_body(request, true)?;
        let http = self.upstream.request(Method::POST, "v1/messages", body)?;
        let reply = self.upstream.open(http).await?;
        if !reply.is_event_stream() {
            // A proxy (or the API, for an error) answered with plain JSON:
            // read it as a whole message and replay it.
            let reply = reply.into_reply().await?;
            let response = reply.decode(anthropic::parse_messages_response)?;
            let events = response_to_events(&self.finish_response(response));
            return Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))));
        }
        Ok(reply.events(anthropic::chat_event_stream))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        if !self.config.models.is_empty() {
            return Ok(self
                .config
                .models
                .iter()
                .map(|id| {
                    let mut m = self.model_info(ModelInfo::new(id.clone()));
                    m.owned_by = Some("anthropic".to_owned());
                    m
                })
                .collect());
        }
        let mut models = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MODEL_PAGES {
            let page = self.get_models(1000, after.as_deref()).await?;
            models.extend(page.models.into_iter().map(|m| self.model_info(m)));
            match page.last_id {
                Some(last) if page.has_more => after = Some(last),
                _ => break,
            }
        }
        Ok(models)
    }

    /// Lists one model: a cheap authenticated call, even when `models` is configured.
    async fn health(&self) -> Result<HealthReport, Error> {
        let start = Instant::now();
        let page = self.get_models(1, None).await?;
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: page
                .models
                .first()
                .map(|m| format!("newest model: {}", m.id)),
        })
    }
}
