//! Shared state, the request-context middleware, body reading and client keys.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::FutureExt;
use http_body_util::BodyExt;
use switchboard_core::Error;
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::ClientKey;

use crate::error::{ApiError, ErrorCode, Format};
use crate::metrics::Metrics;

/// Everything a handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) sb: Arc<Switchboard>,
    pub(crate) metrics: Metrics,
    pub(crate) ready: AtomicBool,
    request_ids: AtomicU64,
    id_prefix: u32,
}

pub(crate) type Shared = Arc<AppState>;

impl AppState {
    pub(crate) fn new(sb: Arc<Switchboard>) -> Self {
        AppState {
            sb,
            metrics: Metrics::new(),
            ready: AtomicBool::new(true),
            request_ids: AtomicU64::new(1),
            id_prefix: fastrand::u32(..),
        }
    }

    fn next_request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("req_{:08x}{n:012x}", self.id_prefix)
    }

    /// Reads a request body within the configured size and time limits.
    pub(crate) async fn read_body(&self, body: Body, format: Format) -> Result<Bytes, ApiError> {
        let config = self.sb.config();
        let limit = config.server.body_limit_bytes;
        let timeout = Duration::from_millis(config.server.client_timeout_ms);
        let limited = http_body_util::Limited::new(body, limit);
        match tokio::time::timeout(timeout, limited.collect()).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::new(
                Error::invalid_request(format!(
                    "request body is larger than the limit of {limit} bytes"
                )),
                format,
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)),
            Ok(Err(e)) => Err(ApiError::new(
                Error::invalid_request(format!("could not read the request body: {e}")),
                format,
            )),
            Err(_) => Err(ApiError::new(
                Error::timeout(format!(
                    "the request body did not arrive within {} ms",
                    timeout.as_millis()
                )),
                format,
            )
            .with_status(StatusCode::REQUEST_TIMEOUT)),
        }
    }

    /// Checks the client's key, when keys are configured, and returns the
    /// models that key may use (`None`: all).
    pub(crate) fn authorize(
        &self,
        headers: &HeaderMap,
        format: Format,
    ) -> Result<Option<Vec<String>>, ApiError> {
        let config = self.sb.config();
        let keys = &config.server.api_keys;
        if keys.is_empty() {
            return Ok(None);
        }
        let presented = client_key(headers, format);
        let Some(presented) = presented else {
            return Err(ApiError::new(
                Error::auth(match format {
                    Format::OpenAi => "missing API key: send `Authorization: Bearer <key>`",
                    Format::Anthropic => "missing API key: send `x-api-key: <key>`",
                }),
                format,
            ));
        };
        // Compare against every key so timing does not reveal which one matched.
        let mut matched: Option<&ClientKey> = None;
        for key in keys {
            if key.key.constant_time_eq(presented) && matched.is_none() {
                matched = Some(key);
            }
        }
        match matched {
            Some(key) if key.models.is_empty() => Ok(None),
            Some(key) => Ok(Some(key.models.clone())),
            None => Err(ApiError::new(Error::auth("invalid API key"), format)),
        }
    }
}

/// Rejects a model the client's key may not use.
pub(crate) fn check_model(
    allowed: Option<&[String]>,
    model: &str,
    format: Format,
) -> Result<(), ApiError> {
    match allowed {
        Some(models) if !models.iter().any(|m| m == model) => Err(ApiError::new(
            Error::permission(format!(
                "this API key may not use model `{model}`; allowed: {}",
                models.join(", ")
            ))
            .with_param("model"),
            format,
        )),
        _ => Ok(()),
    }
}

fn client_key(headers: &HeaderMap, format: Format) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let x_api_key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    match format {
        Format::OpenAi => bearer.or(x_api_key),
        Format::Anthropic => x_api_key.or(bearer),
    }
}

