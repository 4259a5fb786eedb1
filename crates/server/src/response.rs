//! Building responses: JSON bodies, event-stream heads, the headers saying
//! who answered, and the clock answers are dated by.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::Error;
use switchboard_gateway::RouteInfo;

/// Seconds since the Unix epoch (0 if the clock is before it): the
/// `created` stamp of answers.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Adds the `x-switchboard-*` headers saying who answered.
pub(crate) fn route_headers(headers: &mut HeaderMap, route: &RouteInfo) {
    if let Ok(v) = HeaderValue::from_str(&route.instance) {
        headers.insert("x-switchboard-instance", v);
    }
    if let Ok(v) = HeaderValue::from_str(&route.model) {
        headers.insert("x-switchboard-model", v);
    }
    headers.insert("x-switchboard-attempts", HeaderValue::from(route.attempts));
}

/// A response with `body` as `application/json`.
pub(crate) fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

/// A `200 OK` Server-Sent Events response streaming `body`, with the
/// headers saying who answered.
pub(crate) fn event_stream_response(body: Body, route: &RouteInfo) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    route_headers(h, route);
    response
}

/// Serializes an answer's body; a failure is a protocol error.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value)
        .map_err(|e| Error::protocol(format!("cannot encode the response: {e}")))
}
