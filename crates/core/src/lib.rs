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
pub mod extension;
mod forward;
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
pub use extension::{Extension, ExtensionInit, RequestAction};
pub use forward::{ForwardRequest, ForwardedFrame, ForwardedReply, ForwardedStream};
pub use model::{Capabilities, ModelInfo};
pub use provider::{HealthReport, Provider, ProviderContext, ProviderInit, default_http_client};
pub use secret::Secret;
/// Registers a type as an extension; see the `switchboard-macros` crate docs.
pub use switchboard_macros::extension;
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
    pub use crate::extension::catalog_backend::*;
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

    /// Compile-time check that the extension type implements [`Extension`](crate::Extension).
    pub const fn assert_extension<E: crate::Extension>() {}

    /// Compile-time check that `#[extension(config = C)]` names `E::Config`.
    pub const fn assert_extension_init<E: crate::ExtensionInit<Config = C>, C>() {}

    /// The JSON Schema of an extension's config type.
    pub fn extension_config_schema<E: crate::ExtensionInit>() -> Value {
        schemars::schema_for!(E::Config).to_value()
    }

    fn deserialize_extension<E: crate::ExtensionInit>(config: Value) -> Result<E::Config, Error> {
        serde_path_to_error::deserialize(config).map_err(|e| {
            let path = e.path().to_string();
            let err = Error::config(e.into_inner().to_string());
            if path == "." {
                err
            } else {
                err.with_param(path)
            }
        })
    }

    /// Deserializes and validates an extension's config.
    pub fn validate_extension_config<E: crate::ExtensionInit>(config: &Value) -> Result<(), Error> {
        let cfg = deserialize_extension::<E>(config.clone())?;
        E::validate(&cfg)
    }

    /// Deserializes, validates and builds an extension.
    pub fn build_extension<E: crate::ExtensionInit>(
        config: Value,
        ctx: crate::extension::ExtensionContext,
    ) -> crate::extension::ExtensionBuildFuture {
        Box::pin(async move {
            let cfg = deserialize_extension::<E>(config)?;
            E::validate(&cfg)?;
            let ext = E::init(cfg, ctx).await?;
            Ok(Arc::new(ext) as Arc<dyn crate::Extension>)
        })
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
