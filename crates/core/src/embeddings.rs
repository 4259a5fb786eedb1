//! Embedding requests and responses.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Error, Usage};

/// A request to embed one or more texts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EmbeddingsRequest {
    /// The embedding model.
    pub model: String,
    /// The texts to embed, in order.
    pub input: Vec<String>,
    /// The number of dimensions wanted, for models that can shorten their output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// An id for the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Provider-specific fields passed through unchanged.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl EmbeddingsRequest {
    /// A request for `model` embedding `input`.
    pub fn new(model: impl Into<String>, input: Vec<String>) -> Self {
        EmbeddingsRequest {
            model: model.into(),
            input,
            ..Default::default()
        }
    }

    /// Checks the request; the error names the field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.model.trim().is_empty() {
            return Err(Error::invalid_param("model", "`model` must not be empty"));
        }
        if self.input.is_empty() {
            return Err(Error::invalid_param("input", "`input` must not be empty"));
        }
        if self.dimensions == Some(0) {
            return Err(Error::invalid_param(
                "dimensions",
                "`dimensions` must be greater than 0",
            ));
        }
        Ok(())
    }
}

/// The vectors for an [`EmbeddingsRequest`], one per input, in input order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EmbeddingsResponse {
    /// The model that produced them.
    pub model: String,
    /// The provider instance that served them.
    #[serde(default)]
    pub provider: String,
    /// One vector per input.
    pub embeddings: Vec<Vec<f32>>,
    /// Token counts (output is 0).
    pub usage: Usage,
}
