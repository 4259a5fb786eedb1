//! The [`Provider`] trait every backend implements, and what it is built from.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, ModelInfo,
    response_to_events,
};

/// A connection to one LLM service.
///
/// Object safe: the runtime holds providers as `Arc<dyn Provider>`. Only
/// [`chat`](Provider::chat) is required; every other method has a default.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Switchboard provider",
    label = "`{Self}` does not implement `Provider`",
    note = "add `#[async_trait] impl Provider for {Self} {{ async fn chat(..) }}` and `impl ProviderInit for {Self}`"
)]
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Answers a chat request in one piece.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error>;

    /// Answers a chat request as a stream of events. The default calls
    /// [`chat`](Provider::chat) and replays the answer, so every provider streams.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let response = self.chat(request).await?;
        let events = response_to_events(&response);
        Ok(Box::pin(futures::stream::iter(events.into_iter().map(Ok))))
    }

    /// The models this provider serves. The default is an empty list
    /// (providers override it with their known or listed models).
    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        Ok(Vec::new())
    }

    /// Embeds texts. The default reports [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let _ = request;
        Err(Error::unsupported(
            "this provider does not support embeddings",
        ))
    }

    /// Checks that the upstream is reachable. The default times a
    /// [`models`](Provider::models) call, which is free on every API we know.
    async fn health(&self) -> Result<HealthReport, Error> {
        let start = Instant::now();
        let models = self.models().await?;
        Ok(HealthReport {
            latency: start.elapsed(),
            detail: Some(format!("{} models", models.len())),
        })
    }

    /// Releases resources before the provider is dropped (on reload or shutdown).
    async fn shutdown(&self) {}
}

/// The outcome of a successful [`Provider::health`] check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// How long the check took.
    #[serde(serialize_with = "ser_ms")]
    pub latency: Duration,
    /// Anything worth showing an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// How a provider is built from its configuration.
///
/// `#[provider]` calls [`validate`](ProviderInit::validate) then
/// [`init`](ProviderInit::init) after deserializing the config.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Switchboard provider: it does not implement `ProviderInit`",
    label = "`{Self}` does not implement `ProviderInit`",
    note = "add `#[async_trait] impl ProviderInit for {Self} {{ type Config = ..; async fn init(..) }}`"
)]
#[async_trait]
pub trait ProviderInit: Provider + Sized {
    /// The provider's configuration, deserialized from `[providers.<instance>]`.
    type Config: serde::de::DeserializeOwned + schemars::JsonSchema + Send + 'static;

    /// Checks the configuration beyond what its types enforce. The default accepts it.
    fn validate(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// Builds the provider.
    async fn init(config: Self::Config, ctx: ProviderContext) -> Result<Self, Error>;
}

/// What the runtime hands a provider when it builds it.
#[derive(Debug, Clone)]
pub struct ProviderContext {
    /// The process-wide HTTP client: one connection pool shared by every provider.
    pub http: reqwest::Client,
    /// The process-wide upstream client with socket-exact wire time (see
    /// [`crate::http`]); on the same `reqwest` client for proxied URLs.
    pub upstream: crate::http::HttpClient,
    /// The instance name (`[providers.<instance>]`), for error context.
    pub instance: Arc<str>,
    /// The default timeout for one upstream request.
    pub request_timeout: Duration,
    /// Cancelled when the instance is removed or the process shuts down.
    pub cancel: CancellationToken,
}

impl ProviderContext {
    /// The default per-request timeout (10 minutes: long generations are normal).
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

    /// A context for `instance` sharing `http`, with a new
    /// [`upstream`](Self::upstream) client over it (clone the context to
    /// share both).
    pub fn new(instance: impl Into<Arc<str>>, http: reqwest::Client) -> Self {
        Self::with_upstream(instance, crate::http::HttpClient::new(http.clone()), http)
    }

    /// A context for `instance` with both clients given (e.g.
    /// [`HttpClient::via_reqwest`](crate::http::HttpClient::via_reqwest) over
    /// a caller's own `http`).
    pub fn with_upstream(
        instance: impl Into<Arc<str>>,
        upstream: crate::http::HttpClient,
        http: reqwest::Client,
    ) -> Self {
        ProviderContext {
            upstream,
            http,
            instance: instance.into(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }

    /// Runs `fut` until `deadline`, or until this instance is shut down:
    /// a late answer is a [`Timeout`](crate::ErrorKind::Timeout) naming
    /// `upstream` and `budget`, a shutdown is
    /// [`Cancelled`](crate::ErrorKind::Cancelled). The one place providers
    /// bound an upstream call.
    pub async fn bounded<T>(
        &self,
        deadline: tokio::time::Instant,
        upstream: &str,
        budget: Duration,
        fut: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        tokio::select! {
            r = tokio::time::timeout_at(deadline, fut) => match r {
                Ok(r) => r,
                Err(_) => Err(Error::timeout(format!(
                    "{upstream} did not answer within {}s",
                    budget.as_secs_f64()
                ))),
            },
            () = self.cancel.cancelled() => Err(Error::cancelled("the provider was shut down")),
        }
    }

    /// Sends `request` within `deadline` (as [`bounded`](Self::bounded)) on
    /// the [`upstream`](Self::upstream) client, which records its
    /// [wire time](crate::wire_time) from the socket. A non-2xx answer
    /// becomes an error: its body is read (see [`read_upstream_body`]) and
    /// handed to `classify` with the status and `Retry-After`, which knows
    /// the provider's error format. An unreadable error body is classified
    /// as empty.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: tokio::time::Instant,
        upstream: &str,
        budget: Duration,
        classify: impl FnOnce(u16, Option<&str>, &[u8]) -> Error,
    ) -> Result<crate::http::UpstreamResponse, Error> {
        let request = crate::http::from_reqwest(request.build()?)?;
        let response = self
            .bounded(deadline, upstream, budget, self.upstream.send(request))
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = self
            .bounded(deadline, upstream, budget, read_upstream_body(response))
            .await
            .unwrap_or_default();
        Err(classify(status.as_u16(), retry_after.as_deref(), &body))
    }

    /// A context for `instance` with a fresh HTTP client (tests, one-off tools).
    pub fn standalone(instance: impl Into<Arc<str>>) -> Self {
        Self::new(instance, default_http_client())
    }
}

/// The largest upstream answer [`read_upstream_body`] reads whole: 64 MiB.
pub const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// Reads a whole answer body, failing with a `protocol` error past
/// [`MAX_UPSTREAM_BODY`] bytes (an upstream cannot make the gateway buffer
/// without bound), and records the read as [wire time](crate::wire_time).
pub async fn read_upstream_body(response: crate::http::UpstreamResponse) -> Result<Vec<u8>, Error> {
    response.bytes(MAX_UPSTREAM_BODY).await.map(Vec::from)
}

/// The HTTP client Switchboard uses unless told otherwise: connection reuse,
/// TCP keep-alive, a connect timeout, and no overall timeout (streams are long;
/// per-request timeouts are set by providers).
pub fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building only fails if the TLS backend cannot initialize, which is
        // a broken installation, not a runtime condition we can recover from.
        .unwrap_or_else(|_| reqwest::Client::new())
}
