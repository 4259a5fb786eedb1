//! Switchboard: every LLM provider behind one API.
//!
//! This facade re-exports the core vocabulary ([`ChatRequest`],
//! [`ChatResponse`], [`Provider`], [`catalog()`], ...) and links the provider
//! crates selected with Cargo features, so their `#[provider]` registrations
//! are in [`catalog()`]:
//!
//! | feature | provider crate |
//! |---|---|
//! | `mock` | `switchboard-mock` |
//! | `openai` | `switchboard-openai` |
//! | `openai-compatible` | `switchboard-openai-compatible` |
//! | `ollama` | `switchboard-ollama` |
//! | `gemini` | `switchboard-gemini` |
//! | `anthropic` | `switchboard-anthropic` |
//! | `azure-openai` | `switchboard-azure-openai` |
//! | `bedrock` | `switchboard-bedrock` |
//! | `cohere` | `switchboard-cohere` |
//! | `vertex` | `switchboard-vertex` |
//!
//! Extension crates, one feature each (`all-extensions` enables all):
//! `functions` (`switchboard-ext-functions`), `guardrails`
//! (`switchboard-ext-guardrails`), `request-log`
//! (`switchboard-ext-request-log`), `usage` (`switchboard-ext-usage`).
//!
//! `all-providers` enables every provider; `linkme` switches the registration
//! backend from `inventory` to `linkme`; `postgres` adds the shared
//! PostgreSQL store (`[state] backend = "postgres"`, `state::PostgresStore`;
//! without it no sqlx is compiled and that backend is refused at config load).
//!
//! **Default features** are `all-providers`, `all-extensions` and `postgres`:
//! what `cargo install switchboard` builds, a binary that reaches every
//! service and can share its state with other gateways.
//! As a library, turn them off and pick what you use:
//!
//! ```toml
//! [dependencies]
//! switchboard = { version = "0.1", default-features = false, features = ["openai"] }
//! ```
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use switchboard::{ChatRequest, Message};
//! let provider = switchboard::build_provider("mock", serde_json::json!({}), "mock").await?;
//! let answer = provider.chat(&ChatRequest::new("mock-1", vec![Message::user("Hello")])).await?;
//! assert_eq!(answer.text(), "You said: Hello");
//! # Ok::<(), switchboard::Error>(())
//! # }).unwrap();
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::sync::Arc;

pub use switchboard_core::*;
/// The runtime: configuration, the live registry and the router.
pub use switchboard_gateway as gateway;
pub use switchboard_gateway::{RouteInfo, Routed, Switchboard};
/// The HTTP gateway: OpenAI/Anthropic-compatible APIs, management API, metrics.
pub use switchboard_server as server;
/// The stores extensions keep durable data in: SQLite, and PostgreSQL with
/// the `postgres` feature (to hand one to [`gateway::SwitchboardBuilder::store`]).
pub use switchboard_state as state;

// A provider crate that nothing references can be dropped by the linker
// together with its `#[provider]` registration (inventory#50, linkme#31), and
// then it silently vanishes from `catalog()`. Naming each enabled crate here
// keeps it linked; `tests/catalog.rs` proves it for every feature.
#[cfg(feature = "anthropic")]
#[cfg_attr(docsrs, doc(cfg(feature = "anthropic")))]
pub use switchboard_anthropic as anthropic;
#[cfg(feature = "azure-openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "azure-openai")))]
pub use switchboard_azure_openai as azure_openai;
#[cfg(feature = "bedrock")]
#[cfg_attr(docsrs, doc(cfg(feature = "bedrock")))]
pub use switchboard_bedrock as bedrock;
#[cfg(feature = "cohere")]
#[cfg_attr(docsrs, doc(cfg(feature = "cohere")))]
pub use switchboard_cohere as cohere;
#[cfg(feature = "gemini")]
#[cfg_attr(docsrs, doc(cfg(feature = "gemini")))]
pub use switchboard_gemini as gemini;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub use switchboard_mock as mock;
#[cfg(feature = "ollama")]
#[cfg_attr(docsrs, doc(cfg(feature = "ollama")))]
pub use switchboard_ollama as ollama;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use switchboard_openai as openai;
#[cfg(feature = "openai-compatible")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai-compatible")))]
pub use switchboard_openai_compatible as openai_compatible;
#[cfg(feature = "vertex")]
#[cfg_attr(docsrs, doc(cfg(feature = "vertex")))]
pub use switchboard_vertex as vertex;
// <new-provider-use-marker>: `cargo xtask new-provider` inserts above.
// Extension crates, named for the same reason (their `#[extension]` registrations).
#[cfg(feature = "cache")]
use switchboard_ext_cache as _;
#[cfg(feature = "functions")]
use switchboard_ext_functions as _;
#[cfg(feature = "guardrails")]
use switchboard_ext_guardrails as _;
#[cfg(feature = "keys")]
use switchboard_ext_keys as _;
#[cfg(feature = "model-override")]
use switchboard_ext_model_override as _;
#[cfg(feature = "request-log")]
use switchboard_ext_request_log as _;
#[cfg(feature = "usage")]
use switchboard_ext_usage as _;
// <new-extension-link-marker>: `cargo xtask new-extension` inserts above.
// <new-extension-use-marker>: `cargo xtask new-extension` inserts above.

