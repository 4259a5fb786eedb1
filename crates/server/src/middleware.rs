//! The request-context middleware: request ids, the access log (which
//! requests write a line: `access_log`), the in-flight gauge (when no
//! `Server` connection counts it), the browser checks (`browser::admit`),
//! and panics answered with a 500.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;

use crate::access_log::{self, Policy};
use crate::browser::{self, Admission};
use crate::error::ErrorCode;
use crate::state::SharedState;

/// One request counted in the in-flight gauge until dropped.
struct InFlight<'a>(&'a SharedState);

impl<'a> InFlight<'a> {
    fn enter(state: &'a SharedState) -> Self {
        state.metrics.in_flight().inc();
        InFlight(state)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.metrics.in_flight().dec();
    }
}

/// The request's id, for handlers (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) Arc<str>);

/// Request id (propagated from `x-request-id` or generated), the access-log
/// line when `server.access_log` selects the request, in-flight gauge, and
/// panics turned into a 500 with the request id instead of a dropped
/// connection.
///
/// The configuration is read once here (browser checks and access-log
/// policy) and not held while the handler runs. With the access log on, a
/// request costs a clock read and, sampled, a counter add; only a selected
/// one is formatted and written. Off, it costs nothing more.
pub(crate) async fn request_context(
    State(state): State<SharedState>,
    mut req: Request,
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
    // Only extensions read it: the plain path stays as it was.
    if state.sb.has_extensions() {
        req.extensions_mut().insert(RequestId(id.clone()));
    }
    let method = req.method().clone();
    // A reference to the request line's bytes, not a copy.
    let uri: Uri = req.uri().clone();
    // Served by `Server`, the connection counts the request until its answer
    // is written (see `conn`); else count it here, until the handler is done
    // or dropped (the client went away).
    let in_flight = (!state.counted_by_connection).then(|| InFlight::enter(&state));
    let (admission, policy) = {
        let config = state.sb.config();
        let admission = browser::admit(&state, &config.server, &req);
        (admission, Policy::of(&config.server))
    };
    let started = policy.is_on().then(Instant::now);
    let (result, cors) = match admission {
        Admission::Answer(response) => (Ok(response), None),
        Admission::Pass => (AssertUnwindSafe(next.run(req)).catch_unwind().await, None),
        Admission::Cors(origin) => (
            AssertUnwindSafe(next.run(req)).catch_unwind().await,
            Some(origin),
        ),
    };
    drop(in_flight);
    let mut response = match result {
        Ok(response) => response,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(request_id = %id, %method, path = uri.path(), panic = %what, "handler panicked");
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
    if let Some(origin) = cors {
        browser::add_cors_headers(&mut response, origin);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    if let Some(started) = started {
        let status = response.status().as_u16();
        if state.access_log.should_log(policy, status) {
            let error = response.extensions().get::<ErrorCode>().map(|c| c.0);
            log_request(&id, &method, &uri, status, error, started);
        }
    }
    response
}

/// Writes one access-log line (INFO; WARN for a 5xx), under the
/// [`access_log::TARGET`] target.
fn log_request(
    id: &str,
    method: &axum::http::Method,
    uri: &Uri,
    status: u16,
    error: Option<&str>,
    started: Instant,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let path = uri.path();
    if status >= 500 {
        tracing::warn!(target: access_log::TARGET, request_id = id, %method, path, status, error, elapsed_ms, "request");
    } else {
        tracing::info!(target: access_log::TARGET, request_id = id, %method, path, status, error, elapsed_ms, "request");
    }
}
