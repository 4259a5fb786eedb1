//! Reading request bodies within the configured size and time limits.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use bytes::Bytes;
use http_body_util::BodyExt;
use switchboard_core::Error;
use switchboard_gateway::Switchboard;

use crate::error::{ApiError, Format};

/// Reads a request body within `server.body_limit_bytes` (else 413) and
/// `server.client_timeout_ms` (else 408); errors are in `format`.
pub(crate) async fn read_body(
    sb: &Switchboard,
    body: Body,
    format: Format,
) -> Result<Bytes, ApiError> {
    let config = sb.config();
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
