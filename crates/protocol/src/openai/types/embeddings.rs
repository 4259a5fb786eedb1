//! Embeddings request and response types.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::models::list_object;
use crate::lenient;

/// `POST /v1/embeddings` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateEmbeddingRequest<'a> {
    /// What to embed.
    #[serde(borrow)]
    pub input: EmbeddingInput<'a>,
    /// The embedding model.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// `float` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// Output dimensions, for models that can shorten their vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// End-user id.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input` of an embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput<'a> {
    /// One text.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// Several texts.
    Texts(Vec<Cow<'a, str>>),
    /// One pre-tokenized input.
    Tokens(Vec<u32>),
    /// Several pre-tokenized inputs.
    TokenBatches(Vec<Vec<u32>>),
}

/// How vectors are encoded in an embeddings response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncodingFormat {
    /// JSON arrays of numbers.
    #[default]
    Float,
    /// Base64 of little-endian `f32`s.
    Base64,
}

/// `POST /v1/embeddings` response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateEmbeddingResponse<'a> {
    /// `list`.
    #[serde(borrow, default = "list_object")]
    pub object: Cow<'a, str>,
    /// One embedding per input.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub data: Vec<Embedding<'a>>,
    /// The model.
    #[serde(borrow, default)]
    pub model: Cow<'a, str>,
    /// Token counts.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub usage: EmbeddingUsage,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn embedding_object() -> Cow<'static, str> {
    Cow::Borrowed("embedding")
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding<'a> {
    /// `embedding`.
    #[serde(borrow, default = "embedding_object")]
    pub object: Cow<'a, str>,
    /// The vector.
    #[serde(borrow)]
    pub embedding: EmbeddingVector<'a>,
    /// The input it belongs to.
    #[serde(default)]
    pub index: u32,
}

/// A vector as floats or as base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector<'a> {
    /// `encoding_format: float`.
    Float(Cow<'a, [f32]>),
    /// `encoding_format: base64`: little-endian `f32`s.
    Base64(#[serde(borrow)] Cow<'a, str>),
}

/// `usage` of an embeddings response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Input tokens.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub prompt_tokens: u64,
    /// Total tokens.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub total_tokens: u64,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
