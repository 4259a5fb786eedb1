#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod credentials;
mod jwt;
mod publisher;
mod token;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Method;
use http::header::AUTHORIZATION;
use serde_json::Value;
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, Error, HealthReport, ModelInfo, Provider,
    ProviderContext, ProviderInit, async_trait, provider, response_to_events,
};
use switchboard_protocol::sse::DecodedEventStream;
use switchboard_protocol::{anthropic, gemini};

pub use crate::config::{
    DEFAULT_ANTHROPIC_API_VERSION, DEFAULT_GEMINI_API_VERSION, DEFAULT_LOCATION,
    DEFAULT_MAX_TOKENS, DEFAULT_TOKEN_URL, VertexConfig,
};
pub use crate::credentials::{CREDENTIALS_ENV_VAR, Credentials, ServiceAccountKey, TOKEN_ENV_VARS};
pub use crate::jwt::{ASSERTION_LIFETIME_SECS, CLOUD_PLATFORM_SCOPE, Signer};
pub use crate::publisher::{Publisher, VERTEX_ANTHROPIC_VERSION, anthropic_body, model_path};
pub use crate::token::REFRESH_MARGIN;

/// The provider's name: the `kind` of `[providers.<instance>]`.
pub const PROVIDER_NAME: &str = "vertex";

/// Gemini and Claude models on Google Cloud's Vertex AI: Gemini through
/// `generateContent` / `streamGenerateContent`, Claude through `rawPredict`
/// / `streamRawPredict` (the Anthropic Messages API), authenticated with a
/// service account key (OAuth 2.0 JWT bearer exchange, tokens cached and
/// refreshed) or a ready access token.
#[provider(name = "vertex", display_name = "Vertex AI", config = VertexConfig,
           capabilities(streaming, tools, vision, json_schema, reasoning))]
#[derive(Debug)]
pub struct VertexProvider {
    config: VertexConfig,
    /// The project requests go to.
    project: String,
    /// The API root, authenticated with a static token when there is one.
    upstream: Upstream,
    /// The service account's tokens, when credentials are a key.
    tokens: Option<token::TokenSource>,
    gemini_options: gemini::RequestOptions,
    anthropic_options: anthropic::RequestOptions,
}