/// When a request began to arrive: its first byte on the socket (HTTP/1
/// connections accepted by [`Server`](crate::Server), which wraps them in a
/// [`TimedIo`](switchboard_core::wire_time::TimedIo)), else when the handler
/// started. The overhead metric counts from here, so it includes hyper's
/// parsing and axum's routing as the harness's "added latency" does.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    /// The instant.
    pub(crate) at: Instant,
    /// The connection's timer, which can end the measure when the answer is
    /// written (HTTP/1 via [`Server`](crate::Server) only).
    pub(crate) timer: Option<Arc<OverheadTimer>>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Arrival {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .remove::<Arrival>()
            .unwrap_or_else(|| Arrival {
                at: Instant::now(),
                timer: None,
            }))
    }
}

/// One HTTP/1 connection's deferred overhead measure: a handler leaves its
/// answer's arrival and upstream time here, and the connection's next write
/// (the answer, head and body in one `writev`) ends the measure. So the
/// metric includes the response's serialization and write, as the client
/// sees them. Atomics only: the handler and the write run on the connection's
/// own task, one request at a time.
pub(crate) struct OverheadTimer {
    state: Shared,
    /// The pending measure's arrival stamp; 0 when nothing is pending.
    arrival: AtomicU64,
    upstream_ns: AtomicU64,
    api: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for OverheadTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverheadTimer").finish_non_exhaustive()
    }
}

impl OverheadTimer {
    pub(crate) fn new(state: Shared) -> Self {
        OverheadTimer {
            state,
            arrival: AtomicU64::new(0),
            upstream_ns: AtomicU64::new(0),
            api: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Leaves a measure for the next write; `false` when `api` is not one
    /// the timer knows (the caller records it at once).
    pub(crate) fn defer(&self, api: &'static str, arrival: Instant, upstream: Duration) -> bool {
        let Some(index) = crate::metrics::API_LABELS.iter().position(|a| *a == api) else {
            return false;
        };
        self.api.store(index, Ordering::Relaxed);
        self.upstream_ns.store(
            u64::try_from(upstream.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.arrival.store(
            switchboard_core::wire_time::stamp(arrival).max(1),
            Ordering::Release,
        );
        true
    }
}

impl switchboard_core::wire_time::WriteListener for OverheadTimer {
    fn wrote(&self, at: Instant) {
        if self.arrival.load(Ordering::Relaxed) == 0 {
            return;
        }
        let arrival = self.arrival.swap(0, Ordering::Acquire);
        if arrival == 0 {
            return;
        }
        let api = crate::metrics::API_LABELS[self.api.load(Ordering::Relaxed)];
        let upstream = Duration::from_nanos(self.upstream_ns.load(Ordering::Relaxed));
        let total = at.saturating_duration_since(switchboard_core::wire_time::instant(arrival));
        self.state
            .metrics
            .overhead(api, total.saturating_sub(upstream));
    }
}

/// Request id (propagated from `x-request-id` or generated), a tracing
/// line per request, in-flight gauge, and panics turned into a 500 with the
/// request id instead of a dropped connection.
pub(crate) async fn request_context(
    State(state): State<Shared>,
    req: Request,
    next: Next,
) -> Response {
    let id: Arc<str> = match req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
    {
        Some(v) => Arc::from(v),
        None => Arc::from(state.next_request_id()),
    };
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    state.metrics.in_flight().inc();
    let result = AssertUnwindSafe(next.run(req)).catch_unwind().await;
    state.metrics.in_flight().dec();
    let mut response = match result {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(request_id = %id, %method, %path, panic = %what, "handler panicked");
            let body = serde_json::json!({"error": {
                "message": format!("internal error; request id {id}"),
                "type": "server_error", "param": null, "code": "internal_error"
            }});
            let mut r = (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response();
            r.extensions_mut().insert(ErrorCode("internal"));
            r
        }
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = response.status().as_u16();
    let error = response.extensions().get::<ErrorCode>().map(|c| c.0);
    tracing::info!(
        request_id = %id,
        %method,
        %path,
        status,
        error,
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
