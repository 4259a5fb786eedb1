//! What a provider can do, and what its models are.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Features a provider (or one of its models) supports. The router and the
/// conformance suite read these; the `#[provider]` macro sets them from
/// `capabilities(...)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Capabilities {
    /// Streams answers token by token.
    pub streaming: bool,
    /// Calls tools.
    pub tools: bool,
    /// Accepts image input.
    pub vision: bool,
    /// Produces embeddings.
    pub embeddings: bool,
    /// Follows a JSON Schema response format.
    pub json_schema: bool,
    /// Exposes model reasoning.
    pub reasoning: bool,
}

impl Capabilities {
    /// No capabilities.
    pub const NONE: Capabilities = Capabilities {
        streaming: false,
        tools: false,
        vision: false,
        embeddings: false,
        json_schema: false,
        reasoning: false,
    };

    /// Every capability name accepted by `#[provider(capabilities(...))]`.
    pub const NAMES: &'static [&'static str] = &[
        "streaming",
        "tools",
        "vision",
        "embeddings",
        "json_schema",
        "reasoning",
    ];

    /// The names of the capabilities that are on, in [`Self::NAMES`] order.
    pub fn names(&self) -> Vec<&'static str> {
        let flags = [
            self.streaming,
            self.tools,
            self.vision,
            self.embeddings,
            self.json_schema,
            self.reasoning,
        ];
        Self::NAMES
            .iter()
            .zip(flags)
            .filter_map(|(n, on)| on.then_some(*n))
            .collect()
    }
}

/// A model a provider serves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    /// The id to put in a request's `model`.
    pub id: String,
    /// The provider instance serving it.
    #[serde(default)]
    pub provider: String,
    /// A human-friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u32>,
    /// The most output tokens one answer may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// What the model supports.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// USD per million input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_price_per_million: Option<f64>,
    /// USD per million output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_price_per_million: Option<f64>,
    /// Unix time (seconds) the model was created, where the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// Who publishes the model, where the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

impl ModelInfo {
    /// A model with an id and nothing else known.
    pub fn new(id: impl Into<String>) -> Self {
        ModelInfo {
            id: id.into(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_flags() {
        let c = Capabilities {
            streaming: true,
            embeddings: true,
            ..Capabilities::NONE
        };
        assert_eq!(c.names(), vec!["streaming", "embeddings"]);
        assert!(Capabilities::NONE.names().is_empty());
    }
}
