//! The one way a provider talks HTTP to its service.
//!
//! An [`Upstream`] is built once per provider instance
//! ([`Upstream::builder`]) from its [`ProviderContext`], its base URL, the
//! headers that authenticate it, its timeout and an error classifier that
//! knows the service's error format. It then:
//!
//! - sends every request on the process-wide [`HttpClient`] (one connection
//!   pool, socket-exact [wire time](wire_time)), the only place in the
//!   workspace that sends an HTTP request upstream; redirects are never
//!   followed (a redirect would carry the credentials to another host);
//! - bounds each exchange by the timeout and the instance's cancellation,
//!   caps whole bodies at [`MAX_UPSTREAM_BODY`], and guards streamed
//!   answers with an idle timeout that only content resets
//!   ([`ProgressGuard`]: keep-alive comments do not keep a stalled stream
//!   open) and the instance's cancellation ([`GuardedBody`]);
//! - turns a non-2xx answer into an [`Error`] with the classifier, and
//!   finishes every error it returns: the instance's secrets scrubbed by
//!   value ([`Scrubber`], the one place that does), the instance named, the
//!   upstream's request id appended when the service sends one.
//!
//! ```no_run
//! # async fn demo(ctx: switchboard_core::ProviderContext) -> Result<(), switchboard_core::Error> {
//! use switchboard_core::upstream::{ErrorResponse, Upstream};
//! use switchboard_core::{Error, Secret};
//!
//! let upstream = Upstream::builder(&ctx, "https://api.example.com/v1")
//!     .bearer(&Secret::new("sk-..."))
//!     .classify(|r: &ErrorResponse<'_>| Error::upstream(r.status, "the service failed"))
//!     .build()?;
//! let reply = upstream.post_json("chat/completions", &serde_json::json!({"model": "m"})).await?;
//! let answer: serde_json::Value = reply.json("chat completion")?;
//! # let _ = answer; Ok(()) }
//! ```

pub mod client;
mod guard;
mod pools;
mod reply;
mod scrub;
pub mod wire_time;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, Request, Uri};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

pub use self::client::{HttpClient, UpstreamResponse};
pub use self::guard::{GuardedBody, Progress, ProgressGuard, is_progress};
pub use self::reply::{ErrorFinisher, Reply, StreamReply};
pub use self::scrub::Scrubber;
use crate::{Error, ProviderContext, Secret};

/// The largest upstream answer read whole: 64 MiB. An upstream cannot make
/// the gateway buffer without bound.
pub const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// What a classifier sees of a non-2xx answer.
#[derive(Debug)]
pub struct ErrorResponse<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: &'a HeaderMap,
    /// The answer's body (empty when it could not be read in time).
    pub body: &'a [u8],
}

impl ErrorResponse<'_> {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Retry-After` header, as sent.
    pub fn retry_after(&self) -> Option<&str> {
        self.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok())
    }
}

