//! Errors at the edge: the caller's wire format and the kind's HTTP status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::{Error, ErrorKind};
use switchboard_protocol::openai;

/// Which API family a route belongs to, so errors use its body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `{"error": {"message", "type", "param", "code"}}`
    OpenAi,
    /// `{"type": "error", "error": {"type", "message"}}`
    Anthropic,
}

/// An [`Error`] on its way to a client, in the client's format.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) error: Error,
    pub(crate) format: Format,
    /// A status other than the kind's (413, 408: transport-level problems).
    status: Option<StatusCode>,
}

impl ApiError {
    pub(crate) fn new(error: Error, format: Format) -> Self {
        ApiError {
            error,
            format,
            status: None,
        }
    }

    pub(crate) fn openai(error: Error) -> Self {
        Self::new(error, Format::OpenAi)
    }

    pub(crate) fn anthropic(error: Error) -> Self {
        Self::new(error, Format::Anthropic)
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

/// The Anthropic error `type` for a kind (docs: "Errors" in the Messages API reference).
pub(crate) fn anthropic_error_type(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Auth => "authentication_error",
        ErrorKind::Permission => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RateLimited { .. } => "rate_limit_error",
        ErrorKind::Unavailable => "overloaded_error",
        ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded | ErrorKind::Unsupported => {
            "invalid_request_error"
        }
        _ => "api_error",
    }
}

/// The Anthropic-style error body for `error`.
pub(crate) fn anthropic_error_body(error: &Error) -> serde_json::Value {
    serde_json::json!({
        "type": "error",
        "error": {
            "type": anthropic_error_type(error.kind()),
            "message": client_message(error),
        }
    })
}

/// The message a client sees: the error's message, with the field it concerns.
pub(crate) fn client_message(error: &Error) -> String {
    match error.param() {
        Some(param) if !error.message().contains(param) => {
            format!("{} (param: {param})", error.message())
        }
        _ => error.message().to_owned(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.error.kind().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        let body = match self.format {
            Format::OpenAi => openai::error_body(&self.error).1,
            Format::Anthropic => serde_json::to_vec(&anthropic_error_body(&self.error))
                .unwrap_or_else(|_| b"{\"type\":\"error\"}".to_vec()),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
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
