//! Integration tests of the guardrails extension, driving its hooks
//! directly as the gateway would.

mod conformance;
mod deny;
mod props;
mod redact;
mod registration;

use switchboard_core::extension::{InboundApi, RequestContext};
use switchboard_ext_guardrails::{Guardrails, GuardrailsConfig};

/// An extension built from a TOML-like JSON config.
pub(crate) fn guardrails(config: serde_json::Value) -> Guardrails {
    let config: GuardrailsConfig = serde_json::from_value(config).expect("config deserializes");
    Guardrails::new(&config).expect("config compiles")
}

/// A fresh request context.
pub(crate) fn ctx() -> RequestContext {
    RequestContext::new("req-1", InboundApi::OpenAi)
}
