//! Stream chunk types: `chat.completion.chunk` and its deltas.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::response::CompletionUsage;
use crate::lenient;

fn chunk_object() -> Cow<'static, str> {
    Cow::Borrowed("chat.completion.chunk")
}

/// One `data:` payload of a streamed chat completion.
///
/// Every field is optional when reading: OpenRouter's usage chunk has no
/// `id`, `model` or `choices`; OpenAI's usage chunk has `choices: []`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionChunk<'a> {
    /// The completion id (the same on every chunk).
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    /// `chat.completion.chunk`.
    #[serde(borrow, default = "chunk_object")]
    pub object: Cow<'a, str>,
    /// Unix seconds (the same on every chunk).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub created: u64,
    /// The model.
    #[serde(borrow, default)]
    pub model: Cow<'a, str>,
    /// Backend configuration fingerprint.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_fingerprint: Option<Cow<'a, str>>,
    /// The service tier.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_tier: Option<Cow<'a, str>>,
    /// Deltas, one per choice; empty on the usage chunk.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub choices: Vec<ChunkChoice<'a>>,
    /// Token counts: on the final chunk with `include_usage`; absent or `null` elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// Random padding that hides the token lengths (OpenAI; ignored).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub obfuscation: Option<Cow<'a, str>>,
    /// Groq's extension; its final chunk carries `usage` here instead of at the top level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_groq: Option<XGroq>,
    /// An error reported inside the stream (OpenRouter mid-stream errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// One choice's delta in a chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice<'a> {
    /// The choice's position.
    #[serde(default)]
    pub index: u32,
    /// What is new.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub delta: ChunkDelta<'a>,
    /// Set on the choice's last chunk.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub finish_reason: Option<Cow<'a, str>>,
    /// Log probabilities, when asked for. Written only when known: OpenAI
    /// sends `null` here, but the field is optional in its chunk schema and
    /// an absent one reads the same in every client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// The new content of a choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkDelta<'a> {
    /// `assistant`, on the first chunk.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub role: Option<Cow<'a, str>>,
    /// More answer text.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<Cow<'a, str>>,
    /// More refusal text.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub refusal: Option<Cow<'a, str>>,
    /// More reasoning text (DeepSeek, vLLM, Switchboard).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// More reasoning text (OpenRouter, Groq, newer vLLM).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning: Option<Cow<'a, str>>,
    /// Tool-call fragments.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallChunk<'a>>>,
}

/// A fragment of a streamed tool call. Only `index` is required; `id`, `type`
/// and `function.name` come on a call's first fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallChunk<'a> {
    /// Which call this fragment belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The call id.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<Cow<'a, str>>,
    /// `function`.
    #[serde(
        rename = "type",
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Cow<'a, str>>,
    /// Name and argument fragment.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallChunk<'a>>,
}

/// The function part of a tool-call fragment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallChunk<'a> {
    /// The function name (first fragment).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Cow<'a, str>>,
    /// The next piece of the arguments' JSON text.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_str_or_json",
        skip_serializing_if = "Option::is_none"
    )]
    pub arguments: Option<Cow<'a, str>>,
}

/// Groq's `x_groq` chunk extension.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct XGroq {
    /// Groq's request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Usage, on the final chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// Why the stream stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}
