//! The error body.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

/// An error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse<'a> {
    /// The error.
    #[serde(borrow)]
    pub error: ErrorObject<'a>,
}

/// The error object. Written with all four OpenAI keys (`message`, `type`,
/// `param`, `code`); read leniently (`code` may be a string, an integer or `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject<'a> {
    /// Human-readable message.
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, ...
    #[serde(
        rename = "type",
        borrow,
        default,
        deserialize_with = "lenient::opt_cow"
    )]
    pub kind: Option<Cow<'a, str>>,
    /// The request field at fault.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub param: Option<Cow<'a, str>>,
    /// A machine-readable code.
    #[serde(borrow, default)]
    pub code: Option<ErrorCode<'a>>,
    /// Other fields (OpenRouter's `metadata`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An error `code`: OpenAI sends strings, vLLM and OpenRouter the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorCode<'a> {
    /// e.g. `context_length_exceeded`.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// e.g. `429`.
    Number(i64),
}
