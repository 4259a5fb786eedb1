#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod client;
#[cfg(feature = "provider")]
mod config;
#[cfg(feature = "provider")]
mod provider;

pub use crate::client::{Auth, ChatCompletionsClient, ClientOptions, UPSTREAM_REQUEST_ID};
#[cfg(feature = "provider")]
pub use crate::config::{
    DEFAULT_BASE_URL, DEFAULT_REASONING_MODEL_PREFIXES, MaxTokensField, OpenAiConfig,
};
#[cfg(feature = "provider")]
pub use crate::provider::OpenAi;

/// The provider's name: the `kind` of its config entries.
pub const NAME: &str = "openai";
