#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod stream;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use reqwest::RequestBuilder;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use switchboard_core::MAX_UPSTREAM_BODY;
use switchboard_core::http::UpstreamResponse as Response;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, Error, HealthReport, ModelInfo, Provider,
    ProviderContext, ProviderInit, Secret, async_trait, provider, response_to_events,
};
use switchboard_protocol::anthropic::{self, RequestOptions};
use url::Url;

pub use crate::config::{AnthropicConfig, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS, DEFAULT_VERSION};
use crate::stream::GuardedBody;

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
    ctx: ProviderContext,
    messages_url: Url,
    models_url: Url,
    /// `x-api-key` (marked sensitive), `anthropic-version`, `anthropic-beta`.
    headers: HeaderMap,
    options: RequestOptions,
    timeout: Duration,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("instance", &self.ctx.instance)
            .field("messages_url", &self.messages_url.as_str())
            .field("config", &self.config)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn endpoint(base: &Url, path: &str) -> Result<Url, Error> {
    let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
    Url::parse(&joined).map_err(|e| {
        Error::config(format!(
            "`base_url` does not make a valid URL with `{path}`: {e}"
        ))
        .with_param("base_url")
    })
}

fn header_value(value: &str, param: &'static str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!("`{param}` cannot be sent as a header value")).with_param(param)
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Anthropic {
    /// Builds the provider from `config` for the instance in `ctx`, after
    /// [validating](AnthropicConfig::validate) it.
    pub fn new(config: AnthropicConfig, ctx: ProviderContext) -> Result<Self, Error> {
        config
            .validate()
            .map_err(|e| e.with_instance(ctx.instance.clone()))?;
        let build = || -> Result<Self, Error> {
            let mut key = header_value(config.api_key.expose(), "api_key")?;
            key.set_sensitive(true);
            let mut headers = HeaderMap::new();
            headers.insert(HeaderName::from_static("x-api-key"), key);
            headers.insert(
                HeaderName::from_static("anthropic-version"),
                header_value(&config.anthropic_version, "anthropic_version")?,
            );
            if !config.anthropic_beta.is_empty() {
                headers.insert(
                    HeaderName::from_static("anthropic-beta"),
                    header_value(&config.anthropic_beta.join(","), "anthropic_beta")?,
                );
            }
            let mut options =
                RequestOptions::default().default_max_tokens(config.default_max_tokens);
            options.drop_unsupported = config.drop_unsupported_params;
            options.cache_breakpoints = config.prompt_caching;
            Ok(Anthropic {
                messages_url: endpoint(&config.base_url, "/v1/messages")?,
                models_url: endpoint(&config.base_url, "/v1/models")?,
                timeout: config.timeout(ctx.request_timeout),
                headers,
                options,
                config: config.clone(),
                ctx: ctx.clone(),
            })
        };
        build().map_err(|e| e.with_instance(ctx.instance.clone()))
    }

    /// The configuration in effect.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    /// Attaches the instance and removes the API key from the message (an
    /// upstream may echo a rejected key back).
    fn err(&self, err: Error) -> Error {
        scrub(err, &self.config.api_key).with_instance(self.ctx.instance.clone())
    }

    fn post(&self, body: Vec<u8>) -> RequestBuilder {
        self.ctx
            .http
            .post(self.messages_url.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    }

    /// Sends a request and waits for the response headers (within the
    /// timeout, and unless the instance is shut down). A non-2xx status is
    /// classified into an error.
    async fn send(&self, request: RequestBuilder, deadline: Instant) -> Result<Response, Error> {
        let request = request
            .build()
            .map_err(Error::from)
            .and_then(switchboard_core::http::from_reqwest)
            .map_err(|e| self.err(e))?;
        // The upstream client records the wire time from the socket.
        let sent = tokio::select! {
            r = tokio::time::timeout_at(deadline.into(), self.ctx.upstream.send(request)) => r,
            () = self.ctx.cancel.cancelled() => {
                return Err(self.err(Error::cancelled("the provider instance was shut down")));
            }
        };
        let response = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(self.err(e)),
            Err(_) => return Err(self.err(self.timeout_error())),
        };
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.error_response(response, deadline).await)
    }

    fn timeout_error(&self) -> Error {
        Error::timeout(format!(
            "the upstream did not answer within {} ms",
            self.timeout.as_millis()
        ))
    }

    /// Reads the whole body (at most [`MAX_UPSTREAM_BODY`] bytes) before
    /// the deadline.
    async fn read_body(
        &self,
        response: Response,
        deadline: Instant,
    ) -> Result<bytes::Bytes, Error> {
        match tokio::time::timeout_at(deadline.into(), response.bytes(MAX_UPSTREAM_BODY)).await {
            Ok(Ok(b)) => Ok(b),
            Ok(Err(e)) => Err(self.err(e)),
            Err(_) => Err(self.err(self.timeout_error())),
        }
    }

    /// Classifies a non-2xx response, keeping its `request-id`.
    async fn error_response(&self, response: Response, deadline: Instant) -> Error {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let request_id = header("request-id");
        // The error body is small; if it cannot be read in time, classify by status.
        let body = self.read_body(response, deadline).await.unwrap_or_default();
        self.err(anthropic::error_from_response(
            status,
            retry_after.as_deref(),
            request_id.as_deref(),
            &body,
        ))
    }

    fn wire_body(&self, request: &ChatRequest, stream: bool) -> Result<Vec<u8>, Error> {
        request.validate().map_err(|e| self.err(e))?;
        let mut wire =
            anthropic::to_wire_request(request, &self.options).map_err(|e| self.err(e))?;
        if stream {
            wire = wire.streaming();
        }
        serde_json::to_vec(&wire).map_err(|e| {
            self.err(Error::invalid_request(format!(
                "the request could not be serialized: {e}"
            )))
        })
    }

    fn finish_response(&self, mut response: ChatResponse) -> ChatResponse {
        response.provider = self.ctx.instance.to_string();
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
        let mut url = self.models_url.clone();
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(after) = after {
            url.query_pairs_mut().append_pair("after_id", after);
        }
        let deadline = Instant::now() + self.timeout;
        let request = self.ctx.http.get(url).headers(self.headers.clone());
        let response = self.send(request, deadline).await?;
        let body = self.read_body(response, deadline).await?;
        anthropic::parse_models(&body).map_err(|e| self.err(e))
    }

    fn model_info(&self, mut m: ModelInfo) -> ModelInfo {
        m.provider = self.ctx.instance.to_string();
        m.capabilities = Self::DESCRIPTOR.capabilities;
        m
    }
}

