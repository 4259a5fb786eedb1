//! The [`Provider`] trait every backend implements, and what it is built from.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::upstream::HttpClient;
use crate::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error,
    ForwardRequest, ForwardedReply, ForwardedStream, ModelInfo, response_to_events,
};

/// A connection to one LLM service.
///
/// Object safe: the runtime holds providers as `Arc<dyn Provider>`. Only
/// [`chat`](Provider::chat) is required; every other method has a default.
///
/// The runtime validates a request once before routing it: `chat`,
/// `chat_stream` and `embed` receive a request that passed
/// [`ChatRequest::validate`] / [`EmbeddingsRequest::validate`], with `model`
/// set to this instance's model, so implementations need not validate it
/// again (on every retry and fallback). The runtime also tags every error a
/// provider call returns, including errors inside a returned stream, with the
/// instance. Code that calls a provider directly, without the router, should
/// call `request.validate()` itself. A provider talks to its service through
/// an [`Upstream`](crate::upstream::Upstream), which bounds its calls and
/// scrubs and names their errors.
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

    /// Whether [`forward`](Provider::forward) (or, for a request with
    /// `stream` set, [`forward_stream`](Provider::forward_stream)) can
    /// answer `request`, which a client sent in `request.api`'s wire
    /// format, by sending the client's bytes with only `model` set to
    /// `model` (this instance's model) and handing back the upstream's
    /// answer unchanged: the same-format fast path. Say yes only when the
    /// full path would send the same request (no field renamed, dropped or
    /// added for this service or model). Called once per target before
    /// routing; cheap and without I/O. The default: no.
    fn forwards(&self, model: &str, request: &ForwardRequest) -> bool {
        let _ = (model, request);
        false
    }

    /// Sends `request.body` (a non-streamed chat request in a wire format
    /// this provider said it [`forwards`](Provider::forwards)) with its
    /// model set to `request.request.model`, and returns the upstream's
    /// answer as it came, checked as [`chat`](Provider::chat) checks it
    /// (an error object sent with a 2xx status is that error). The default
    /// reports [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    async fn forward(&self, request: &ForwardRequest) -> Result<ForwardedReply, Error> {
        let _ = request;
        Err(Error::unsupported(
            "this provider does not forward requests in their own wire format",
        ))
    }

    /// Sends `request.body` (a streamed chat request in a wire format this
    /// provider said it [`forwards`](Provider::forwards)) with its model
    /// set to `request.request.model`, and returns once the answer's
    /// headers arrived: the upstream's events as they come, checked as
    /// [`chat_stream`](Provider::chat_stream) checks them (an error event
    /// or a cut-off answer ends the stream with an error). The default
    /// reports [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported).
    async fn forward_stream(&self, request: &ForwardRequest) -> Result<ForwardedStream, Error> {
        let _ = request;
        Err(Error::unsupported(
            "this provider does not forward requests in their own wire format",
        ))
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
    /// The process-wide upstream HTTP client: one connection pool shared by
    /// every provider, with socket-exact wire time. Providers reach it
    /// through an [`Upstream`](crate::upstream::Upstream) built once per
    /// instance.
    pub upstream: HttpClient,
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

    /// A context for `instance` with an upstream client over `http`, which
    /// carries proxied requests (clone the context to share the pool). `http`
    /// must not follow redirects (see [`HttpClient::via_reqwest`]);
    /// [`default_http_client`] does not.
    pub fn new(instance: impl Into<Arc<str>>, http: reqwest::Client) -> Self {
        Self::with_upstream(instance, HttpClient::new(http))
    }

    /// A context for `instance` on `upstream` (e.g.
    /// [`HttpClient::via_reqwest`] over a caller's own `reqwest::Client`,
    /// which must not follow redirects: see there).
    pub fn with_upstream(instance: impl Into<Arc<str>>, upstream: HttpClient) -> Self {
        ProviderContext {
            upstream,
            instance: instance.into(),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            cancel: CancellationToken::new(),
        }
    }

    /// A context for `instance` with a fresh HTTP client (tests, one-off tools).
    pub fn standalone(instance: impl Into<Arc<str>>) -> Self {
        Self::new(instance, default_http_client())
    }
}

/// The HTTP client Switchboard uses unless told otherwise: connection reuse,
/// TCP keep-alive, a connect timeout, no overall timeout (streams are long;
/// per-request timeouts are set by providers), and no redirects (a redirect
/// would carry the credentials to whatever host it names).
pub fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_keepalive(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building only fails if the TLS backend cannot initialize, which is
        // a broken installation, not a runtime condition we can recover from.
        .unwrap_or_else(|_| reqwest::Client::new())
}