/// Turns a non-2xx answer into an error of the right kind, knowing the
/// service's error format (e.g. the protocol crate's OpenAI or Anthropic
/// error parsers).
pub type Classify = fn(&ErrorResponse<'_>) -> Error;

fn classify_by_status(r: &ErrorResponse<'_>) -> Error {
    Error::upstream(r.status, format!("the upstream answered HTTP {}", r.status))
}

/// Builds an [`Upstream`]; see [`Upstream::builder`]. Errors in the parts
/// (an invalid header, a base URL that is not http(s)) are reported by
/// [`build`](Self::build), as `config` errors naming the parameter.
#[must_use]
pub struct UpstreamBuilder {
    http: HttpClient,
    instance: Arc<str>,
    cancel: CancellationToken,
    base: String,
    headers: HeaderMap,
    secrets: Vec<String>,
    timeout: Duration,
    stream_idle: Option<Duration>,
    classify: Classify,
    request_id_header: Option<HeaderName>,
    endpoints: Vec<String>,
    error: Option<Error>,
}

impl fmt::Debug for UpstreamBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamBuilder")
            .field("instance", &self.instance)
            .field("base", &self.base)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl UpstreamBuilder {
    fn fail(&mut self, err: Error) {
        if self.error.is_none() {
            self.error = Some(err);
        }
    }

    fn insert(&mut self, name: &str, value: &str, param: &'static str, secret: bool) {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(
                Error::config(format!("`{name}` is not a valid HTTP header name"))
                    .with_param(param),
            );
            return;
        };
        let Ok(mut v) = HeaderValue::from_str(value) else {
            self.fail(
                Error::config(format!(
                    "`{param}` contains characters not allowed in an HTTP header"
                ))
                .with_param(param),
            );
            return;
        };
        v.set_sensitive(true);
        if secret {
            self.secrets.push(value.to_owned());
        }
        self.headers.insert(header, v);
    }

    /// `Authorization: Bearer <key>`; the key is scrubbed from errors.
    pub fn bearer(mut self, key: &Secret) -> Self {
        let value = format!("Bearer {}", key.expose());
        self.insert(AUTHORIZATION.as_str(), &value, "api_key", false);
        self.secrets.push(key.expose().to_owned());
        self
    }

    /// A credential sent as the whole value of `name` (`x-api-key`,
    /// `x-goog-api-key`, `api-key`); scrubbed from errors.
    pub fn secret_header(mut self, name: &str, value: &Secret) -> Self {
        self.insert(name, value.expose(), "api_key", true);
        self
    }

    /// A header sent with every request. Its value is treated as sensitive
    /// (never printed, and scrubbed from errors): configured headers often
    /// carry credentials of their own (`Helicone-Auth`, organization ids).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.insert(name, value, "headers", true);
        self
    }

    /// A header sent with every request whose value is not sensitive (an
    /// API version, a beta flag).
    pub fn public_header(mut self, name: &str, value: &str, param: &'static str) -> Self {
        self.insert(name, value, param, false);
        self
    }

    /// The timeout of one exchange (until the whole answer, or until a
    /// stream's headers and then between two reads). The default is the
    /// context's request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest a streamed answer may go without content (text, tool
    /// calls, usage, the finish; see [`is_progress`]) before it ends with a
    /// `timeout` error. The default is the [`timeout`](Self::timeout).
    pub fn stream_idle_timeout(mut self, idle: Duration) -> Self {
        self.stream_idle = Some(idle);
        self
    }

    /// The classifier of non-2xx answers (default: an `upstream` error with
    /// the status).
    pub fn classify(mut self, classify: Classify) -> Self {
        self.classify = classify;
        self
    }

    /// The response header that carries the upstream's request id (e.g.
    /// `x-request-id`): kept on every [`Reply`], and appended to every error
    /// that happens after the answer's headers arrived as
    /// `(upstream request id: ...)`.
    pub fn request_id_header(mut self, name: &'static str) -> Self {
        self.request_id_header = Some(HeaderName::from_static(name));
        self
    }

    /// A path under the base URL called on the hot path: its URL is parsed
    /// once, not per request (parsing with IDNA host processing cost about
    /// 11% of a proxied request's instructions, callgrind).
    pub fn endpoint(mut self, path: &str) -> Self {
        self.endpoints.push(path.trim_start_matches('/').to_owned());
        self
    }

    /// The upstream, or the first error in its parts (naming the instance).
    pub fn build(self) -> Result<Upstream, Error> {
        let instance = self.instance.clone();
        let finish = |e: Error| e.with_instance(instance.clone());
        if let Some(err) = self.error {
            return Err(finish(err));
        }
        if self.timeout.is_zero() {
            return Err(finish(
                Error::config("the request timeout must be greater than 0")
                    .with_param("timeout_ms"),
            ));
        }
        if self.stream_idle.is_some_and(|d| d.is_zero()) {
            return Err(finish(
                Error::config("the stream idle timeout must be greater than 0")
                    .with_param("stream_idle_timeout_ms"),
            ));
        }
        let scheme_ok = self.base.starts_with("http://") || self.base.starts_with("https://");
        if !scheme_ok {
            let scheme = self.base.split(':').next().unwrap_or_default();
            return Err(finish(
                Error::config(format!(
                    "`base_url` must be an http or https URL, not `{scheme}:`"
                ))
                .with_param("base_url"),
            ));
        }
        let mut parsed = Vec::with_capacity(self.endpoints.len());
        for path in self.endpoints {
            let url = join(&self.base, &path);
            let uri = parse_uri(&url).map_err(|e| {
                finish(
                    Error::config(format!("`{url}` is not a valid URL: {e}"))
                        .with_param("base_url"),
                )
            })?;
            parsed.push((path, uri));
        }
        Ok(Upstream {
            inner: Arc::new(Inner {
                http: self.http,
                instance: self.instance,
                cancel: self.cancel,
                base: self.base,
                parsed,
                headers: self.headers,
                scrubber: Scrubber::new(&self.secrets),
                timeout: self.timeout,
                stream_idle: self.stream_idle.unwrap_or(self.timeout),
                classify: self.classify,
                request_id_header: self.request_id_header,
            }),
        })
    }
}

