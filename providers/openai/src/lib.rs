#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod config;
mod provider;

pub use crate::config::{
    DEFAULT_BASE_URL, DEFAULT_REASONING_MODEL_PREFIXES, MaxTokensField, OpenAiConfig,
};
pub use crate::provider::OpenAi;

/// The provider's name: the `kind` of its config entries.
pub const NAME: &str = "openai";

/// The key under which a response's
/// [`extra`](switchboard_core::ChatResponse::extra) keeps the upstream's
/// request id (its `x-request-id` header); errors carry it in their message
/// as `(upstream request id: ...)`.
pub const UPSTREAM_REQUEST_ID: &str = "upstream_request_id";