/// Classifies Vertex AI's non-2xx answers: an Anthropic error body
/// (`{"type": "error", "error": {"type": ...}}`, from Claude models) by
/// Anthropic's rules, anything else (Google's `{"error": {"code", "status"}}`)
/// by Google's.
fn classify(r: &ErrorResponse<'_>) -> Error {
    let anthropic_shape = serde_json::from_slice::<Value>(r.body).is_ok_and(|v| {
        v.get("type").and_then(Value::as_str) == Some("error")
            && v.pointer("/error/type").is_some_and(Value::is_string)
    });
    if anthropic_shape {
        anthropic::error_from_response(r.status, r.retry_after(), r.header("request-id"), r.body)
    } else {
        gemini::error_from_response(r.status, r.retry_after(), r.body)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl VertexProvider {
    /// A provider for the instance in `ctx` with `credentials` already
    /// loaded ([`ProviderInit::init`] finds them from the config and the
    /// environment).
    pub fn new(
        config: VertexConfig,
        credentials: Credentials,
        ctx: ProviderContext,
    ) -> Result<Self, Error> {
        let instance = ctx.instance.clone();
        let with_instance = |e: Error| e.with_instance(instance.clone());
        config.validate().map_err(with_instance)?;
        let timeout = config.timeout(ctx.request_timeout);
        let root = config.api_root().map_err(with_instance)?;
        let mut upstream = Upstream::builder(&ctx, &root)
            .timeout(timeout)
            .classify(classify);
        let (project, tokens) = match credentials {
            Credentials::Token(token) => {
                upstream = upstream.bearer(&token);
                (config.project.clone(), None)
            }
            Credentials::ServiceAccount(key) => {
                let token_url = match (&config.token_url, &key.token_uri) {
                    (Some(url), _) => config::checked_url(url, "token_url"),
                    (None, Some(uri)) => config::checked_url(uri, "credentials_file"),
                    (None, None) => Ok(DEFAULT_TOKEN_URL.to_owned()),
                }
                .map_err(with_instance)?;
                let project = config.project.clone().or_else(|| key.project_id.clone());
                let tokens = token::TokenSource::new(*key, token_url, &ctx, timeout)
                    .map_err(with_instance)?;
                (project, Some(tokens))
            }
        };
        let project = project.ok_or_else(|| {
            with_instance(
                Error::config("`project` is not set and the credentials name none")
                    .with_param("project"),
            )
        })?;
        let anthropic_options =
            anthropic::RequestOptions::default().default_max_tokens(config.default_max_tokens);
        Ok(VertexProvider {
            gemini_options: config.gemini_options(),
            anthropic_options,
            project,
            upstream: upstream.build()?,
            tokens,
            config,
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &VertexConfig {
        &self.config
    }

    /// The project requests go to.
    pub fn project(&self) -> &str {
        &self.project
    }

    fn instance(&self) -> &Arc<str> {
        self.upstream.instance()
    }

    /// The path of `model`'s method, and its publisher.
    fn route(&self, model: &str, stream: bool) -> Result<(Publisher, String), Error> {
        let (publisher, id) = Publisher::of(model).map_err(|e| self.upstream.error(e))?;
        let version = self
            .config
            .api_version
            .as_deref()
            .unwrap_or(match publisher {
                Publisher::Google => DEFAULT_GEMINI_API_VERSION,
                Publisher::Anthropic => DEFAULT_ANTHROPIC_API_VERSION,
            });
        let path = model_path(
            version,
            &self.project,
            &self.config.location,
            publisher,
            id,
            stream,
        );
        Ok((publisher, path))
    }

    /// The request body for `publisher`.
    fn body(
        &self,
        publisher: Publisher,
        request: &ChatRequest,
        stream: bool,
    ) -> Result<Bytes, Error> {
        match publisher {
            Publisher::Google => {
                let wire = gemini::to_wire_request(request, &self.gemini_options)
                    .map_err(|e| self.upstream.error(e))?;
                self.upstream.encode(&wire)
            }
            Publisher::Anthropic => {
                let mut wire = anthropic::to_wire_request(request, &self.anthropic_options)
                    .map_err(|e| self.upstream.error(e))?;
                if stream {
                    wire = wire.streaming();
                }
                let json = self.upstream.encode(&wire)?;
                anthropic_body(&json)
                    .map(Bytes::from)
                    .map_err(|e| self.upstream.error(e))
            }
        }
    }

    /// A `POST` of `body` to `path`, with the current access token.
    async fn authorized(&self, path: &str, body: Bytes) -> Result<http::Request<Bytes>, Error> {
        let mut request = self.upstream.request(Method::POST, path, body)?;
        if let Some(tokens) = &self.tokens {
            let header = tokens.header().await.map_err(|e| self.upstream.error(e))?;
            request.headers_mut().insert(AUTHORIZATION, header);
        }
        Ok(request)
    }

    fn finish_claude(&self, mut response: ChatResponse) -> ChatResponse {
        response.provider = self.instance().to_string();
        if response.created == 0 {
            response.created = unix_now();
        }
        response
    }
}

#[async_trait]
impl ProviderInit for VertexProvider {
    type Config = VertexConfig;

    fn validate(config: &VertexConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: VertexConfig, ctx: ProviderContext) -> Result<Self, Error> {
        let found = credentials::source(&config, |name| std::env::var(name).ok())
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let credentials = credentials::load(found)
            .await
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        Self::new(config, credentials, ctx)
    }
}

#[async_trait]
impl Provider for VertexProvider {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let (publisher, path) = self.route(&request.model, false)?;
        let body = self.body(publisher, request, false)?;
        let reply = self
            .upstream
            .fetch(self.authorized(&path, body).await?)
            .await?;
        match publisher {
            Publisher::Google => {
                reply.decode(|body| gemini::parse_response(body, &request.model, self.instance()))
            }
            Publisher::Anthropic => {
                let response = reply.decode(anthropic::parse_messages_response)?;
                Ok(self.finish_claude(response))
            }
        }
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let (publisher, path) = self.route(&request.model, true)?;
        let body = self.body(publisher, request, true)?;
        let reply = self
            .upstream
            .open(self.authorized(&path, body).await?)
            .await?;
        match publisher {
            Publisher::Google => {
                let decoder = gemini::GeminiStreamDecoder::new(&request.model);
                Ok(reply.events(|body| DecodedEventStream::with_decoder(body, decoder)))
            }
            Publisher::Anthropic if !reply.is_event_stream() => {
                // A whole message instead of a stream (a proxy): replay it.
                let reply = reply.into_reply().await?;
                let response = reply.decode(anthropic::parse_messages_response)?;
                let events = response_to_events(&self.finish_claude(response));
                Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))))
            }
            Publisher::Anthropic => Ok(reply.events(anthropic::chat_event_stream)),
        }
    }

    /// With a service account: an access token is obtained (or the cached
    /// one is fresh), which checks the key and the token endpoint. A ready
    /// token cannot be checked without a billed call, so it is reported
    /// as is.
    async fn health(&self) -> Result<HealthReport, Error> {
        let start = std::time::Instant::now();
        let detail = match &self.tokens {
            Some(tokens) => {
                tokens.header().await.map_err(|e| self.upstream.error(e))?;
                "service account token ready"
            }
            None => "static access token (not checked)",
        };
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: Some(detail.to_owned()),
        })
    }

    /// The configured `models`.
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        Ok(self
            .config
            .models
            .iter()
            .map(|id| ModelInfo {
                id: id.clone(),
                provider: self.instance().to_string(),
                capabilities: Capabilities {
                    embeddings: false,
                    ..Self::DESCRIPTOR.capabilities
                },
                owned_by: Some(
                    match Publisher::of(id) {
                        Ok((Publisher::Anthropic, _)) => "anthropic",
                        _ => "google",
                    }
                    .to_owned(),
                ),
                ..ModelInfo::default()
            })
            .collect())
    }
}
