//! Cohere's Chat v2 and Embed v2 wire types (SPEC: `cohere-ai/cohere-developer-experience`
//! `cohere-openapi.yaml`), only the fields this crate reads or writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_protocol::lenient;

/// `POST /v2/chat` request body.
#[derive(Debug, Clone, Serialize)]
pub struct ChatBody<'a> {
    /// The model id.
    pub model: &'a str,
    /// The conversation.
    pub messages: Vec<WireMessage>,
    /// Function tools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<WireTool>,
    /// `REQUIRED` or `NONE` (absent: the model decides).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    /// `{type: text}` or `{type: json_object, json_schema?}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    /// Output token limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling (`top_p`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f32>,
    /// Sampling seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Frequency penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// Presence penalty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Reasoning: `{type: enabled|disabled, token_budget?}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<Value>,
    /// Whether the answer is streamed.
    pub stream: bool,
    /// Fields passed through from the request's `extra` (`documents`,
    /// `citation_options`, `safety_mode`, `k`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message of a chat request.
#[derive(Debug, Clone, Serialize)]
pub struct WireMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: &'static str,
    /// A string, or an array of content items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// The assistant's plan before its tool calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_plan: Option<String>,
    /// The assistant's tool calls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<WireToolCall>,
    /// The call a tool message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// A function tool.
#[derive(Debug, Clone, Serialize)]
pub struct WireTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: WireFunctionDef,
}

/// A function definition.
#[derive(Debug, Clone, Serialize)]
pub struct WireFunctionDef {
    /// Its name.
    pub name: String,
    /// What it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its JSON-schema parameters.
    pub parameters: Value,
}

/// A tool call, in requests and answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireToolCall {
    /// The call id.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    /// The function and its arguments (a JSON string).
    #[serde(default)]
    pub function: WireFunctionCall,
}

fn function_kind() -> String {
    "function".to_owned()
}

/// A called function.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireFunctionCall {
    /// Its name.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// Its arguments, as a JSON string.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub arguments: String,
}

/// `POST /v2/chat` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatAnswer {
    /// The answer's id.
    #[serde(default)]
    pub id: String,
    /// `COMPLETE`, `STOP_SEQUENCE`, `MAX_TOKENS`, `TOOL_CALL`, `ERROR`, `TIMEOUT`.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// The assistant message.
    #[serde(default)]
    pub message: AnswerMessage,
    /// Token counts.
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Everything else (`logprobs`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The assistant message of an answer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AnswerMessage {
    /// Content items: `{type: text, text}` or `{type: thinking, thinking}`.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub content: Vec<Value>,
    /// The plan before tool calls.
    #[serde(default)]
    pub tool_plan: Option<String>,
    /// Tool calls.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub tool_calls: Vec<WireToolCall>,
    /// Citations of the documents the answer rests on.
    #[serde(default)]
    pub citations: Option<Value>,
}

/// Usage: what was billed and what was processed.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct WireUsage {
    /// Billed tokens.
    #[serde(default)]
    pub billed_units: Option<TokenCounts>,
    /// Tokens the model processed (including the prompt template).
    #[serde(default)]
    pub tokens: Option<TokenCounts>,
}

/// Input and output token counts (floats accepted: some examples send `18.0`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct TokenCounts {
    /// Input tokens.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub output_tokens: u64,
}

/// `POST /v2/embed` request body.
#[derive(Debug, Clone, Serialize)]
pub struct EmbedBody<'a> {
    /// The embedding model.
    pub model: &'a str,
    /// The texts to embed.
    pub texts: &'a [String],
    /// `search_document`, `search_query`, `classification`, `clustering` or `image`.
    pub input_type: String,
    /// Always `["float"]`.
    pub embedding_types: [&'static str; 1],
    /// Shorter vectors, for models that can.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimension: Option<u32>,
    /// Fields passed through from the request's `extra` (`truncate`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v2/embed` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbedAnswer {
    /// The vectors by type.
    pub embeddings: EmbeddingsByType,
    /// Billing and warnings.
    #[serde(default)]
    pub meta: Option<EmbedMeta>,
}

/// The vectors by type; only `float` is asked for.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbeddingsByType {
    /// One float vector per text.
    #[serde(default)]
    pub float: Option<Vec<Vec<f32>>>,
}

/// An embed answer's `meta`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EmbedMeta {
    /// Billed input tokens.
    #[serde(default)]
    pub billed_units: Option<TokenCounts>,
}