/// A provider crate this build of Switchboard knows about, and whether its
/// Cargo feature is on.
pub use switchboard_gateway::config::ProviderFeature;

/// Every provider crate of the workspace with the feature that links it.
/// Used to tell a user which feature adds an unknown provider `kind`.
pub const PROVIDER_FEATURES: &[ProviderFeature] = &[
    ProviderFeature {
        provider: "mock",
        feature: "mock",
        enabled: cfg!(feature = "mock"),
    },
    ProviderFeature {
        provider: "openai",
        feature: "openai",
        enabled: cfg!(feature = "openai"),
    },
    ProviderFeature {
        provider: "openai-compatible",
        feature: "openai-compatible",
        enabled: cfg!(feature = "openai-compatible"),
    },
    ProviderFeature {
        provider: "ollama",
        feature: "ollama",
        enabled: cfg!(feature = "ollama"),
    },
    ProviderFeature {
        provider: "gemini",
        feature: "gemini",
        enabled: cfg!(feature = "gemini"),
    },
    ProviderFeature {
        provider: "anthropic",
        feature: "anthropic",
        enabled: cfg!(feature = "anthropic"),
    },
    ProviderFeature {
        provider: "azure-openai",
        feature: "azure-openai",
        enabled: cfg!(feature = "azure-openai"),
    },
    ProviderFeature {
        provider: "bedrock",
        feature: "bedrock",
        enabled: cfg!(feature = "bedrock"),
    },
    ProviderFeature {
        provider: "cohere",
        feature: "cohere",
        enabled: cfg!(feature = "cohere"),
    },
    ProviderFeature {
        provider: "vertex",
        feature: "vertex",
        enabled: cfg!(feature = "vertex"),
    },
    // <new-provider-marker>: `cargo xtask new-provider` inserts entries above.
];

/// Every extension crate of the workspace with the feature that links it
/// (`provider` holds the extension's name). Used to tell a user which
/// feature adds an unknown `[extensions.<name>]`.
pub const EXTENSION_FEATURES: &[ProviderFeature] = &[
    ProviderFeature {
        provider: "functions",
        feature: "functions",
        enabled: cfg!(feature = "functions"),
    },
    ProviderFeature {
        provider: "guardrails",
        feature: "guardrails",
        enabled: cfg!(feature = "guardrails"),
    },
    ProviderFeature {
        provider: "request-log",
        feature: "request-log",
        enabled: cfg!(feature = "request-log"),
    },
    ProviderFeature {
        provider: "usage",
        feature: "usage",
        enabled: cfg!(feature = "usage"),
    },
    ProviderFeature {
        provider: "model-override",
        feature: "model-override",
        enabled: cfg!(feature = "model-override"),
    },
    ProviderFeature {
        provider: "keys",
        feature: "keys",
        enabled: cfg!(feature = "keys"),
    },
    ProviderFeature {
        provider: "cache",
        feature: "cache",
        enabled: cfg!(feature = "cache"),
    },
    // <new-extension-marker>: `cargo xtask new-extension` inserts entries above.
];

/// The Cargo feature that would link provider `kind`, if the workspace has one.
pub fn feature_for_provider(kind: &str) -> Option<&'static ProviderFeature> {
    PROVIDER_FEATURES.iter().find(|f| f.provider == kind)
}

/// Builds one provider instance of `kind` from its JSON config, with a fresh
/// HTTP client. Unknown kinds list the linked providers and the feature that
/// would add the missing one.
pub async fn build_provider(
    kind: &str,
    config: serde_json::Value,
    instance: &str,
) -> Result<Arc<dyn Provider>, Error> {
    let catalog = catalog()?;
    let Some(descriptor) = catalog.get(kind) else {
        return Err(unknown_kind(catalog, kind));
    };
    descriptor
        .build(config, ProviderContext::standalone(instance))
        .await
}

/// The error for a provider `kind` that is not linked into this binary.
pub fn unknown_kind(catalog: &Catalog, kind: &str) -> Error {
    let linked = catalog.names().join(", ");
    let hint = match feature_for_provider(kind) {
        Some(f) if f.enabled => format!(
            "; its feature `{}` is on but it did not register, which means the linker dropped it",
            f.feature
        ),
        Some(f) => format!(
            "; it is in the `{}` Cargo feature of `switchboard` (build with `--features {}`)",
            f.feature, f.feature
        ),
        None => String::new(),
    };
    Error::config(format!(
        "unknown provider kind `{kind}`; this build links: {linked}{hint}"
    ))
}
