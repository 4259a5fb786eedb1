//! [`HttpClient`]: the upstream HTTP client providers share, with exact
//! [wire time](super::wire_time).
//!
//! Direct connections go through hyper's pooled client (`hyper-util`'s
//! `legacy::Client` with rustls) on sockets wrapped in
//! [`TimedIo`]: the wire time it records is the time from the request's first
//! byte written to the answer's last byte read, as the socket saw it, so the
//! gateway's overhead metric counts the client's own work and its task
//! hand-offs as overhead, which they are. It is also lighter than `reqwest`
//! for the hot path: no redirect or retry layers, no second URL parse
//! (measured: `cargo xtask bench-load`, README "Performance").
//!
//! Requests to a URL that the environment's proxy settings (`HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`) send through a proxy, and every
//! request of a client built on a caller's own `reqwest::Client`
//! ([`HttpClient::via_reqwest`]), go through `reqwest`, which implements
//! proxies fully; their wire time is the awaited time, as before.
//!
//! No redirect is followed with credentials: hyper's client never follows
//! one, [`default_http_client`](crate::default_http_client) is built not to,
//! and an answer through `reqwest` that comes from another URL than the
//! request's (a caller's client that follows redirects) is an error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use http::header::{HeaderValue, USER_AGENT};
use http::{HeaderMap, Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use super::pools::Pools;
use super::wire_time::{self, IoClock, TimedIo};
use crate::Error;

type Https = hyper_rustls::HttpsConnector<TimedConnector>;

/// The process-wide upstream HTTP client: one connection pool, cheap to
/// clone. See the [module docs](self) for how it picks a transport.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: everything through `reqwest`.
    direct: Option<Pools<Https>>,
    /// `Some` when the environment configures a proxy.
    proxies: Option<Matcher>,
    reqwest: reqwest::Client,
    user_agent: HeaderValue,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("direct", &self.inner.direct.is_some())
            .field("proxies", &self.inner.proxies.is_some())
            .finish_non_exhaustive()
    }
}

const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

impl HttpClient {
    /// Direct connections on hyper, proxied ones (per the environment) on
    /// `reqwest`: connect timeout 10 s, TCP keep-alive 60 s, idle
    /// connections kept 90 s, HTTP/2 where TLS negotiates it.
    pub fn new(reqwest: reqwest::Client) -> Self {
        let configured = PROXY_VARS
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        Self::build(reqwest, configured.then(Matcher::from_env))
    }

    /// Every request through `reqwest` (a caller's own client, with its own
    /// proxy, TLS or DNS settings).
    ///
    /// **The client must not follow redirects**: build it with
    /// `.redirect(reqwest::redirect::Policy::none())`, as
    /// [`default_http_client`](crate::default_http_client) does. `reqwest`'s
    /// default policy follows up to 10 redirects and drops only
    /// `Authorization` and cookies on a cross-host hop, so credentials in
    /// `x-api-key`, `x-goog-api-key`, `api-key` or configured headers would
    /// reach whatever host a redirect names. A client's policy cannot be
    /// inspected, so every answer is checked instead: one that comes from
    /// another URL than the request's (a followed redirect) fails with a
    /// `config` error saying that the credentials may have been sent there.
    pub fn via_reqwest(reqwest: reqwest::Client) -> Self {
        HttpClient {
            inner: Arc::new(Inner {
                direct: None,
                proxies: None,
                reqwest,
                user_agent: user_agent(),
            }),
        }
    }

