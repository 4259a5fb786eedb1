//! The error body.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

fn error_type_tag() -> Cow<'static, str> {
    Cow::Borrowed("error")
}

/// An error body: `{"type": "error", "error": {"type", "message"}, "request_id"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse<'a> {
    /// `error`.
    #[serde(rename = "type", borrow, default = "error_type_tag")]
    pub kind: Cow<'a, str>,
    /// The error.
    #[serde(borrow)]
    pub error: ErrorObject<'a>,
    /// The request id (the same as the `request-id` header).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<Cow<'a, str>>,
}

/// The error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject<'a> {
    /// `invalid_request_error`, `authentication_error`, `permission_error`,
    /// `not_found_error`, `request_too_large`, `rate_limit_error`,
    /// `api_error`, `overloaded_error`, ...
    #[serde(rename = "type", borrow, default)]
    pub kind: Cow<'a, str>,
    /// Human-readable message.
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