/// One provider instance's way to its service; see the [module docs](self).
/// Cheap to clone.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    http: HttpClient,
    instance: Arc<str>,
    cancel: CancellationToken,
    base: String,
    parsed: Vec<(String, Uri)>,
    headers: HeaderMap,
    scrubber: Scrubber,
    timeout: Duration,
    stream_idle: Duration,
    classify: Classify,
    request_id_header: Option<HeaderName>,
}

impl fmt::Debug for Upstream {
    /// Leaves credentials and header values out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("instance", &self.inner.instance)
            .field("base_url", &self.inner.base)
            .field("headers", &self.inner.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

fn join(base: &str, path: &str) -> String {
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return base.to_owned();
    }
    format!("{base}/{path}")
}

/// `s` percent-encoded for a path segment or a query value: every byte but
/// RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`) as `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A URL as a request URI, checked the way `url` does first (a `base_url`
/// that `url` accepts but `http` would not is rejected with `url`'s reason).
fn parse_uri(url: &str) -> Result<Uri, String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    Uri::try_from(parsed.as_str()).map_err(|e| e.to_string())
}

impl Upstream {
    /// A builder for the instance in `ctx`, reaching the API root
    /// `base_url` (paths are appended to it:
    /// `https://api.openai.com/v1` + `chat/completions`).
    pub fn builder(ctx: &ProviderContext, base_url: &str) -> UpstreamBuilder {
        UpstreamBuilder {
            http: ctx.upstream.clone(),
            instance: ctx.instance.clone(),
            cancel: ctx.cancel.clone(),
            base: base_url.trim_end_matches('/').to_owned(),
            headers: HeaderMap::new(),
            secrets: Vec::new(),
            timeout: ctx.request_timeout,
            stream_idle: None,
            classify: classify_by_status,
            request_id_header: None,
            endpoints: Vec::new(),
            error: None,
        }
    }

    /// The instance name errors carry.
    pub fn instance(&self) -> &Arc<str> {
        &self.inner.instance
    }

    /// The timeout of one exchange.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The longest a streamed answer may go without content (see
    /// [`UpstreamBuilder::stream_idle_timeout`]).
    pub fn stream_idle_timeout(&self) -> Duration {
        self.inner.stream_idle
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The URL of `path` under the base URL (a path may carry a query).
    pub fn url(&self, path: &str) -> String {
        join(&self.inner.base, path)
    }

    /// Finishes an error the provider made: the instance's secrets scrubbed,
    /// the instance named.
    pub fn error(&self, err: Error) -> Error {
        self.finish(err, None)
    }

    fn finish(&self, err: Error, request_id: Option<&str>) -> Error {
        let mut err = self.inner.scrubber.error(err);
        if let Some(id) = request_id {
            let message = format!("{} (upstream request id: {id})", err.message());
            err = err.with_message(message);
        }
        err.with_instance(self.inner.instance.clone())
    }

    fn uri(&self, path: &str) -> Result<Uri, Error> {
        let path = path.trim_start_matches('/');
        if let Some((_, uri)) = self.inner.parsed.iter().find(|(p, _)| p == path) {
            return Ok(uri.clone());
        }
        let url = self.url(path);
        parse_uri(&url).map_err(|e| {
            self.error(
                Error::config(format!("`{url}` is not a valid URL: {e}")).with_param("base_url"),
            )
        })
    }

    /// A request for `path` under the base URL with the instance's headers,
    /// and `content-type: application/json` when `body` is not empty. Add
    /// headers of the call's own before sending it.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<Request<Bytes>, Error> {
        let mut headers = self.inner.headers.clone();
        if !body.is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = self.uri(path)?;
        *request.headers_mut() = headers;
        Ok(request)
    }