    fn build(reqwest: reqwest::Client, proxies: Option<Matcher>) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(60)));
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider());
        let direct = tls.ok().map(|tls| {
            let connector = tls
                .https_or_http()
                .enable_all_versions()
                .wrap_connector(TimedConnector(http));
            Pools::new(move || {
                Client::builder(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .pool_timer(TokioTimer::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build(connector.clone())
            })
        });
        HttpClient {
            inner: Arc::new(Inner {
                direct,
                proxies,
                reqwest,
                user_agent: user_agent(),
            }),
        }
    }

    /// Sends `request` and returns once the answer's headers arrived,
    /// recording the wire time so far. Transport failures are
    /// [`Unavailable`](crate::ErrorKind::Unavailable) (retryable); the
    /// status is the caller's to judge.
    pub async fn send(&self, mut request: Request<Bytes>) -> Result<UpstreamResponse, Error> {
        if !request.headers().contains_key(USER_AGENT) {
            request
                .headers_mut()
                .insert(USER_AGENT, self.inner.user_agent.clone());
        }
        let direct = match (&self.inner.direct, &self.inner.proxies) {
            (Some(direct), None) => Some(direct),
            (Some(direct), Some(m)) if m.intercept(request.uri()).is_none() => Some(direct),
            _ => None,
        };
        let Some(direct) = direct else {
            return self.send_reqwest(request).await;
        };
        let started = Instant::now();
        let response = direct
            .local()
            .request(request.map(Full::new))
            .await
            .map_err(transport_error)?;
        let (parts, body) = response.into_parts();
        let clock = match parts.version {
            // HTTP/2 multiplexes: a connection's clock is not one request's.
            Version::HTTP_2 | Version::HTTP_3 => None,
            _ => parts.extensions.get::<ConnClock>().map(|c| c.0.clone()),
        };
        let meter = Meter::start(clock, wire_time::stamp(started), started);
        Ok(UpstreamResponse {
            status: parts.status,
            headers: parts.headers,
            body: Body::Direct(body, meter),
        })
    }

    async fn send_reqwest(&self, request: Request<Bytes>) -> Result<UpstreamResponse, Error> {
        let request = reqwest::Request::try_from(request).map_err(Error::from)?;
        let sent_to = request.url().clone();
        let response = wire_time::timed(self.inner.reqwest.execute(request))
            .await
            .map_err(Error::from)?;
        if response.url() != &sent_to {
            return Err(followed_redirect(&sent_to, response.url()));
        }
        Ok(UpstreamResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: Body::Reqwest(response),
        })
    }
}

/// The error for an answer that came from another URL than the request's:
/// the `reqwest::Client` followed a redirect, with the request's headers.
/// Names the hosts only (a path or query could carry a key).
fn followed_redirect(sent_to: &reqwest::Url, answered_by: &reqwest::Url) -> Error {
    let origin = |u: &reqwest::Url| {
        let host = u.host_str().unwrap_or("?");
        match u.port() {
            Some(port) => format!("{}://{host}:{port}", u.scheme()),
            None => format!("{}://{host}", u.scheme()),
        }
    };
    Error::config(format!(
        "the upstream at `{}` redirected the request to `{}` and the HTTP client followed \
         the redirect: the request's credentials may have been sent to `{}`. The \
         `reqwest::Client` given to Switchboard must not follow redirects (build it with \
         `.redirect(reqwest::redirect::Policy::none())`); check that host and rotate the \
         key if it is not yours",
        origin(sent_to),
        origin(answered_by),
        origin(answered_by),
    ))
}

fn user_agent() -> HeaderValue {
    HeaderValue::from_static(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
}

/// A transport error as an [`Error`]: the cause chain without the URL
/// (hyper's errors never carry it; a query string could hold a key).
fn transport_error(err: hyper_util::client::legacy::Error) -> Error {
    let mut message = if err.is_connect() {
        String::from("could not connect to the upstream")
    } else {
        String::from("the upstream connection failed")
    };
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::unavailable(message).with_source(err)
}

fn body_error(err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::protocol(format!("reading the upstream's answer failed: {err}")).with_source(err)
}

/// The connection clock, handed from the connector to each response.
#[derive(Clone)]
struct ConnClock(Arc<IoClock>);

/// hyper's TCP connector with each socket wrapped in a [`TimedIo`].
#[derive(Clone)]
struct TimedConnector(HttpConnector);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for TimedConnector {
    type Response = TokioIo<TimedIo<TcpStream>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let io = connecting.await?;
            Ok(TokioIo::new(TimedIo::new(io.into_inner())))
        })
    }
}

impl Connection for TimedIo<TcpStream> {
    fn connected(&self) -> Connected {
        self.get_ref()
            .connected()
            .extra(ConnClock(self.clock().clone()))
    }
}

/// Records the socket-level wire time of one exchange as its answer is read.
struct Meter {
    clock: Option<Arc<IoClock>>,
    /// The request's first written byte: if the connection's write turn
    /// changes, it is serving another request and this one stops counting.
    write_start: u64,
    /// The last read already recorded.
    mark: u64,
    /// When the caller last asked for a body frame: bytes that were read
    /// while nobody asked (hyper reads a body only as it is consumed) are
    /// the caller's time, not the upstream's.
    asked: u64,
}