/// Replaces every occurrence of the key in the error's message with `***`.
fn scrub(err: Error, key: &Secret) -> Error {
    let key = key.expose();
    // A key this short would mangle messages, and leaking it would reveal nothing.
    if key.len() < 4 || !err.message().contains(key) {
        return err;
    }
    let message = err.message().replace(key, Secret::REDACTED);
    let scrubbed = Error::new(err.kind().clone(), message);
    match err.param() {
        Some(p) => scrubbed.with_param(p.to_owned()),
        None => scrubbed,
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
        let deadline = Instant::now() + self.timeout;
        let response = self.send(self.post(body), deadline).await?;
        let body = self.read_body(response, deadline).await?;
        let response = anthropic::parse_messages_response(&body).map_err(|e| self.err(e))?;
        Ok(self.finish_response(response))
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let body = self.wire_body(request, true)?;
        let deadline = Instant::now() + self.timeout;
        let response = self.send(self.post(body), deadline).await?;
        let is_sse = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"));
        if !is_sse {
            // A proxy (or the API, for an error) answered with plain JSON:
            // read it as a whole message and replay it.
            let body = self.read_body(response, deadline).await?;
            let response = anthropic::parse_messages_response(&body).map_err(|e| self.err(e))?;
            let events = response_to_events(&self.finish_response(response));
            return Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))));
        }
        let body = GuardedBody::new(response, self.timeout, &self.ctx.cancel);
        let key = self.config.api_key.clone();
        let instance = self.ctx.instance.clone();
        let events = anthropic::chat_event_stream(body)
            .map(move |item| item.map_err(|e| scrub(e, &key).with_instance(Arc::clone(&instance))));
        Ok(Box::pin(events) as ChatStream)
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
