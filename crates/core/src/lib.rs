//! The vocabulary every Switchboard crate speaks.
//!
//! - Requests and answers: [`ChatRequest`], [`Message`], [`ContentPart`],
//!   [`ChatResponse`], [`Usage`], [`FinishReason`], embeddings and [`ModelInfo`].
//! - Streaming: [`ChatEvent`] and [`ChatStream`].
//! - Errors: [`Error`] with an [`ErrorKind`], and [`Secret`] for credentials.
//! - Plugins: the [`Provider`] and [`ProviderInit`] traits, the
//!   [`#[provider]`](provider) attribute that registers an implementation, and
//!   [`catalog()`], which lists every provider linked into the binary.
//!
//! ```
//! use switchboard_core::{ChatRequest, Message};
//! let req = ChatRequest::new("mock-1", vec![Message::user("Hello")]).temperature(0.2);
//! assert!(req.validate().is_ok());
//! ```
#![deny(missing_docs)]

mod catalog;
mod chat;
mod embeddings;
mod error;
mod event;
mod model;
mod provider;
mod secret;
pub mod upstream;

pub use async_trait::async_trait;
pub use catalog::{
    BuildFuture, Catalog, ProviderDescriptor, REGISTRATION_BACKEND, catalog, registered,
};
pub use chat::{
    ChatRequest, ChatResponse, ContentPart, FinishReason, ImageSource, Message, Reasoning,
    ReasoningEffort, ResponseFormat, Role, Tool, ToolCall, ToolChoice, Usage,
};
pub use embeddings::{EmbeddingsRequest, EmbeddingsResponse};
pub use error::{Error, ErrorKind};
pub use event::{ChatEvent, ChatStream, ResponseAccumulator, collect_stream, response_to_events};
pub use model::{Capabilities, ModelInfo};
pub use provider::{HealthReport, Provider, ProviderContext, ProviderInit, default_http_client};
pub use secret::Secret;
/// Registers a type as a provider; see the `switchboard-macros` crate docs.
pub use switchboard_macros::provider;

pub use upstream::{MAX_UPSTREAM_BODY, wire_time};

/// Re-exports used by the code `#[provider]` generates. Not a public API.
#[doc(hidden)]
pub mod __private {
    use std::sync::Arc;

    use serde_json::Value;

    use crate::{BuildFuture, Error, Provider, ProviderContext, ProviderInit};

    pub use crate::catalog::backend::*;
    pub use inventory;
    #[cfg(feature = "linkme")]
    pub use linkme;

    /// Compile-time check that the provider type implements [`Provider`].
    pub const fn assert_provider<P: Provider>() {}

    /// Compile-time check that `#[provider(config = C)]` names `P::Config`.
    pub const fn assert_init<P: ProviderInit<Config = C>, C>() {}

    /// Compile-time check that the config type can be deserialized and described.
    pub const fn assert_config<C: serde::de::DeserializeOwned + schemars::JsonSchema>() {}

    /// The JSON Schema of a provider's config type.
    pub fn config_schema<P: ProviderInit>() -> Value {
        schemars::schema_for!(P::Config).to_value()
    }

    fn deserialize<P: ProviderInit>(config: Value) -> Result<P::Config, Error> {
        serde_path_to_error::deserialize(config).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let err = Error::config(inner.to_string());
            if path == "." {
                err
            } else {
                err.with_param(path)
            }
        })
    }

    /// Deserializes and validates a config.
    pub fn validate_config<P: ProviderInit>(config: &Value) -> Result<(), Error> {
        let cfg = deserialize::<P>(config.clone())?;
        P::validate(&cfg)
    }

    /// Deserializes, validates and builds.
    pub fn build<P: ProviderInit>(config: Value, ctx: ProviderContext) -> BuildFuture {
        Box::pin(async move {
            let cfg = deserialize::<P>(config)?;
            P::validate(&cfg)?;
            let provider = P::init(cfg, ctx).await?;
            Ok(Arc::new(provider) as Arc<dyn Provider>)
        })
    }
}