impl Meter {
    /// Records the wait for the headers: from the socket when `clock` is
    /// trustworthy for this request (written after `sent`, read after the
    /// write), else the awaited time since `started`.
    fn start(clock: Option<Arc<IoClock>>, sent: u64, started: Instant) -> Self {
        if let Some(clock) = clock {
            let (write_start, last_read) = (clock.write_start(), clock.last_read());
            if write_start >= sent && last_read >= write_start {
                wire_time::record(Duration::from_nanos(last_read - write_start));
                return Meter {
                    clock: Some(clock),
                    write_start,
                    mark: last_read,
                    asked: last_read,
                };
            }
        }
        wire_time::record(started.elapsed());
        Meter {
            clock: None,
            write_start: 0,
            mark: 0,
            asked: 0,
        }
    }

    /// Whether the socket times this exchange (else callers time awaits).
    fn exact(&self) -> bool {
        self.clock.is_some()
    }

    /// Notes that the caller now waits for a body frame.
    fn ask(&mut self) {
        if self.clock.is_some() {
            self.asked = wire_time::stamp(Instant::now());
        }
    }

    /// Records the wait on the socket since [`ask`](Self::ask) (call after
    /// each body frame).
    fn tick(&mut self) {
        let Some(clock) = &self.clock else { return };
        if clock.write_start() != self.write_start {
            self.clock = None;
            return;
        }
        let last_read = clock.last_read();
        let from = self.mark.max(self.asked);
        if last_read > from {
            wire_time::record(Duration::from_nanos(last_read - from));
        }
        self.mark = self.mark.max(last_read);
    }
}

enum Body {
    Direct(Incoming, Meter),
    Reqwest(reqwest::Response),
}

/// An upstream's answer: status and headers, and a body to read whole
/// ([`bytes`](Self::bytes)) or as a stream ([`into_stream`](Self::into_stream)).
/// Dropping it closes the exchange.
pub struct UpstreamResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
}

impl fmt::Debug for UpstreamResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl UpstreamResponse {
    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The whole body, recording its wire time; a body over `limit` bytes is
    /// a [`Protocol`](crate::ErrorKind::Protocol) error (an upstream cannot
    /// make the gateway buffer without bound). A body that arrives in one
    /// piece is returned without a copy.
    pub async fn bytes(self, limit: usize) -> Result<Bytes, Error> {
        let too_large = || {
            Error::protocol(format!(
                "the upstream's answer is larger than {limit} bytes"
            ))
        };
        match self.body {
            Body::Direct(mut body, mut meter) => {
                let exact = meter.exact();
                let read = async {
                    let mut first: Option<Bytes> = None;
                    let mut rest: Option<BytesMut> = None;
                    let mut len = 0usize;
                    loop {
                        meter.ask();
                        let Some(frame) = body.frame().await else {
                            break;
                        };
                        let frame = frame.map_err(body_error)?;
                        meter.tick();
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        len += data.len();
                        if len > limit {
                            return Err(too_large());
                        }
                        match (&mut first, &mut rest) {
                            (None, _) => first = Some(data),
                            (Some(f), None) => {
                                let mut joined = BytesMut::with_capacity(len.max(f.len() * 2));
                                joined.extend_from_slice(f);
                                joined.extend_from_slice(&data);
                                rest = Some(joined);
                            }
                            (Some(_), Some(joined)) => joined.extend_from_slice(&data),
                        }
                    }
                    meter.tick();
                    Ok(match (first, rest) {
                        (_, Some(joined)) => joined.freeze(),
                        (Some(one), None) => one,
                        (None, None) => Bytes::new(),
                    })
                };
                if exact {
                    read.await
                } else {
                    wire_time::timed(read).await
                }
            }
            Body::Reqwest(response) => {
                wire_time::timed(async move {
                    let mut body = BytesMut::new();
                    let mut stream = response.bytes_stream();
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk?;
                        if body.len() + chunk.len() > limit {
                            return Err(too_large());
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(body.freeze())
                })
                .await
            }
        }
    }

    /// The body as a stream of chunks. Inside a
    /// [`measure`](wire_time::measure)d call (a stream's first event), the
    /// socket's read time of each chunk is recorded as wire time.
    pub fn into_stream(self) -> Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>> {
        match self.body {
            Body::Direct(body, meter) => Box::pin(futures::stream::unfold(
                (body, meter),
                |(mut body, mut meter)| async move {
                    loop {
                        meter.ask();
                        let frame = match body.frame().await? {
                            Ok(frame) => frame,
                            Err(e) => return Some((Err(body_error(e)), (body, meter))),
                        };
                        meter.tick();
                        if let Ok(data) = frame.into_data() {
                            return Some((Ok(data), (body, meter)));
                        }
                    }
                },
            )),
            Body::Reqwest(response) => {
                Box::pin(response.bytes_stream().map(|r| r.map_err(Error::from)))
            }
        }
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