    /// Serializes `body` as JSON; a failure is an `invalid_request` error.
    pub fn encode<T: Serialize + ?Sized>(&self, body: &T) -> Result<Bytes, Error> {
        serde_json::to_vec(body).map(Bytes::from).map_err(|e| {
            self.error(Error::invalid_request(format!(
                "the request could not be serialized: {e}"
            )))
        })
    }

    /// `POST <path>` with `body` as JSON; the whole answer.
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<Reply, Error> {
        let request = self.request(Method::POST, path, self.encode(body)?)?;
        self.fetch(request).await
    }

    /// `POST <path>` with an already encoded JSON body; the whole answer.
    pub async fn post(&self, path: &str, json: Bytes) -> Result<Reply, Error> {
        let request = self.request(Method::POST, path, json)?;
        self.fetch(request).await
    }

    /// `POST <path>` with an already encoded JSON body; returns once the
    /// answer's headers arrived (see [`open`](Self::open)).
    pub async fn post_stream(&self, path: &str, json: Bytes) -> Result<StreamReply, Error> {
        let request = self.request(Method::POST, path, json)?;
        self.open(request).await
    }

    /// `GET <path>`; the whole answer.
    pub async fn get(&self, path: &str) -> Result<Reply, Error> {
        let request = self.request(Method::GET, path, Bytes::new())?;
        self.fetch(request).await
    }

    /// Sends `request` and reads the whole answer, all within the timeout.
    /// A non-2xx answer is its classified error.
    pub async fn fetch(&self, request: Request<Bytes>) -> Result<Reply, Error> {
        let exchange = async {
            let (response, request_id) = self.exchange(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes(MAX_UPSTREAM_BODY)
                .await
                .map_err(|e| self.finish(e, request_id.as_deref()))?;
            Ok(Reply {
                status,
                headers,
                body,
                request_id,
                upstream: self.clone(),
            })
        };
        self.bounded(exchange).await
    }

    /// Sends `request` and returns once the answer's headers arrived (within
    /// the timeout); its body is read as a stream guarded by the idle
    /// timeout and the instance's cancellation. A non-2xx answer is its
    /// classified error.
    pub async fn open(&self, request: Request<Bytes>) -> Result<StreamReply, Error> {
        let (response, request_id) = self.bounded(self.exchange(request)).await?;
        Ok(StreamReply {
            status: response.status(),
            headers: response.headers().clone(),
            request_id,
            response,
            upstream: self.clone(),
        })
    }

    /// Sends one request and waits for its headers; a non-2xx answer
    /// becomes its error (the body read and classified). Unbounded: callers
    /// run it under one [`bounded`](Self::bounded) with whatever else they
    /// wait for (a nested guard doubled the request's future, and every
    /// move of it is a copy).
    async fn exchange(
        &self,
        request: Request<Bytes>,
    ) -> Result<(UpstreamResponse, Option<String>), Error> {
        // Records the wire time itself, from the socket.
        let response = self.inner.http.send(request).await?;
        let request_id = self.inner.request_id_header.as_ref().and_then(|name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        let status = response.status();
        if status.is_success() {
            return Ok((response, request_id));
        }
        let headers = response.headers().clone();
        // The error body is small; if it cannot be read, classify by status.
        let body = response.bytes(MAX_UPSTREAM_BODY).await.unwrap_or_default();
        let body = self.inner.scrubber.bytes(&body);
        let err = (self.inner.classify)(&ErrorResponse {
            status: status.as_u16(),
            headers: &headers,
            body: &body,
        });
        Err(self.finish(err, request_id.as_deref()))
    }

    /// Runs `fut` within the timeout, ending early when the instance shuts
    /// down; every error is finished (scrubbed, the instance named).
    pub async fn bounded<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let timeout = self.inner.timeout;
        let result = tokio::select! {
            r = tokio::time::timeout(timeout, fut) => match r {
                Ok(r) => r,
                Err(_) => Err(Error::timeout(format!(
                    "the upstream did not answer within {} ms",
                    timeout.as_millis()
                ))),
            },
            () = self.inner.cancel.cancelled() => {
                Err(Error::cancelled("the provider instance was shut down"))
            }
        };
        result.map_err(|e| match e.instance() {
            Some(_) => e,
            None => self.error(e),
        })
    }
}
