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
    direct: Option<Client<Https, Full<Bytes>>>,
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
            Client::builder(TokioExecutor::new())
                .timer(TokioTimer::new())
                .pool_timer(TokioTimer::new())
                .pool_idle_timeout(Duration::from_secs(90))
                .build(connector)
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
        let response = wire_time::timed(self.inner.reqwest.execute(request))
            .await
            .map_err(Error::from)?;
        Ok(UpstreamResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: Body::Reqwest(response),
        })
    }
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
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-connection HTTP/1.1 server that answers each request after
    /// `delay`, with `body` sent in `parts` writes 10 ms apart.
    async fn server(delay: Duration, body: &'static str, parts: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = sock.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                }
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req-1\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                sock.write_all(head.as_bytes()).await.unwrap();
                let step = body.len().div_ceil(parts);
                for chunk in body.as_bytes().chunks(step) {
                    sock.write_all(chunk).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        format!("http://{addr}/v1/chat")
    }

    fn post(url: &str) -> Request<Bytes> {
        Request::post(url)
            .header("content-type", "application/json")
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    }

    #[tokio::test]
    async fn wire_time_is_the_socket_exchange_not_the_callers_work() {
        let url = server(Duration::from_millis(40), r#"{"ok":true}"#, 3).await;
        let client = HttpClient::new(reqwest::Client::new());
        for _ in 0..2 {
            let (body, wire) = wire_time::measure(async {
                let response = client.send(post(&url)).await?;
                assert_eq!(response.status(), StatusCode::OK);
                assert_eq!(response.headers()["x-request-id"], "req-1");
                // The caller's own work between headers and body is not wire.
                tokio::time::sleep(Duration::from_millis(60)).await;
                response.bytes(1024).await
            })
            .await;
            assert_eq!(body.unwrap(), Bytes::from_static(br#"{"ok":true}"#));
            let wire = wire.unwrap();
            // 40 ms before the head; the rest of the body arrived while the
            // caller was busy, so reading it is not waiting on the upstream.
            assert!(wire >= Duration::from_millis(39), "{wire:?}");
            assert!(wire < Duration::from_millis(55), "{wire:?}");
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_fails() {
        let url = server(Duration::ZERO, "0123456789abcdef", 2).await;
        let client = HttpClient::new(reqwest::Client::new());
        let err = client
            .send(post(&url))
            .await
            .unwrap()
            .bytes(10)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Protocol);
        assert!(err.message().contains("larger than 10 bytes"), "{err}");
    }

    #[tokio::test]
    async fn streams_arrive_in_chunks() {
        let url = server(
            Duration::from_millis(30),
            "data: a\n\ndata: b\n\ndata: c\n\n",
            3,
        )
        .await;
        let client = HttpClient::new(reqwest::Client::new());
        let (chunks, wire) = wire_time::measure(async {
            let stream = client.send(post(&url)).await.unwrap().into_stream();
            stream.map(|c| c.unwrap()).collect::<Vec<Bytes>>().await
        })
        .await;
        assert_eq!(chunks.concat(), b"data: a\n\ndata: b\n\ndata: c\n\n");
        assert!(chunks.len() >= 2, "{chunks:?}");
        // A reader that always waits: the head's 30 ms and the two 10 ms gaps.
        let wire = wire.unwrap();
        assert!(wire >= Duration::from_millis(48), "{wire:?}");
        assert!(wire < Duration::from_millis(75), "{wire:?}");
    }

    #[tokio::test]
    async fn connect_failures_are_unavailable_without_the_url() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::new(reqwest::Client::new());
        let err = client
            .send(post(&format!("http://{addr}/v1/chat?key=SECRET")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Unavailable);
        assert!(err.is_retryable());
        assert!(err.message().starts_with("could not connect"), "{err}");
        assert!(!err.message().contains("SECRET"), "{err}");
    }

    /// A proxy that answers every request itself, saying which URL it was
    /// asked for (absolute form: the request came through the proxy).
    #[tokio::test]
    async fn proxied_urls_go_through_reqwest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap();
                let line = String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{line}",
                    line.len()
                );
                sock.write_all(answer.as_bytes()).await.unwrap();
            }
        });
        let reqwest = reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(&proxy).unwrap())
            .build()
            .unwrap();
        let matcher = Matcher::builder().http(proxy).build();
        // Proxied per the environment's settings, and a caller's own client.
        for client in [
            HttpClient::build(reqwest.clone(), Some(matcher)),
            HttpClient::via_reqwest(reqwest),
        ] {
            let body = client
                .send(post("http://upstream.invalid/v1/chat"))
                .await
                .unwrap()
                .bytes(1024)
                .await
                .unwrap();
            assert_eq!(body, "POST http://upstream.invalid/v1/chat HTTP/1.1");
        }
    }
}
