//! Errors at the edge: the caller's wire format and the kind's HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::Error;
use switchboard_protocol::openai;

/// Which API family a route belongs to, so errors use its body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `{"error": {"message", "type", "param", "code"}}`
    OpenAi,
    /// `{"type": "error", "error": {"type", "message"}}`
    Anthropic,
    /// `{"error": {"code", "message", "status"}}` (Google's)
    Gemini,
}

impl Format {
    /// The format of the API at `path`: Anthropic's under `/v1/messages`,
    /// else OpenAI's.
    pub(crate) fn of_path(path: &str) -> Format {
        if path.starts_with("/v1/messages") {
            Format::Anthropic
        } else if path.starts_with("/v1beta/") || path.starts_with("/v1/models/") {
            Format::Gemini
        } else {
            Format::OpenAi
        }
    }
}

/// An [`Error`] on its way to a client, in the client's format.
#[derive(Debug)]
pub(crate) struct ApiError {
    /// What went wrong.
    error: Error,
    /// The body shape the client expects.
    format: Format,
    /// A status other than the kind's (413, 408: transport-level problems).
    status: Option<StatusCode>,
    /// Headers extensions set before the request was refused
    /// (`x-ratelimit-*`, say); boxed so errors stay small.
    headers: Option<Box<[(String, String)]>>,
}

impl ApiError {
    /// `error`, to be answered in `format` with its kind's status.
    pub(crate) fn new(error: Error, format: Format) -> Self {
        ApiError {
            error,
            format,
            status: None,
            headers: None,
        }
    }

    /// Also sends `headers` (names and values that are not valid are skipped).
    pub(crate) fn with_headers(mut self, headers: Vec<(String, String)>) -> Self {
        self.headers = (!headers.is_empty()).then(|| headers.into_boxed_slice());
        self
    }

    /// `error`, to be answered in the OpenAI format.
    pub(crate) fn openai(error: Error) -> Self {
        Self::new(error, Format::OpenAi)
    }

    /// Answers with `status` instead of the kind's.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match extension_error_body(&self.error, self.format) {
            Some(b) => b,
            None => match self.format {
                Format::OpenAi => openai::error_body(&self.error),
                // Anthropic's own mapping: `overloaded_error` is 529, which its SDKs retry.
                Format::Anthropic => switchboard_protocol::anthropic::error_body(&self.error),
                Format::Gemini => switchboard_protocol::gemini::inbound::error_body(&self.error),
            },
        };
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers.iter().flat_map(|h| h.iter()) {
            if let (Ok(n), Ok(v)) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(n, v);
            }
        }
        if let Some(retry_after) = openai::retry_after_header(&self.error)
            && let Ok(v) = HeaderValue::from_str(&retry_after)
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        // Lets the request-logging middleware count errors by kind.
        response
            .extensions_mut()
            .insert(ErrorCode(self.error.kind().code()));
        response
    }
}

/// The error kind code of an error response, for logs and metrics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub(crate) &'static str);

/// The bodies of the kinds extensions raise (`content_filter`,
/// `insufficient_quota`, `internal`), in each format; `None` for the rest.
fn extension_error_body(error: &Error, format: Format) -> Option<(u16, Vec<u8>)> {
    use switchboard_core::ErrorKind;
    let (status, openai_type, code, anthropic_type) = match error.kind() {
        ErrorKind::ContentFilter => (
            400,
            "invalid_request_error",
            "content_filter",
            "invalid_request_error",
        ),
        ErrorKind::QuotaExceeded => (
            429,
            "insufficient_quota",
            "insufficient_quota",
            "rate_limit_error",
        ),
        ErrorKind::Internal => (500, "api_error", "internal", "api_error"),
        _ => return None,
    };
    if format == Format::Gemini {
        // Google's format has its own mapping of every kind.
        return None;
    }
    let body = match format {
        Format::OpenAi => serde_json::json!({"error": {
            "message": error.message(),
            "type": openai_type,
            "param": error.param(),
            "code": code,
        }}),
        Format::Anthropic | Format::Gemini => serde_json::json!({
            "type": "error",
            "error": {"type": anthropic_type, "message": error.message()},
        }),
    };
    Some((status, body.to_string().into_bytes()))
}
