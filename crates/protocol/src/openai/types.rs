//! OpenAI Chat Completions, Models and Embeddings wire types.
//!
//! Strings are `Cow<'a, str>`: deserializing from a byte buffer borrows every
//! string that has no escapes, and converting a core value into a wire value
//! borrows from it instead of cloning. Use `'static` with owned strings when
//! neither applies.
//!
//! Numbers the core holds as `f32` (temperature, penalties, embedding
//! values) are `f32` here too. Serialize with `serde_json::to_vec` or
//! `to_writer`, which write an `f32` as its shortest decimal (`0.7`);
//! `serde_json::to_value` widens it to the exact `f64` (`0.699999988079071`).
//!
//! Requests, messages, content parts, tools and responses keep the fields
//! they do not know in a flattened `extra` map, so parsing and re-serializing
//! loses nothing. Stream chunks do not: they are the hot path, and a
//! [`ChatEvent`](switchboard_core::ChatEvent) has no place for unknown chunk
//! fields anyway; every chunk field seen in the wild that carries meaning is
//! named (including Groq's `x_groq` and the `obfuscation` padding).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// `POST /v1/chat/completions` request body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest<'a> {
    /// The model id.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// The conversation.
    #[serde(borrow)]
    pub messages: Vec<ChatMessage<'a>>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// The most tokens to generate (the older name; not accepted by OpenAI's reasoning models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The most tokens to generate, reasoning included (the newer name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Stop sequences: one string or an array.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop<'a>>,
    /// Seed for best-effort determinism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Presence penalty, -2 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty, -2 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// How many choices to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Tools the model may call.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool<'a>>>,
    /// Whether and which tool the model must call.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice<'a>>,
    /// Whether several tool calls may come in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The answer's shape.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat<'a>>,
    /// `minimal`, `low`, `medium`, `high` (or newer values, passed through).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_effort: Option<Cow<'a, str>>,
    /// Whether to stream the answer as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// End-user id.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub user: Option<Cow<'a, str>>,
    /// String key/value pairs stored with the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Cow<'a, BTreeMap<String, String>>>,
    /// Whether to return log probabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// How many most likely tokens to return per position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequest<'_> {
    /// Asks for a streamed answer, with the final usage chunk when `include_usage`.
    #[must_use]
    pub fn streaming(mut self, include_usage: bool) -> Self {
        self.stream = Some(true);
        self.stream_options = include_usage.then(|| StreamOptions {
            include_usage: Some(true),
            ..Default::default()
        });
        self
    }

    /// Whether `stream` is `true`.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    /// Whether `stream_options.include_usage` is `true`.
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a final chunk with `usage` and empty `choices` before `[DONE]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Whether chunks carry random `obfuscation` padding (default on at OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
    /// Every other field, kept verbatim (e.g. vLLM's `continuous_usage_stats`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stop`: one sequence or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop<'a> {
    /// A single stop sequence.
    One(#[serde(borrow)] Cow<'a, str>),
    /// Several stop sequences.
    Many(Vec<Cow<'a, str>>),
}

/// One message of the conversation, of any role.
///
/// `content` is written as `null` when it is `None` (OpenAI's shape for an
/// assistant message that only calls tools).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage<'a> {
    /// `system`, `developer`, `user`, `assistant` or `tool` (anything else is
    /// kept here and rejected when converting).
    #[serde(borrow)]
    pub role: Cow<'a, str>,
    /// A string or an array of parts.
    #[serde(borrow, default)]
    pub content: Option<MessageContent<'a>>,
    /// An assistant message's refusal.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub refusal: Option<Cow<'a, str>>,
    /// Participant name.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Cow<'a, str>>,
    /// An assistant message's tool calls.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
    /// A tool message's call id.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub tool_call_id: Option<Cow<'a, str>>,
    /// Every other field, kept verbatim (e.g. DeepSeek's `reasoning_content`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Message content: a plain string or an array of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent<'a> {
    /// Plain text.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// Typed parts.
    Parts(#[serde(borrow)] Vec<ContentPart<'a>>),
}

/// One part of an array `content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart<'a> {
    /// `{"type": "text", "text": ...}`
    Text {
        /// The text.
        #[serde(borrow)]
        text: Cow<'a, str>,
        /// Other fields of the part (e.g. `cache_control`), kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// `{"type": "image_url", "image_url": {"url": ..., "detail": ...}}`
    ImageUrl {
        /// The image.
        #[serde(borrow)]
        image_url: ImageUrl<'a>,
        /// Other fields of the part, kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// `{"type": "input_audio", "input_audio": {"data": ..., "format": ...}}`
    InputAudio {
        /// The audio.
        #[serde(borrow)]
        input_audio: InputAudio<'a>,
        /// Other fields of the part, kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// `{"type": "refusal", "refusal": ...}` (assistant messages).
    Refusal {
        /// The refusal text.
        #[serde(borrow)]
        refusal: Cow<'a, str>,
    },
    /// Any other part (`file`, future types), kept verbatim.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// `image_url` of an image part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageUrl<'a> {
    /// An `http(s)` URL or a `data:` URL.
    #[serde(borrow)]
    pub url: Cow<'a, str>,
    /// `low`, `high` or `auto`.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub detail: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `input_audio` of an audio part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputAudio<'a> {
    /// Base64 audio.
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    /// `wav` or `mp3`.
    #[serde(borrow)]
    pub format: Cow<'a, str>,
}

/// A tool definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool<'a> {
    /// `function` (other tool types are kept and rejected when converting).
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The function, for `type: function`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionDefinition<'a>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function tool's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition<'a> {
    /// The function name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// What it does.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Cow<'a, str>>,
    /// The JSON Schema of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Cow<'a, Value>>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `tool_choice`: `"none"`, `"auto"`, `"required"` or a named function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice<'a> {
    /// `"none"`, `"auto"` or `"required"`.
    Mode(#[serde(borrow)] Cow<'a, str>),
    /// `{"type": "function", "function": {"name": ...}}`
    Named(#[serde(borrow)] NamedToolChoice<'a>),
    /// Any other shape (e.g. `allowed_tools`), kept verbatim.
    Other(Value),
}

/// A tool choice naming one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedToolChoice<'a> {
    /// `function`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The function.
    #[serde(borrow)]
    pub function: FunctionName<'a>,
}

/// `{"name": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionName<'a> {
    /// The function name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
}

/// `response_format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat<'a> {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema and its name.
        #[serde(borrow)]
        json_schema: JsonSchemaFormat<'a>,
    },
    /// Any other format, kept verbatim.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat<'a> {
    /// The schema's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// What it describes.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Cow<'a, str>>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Cow<'a, Value>>,
    /// Strict adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tool call made by the model (in a response, or replayed in a request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall<'a> {
    /// The call id.
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    /// `function`.
    #[serde(rename = "type", borrow, default = "function_type")]
    pub kind: Cow<'a, str>,
    /// The function called.
    #[serde(borrow, default)]
    pub function: FunctionCall<'a>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn function_type() -> Cow<'static, str> {
    Cow::Borrowed("function")
}

/// The function of a tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall<'a> {
    /// The function name.
    #[serde(borrow, default)]
    pub name: Cow<'a, str>,
    /// The arguments as a JSON text (an object sent instead is kept as its JSON text).
    #[serde(borrow, default, deserialize_with = "lenient::str_or_json")]
    pub arguments: Cow<'a, str>,
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

fn chat_completion_object() -> Cow<'static, str> {
    Cow::Borrowed("chat.completion")
}

fn assistant_role() -> Cow<'static, str> {
    Cow::Borrowed("assistant")
}

/// `POST /v1/chat/completions` response body (not streamed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion<'a> {
    /// The completion id.
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    /// `chat.completion`.
    #[serde(borrow, default = "chat_completion_object")]
    pub object: Cow<'a, str>,
    /// Unix seconds.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub created: u64,
    /// The model that answered.
    #[serde(borrow, default)]
    pub model: Cow<'a, str>,
    /// The answers (one unless `n` > 1).
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub choices: Vec<Choice<'a>>,
    /// Token counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<CompletionUsage>,
    /// Backend configuration fingerprint.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub system_fingerprint: Option<Cow<'a, str>>,
    /// The service tier that served the request.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_tier: Option<Cow<'a, str>>,
    /// Every other field, kept verbatim (e.g. Groq's `x_groq`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One answer of a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice<'a> {
    /// Position among the choices.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub message: ResponseMessage<'a>,
    /// `stop`, `length`, `tool_calls`, `content_filter`, or a provider-specific reason.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub finish_reason: Option<Cow<'a, str>>,
    /// Log probabilities, when asked for.
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The assistant message of a response choice. `content` and `refusal` are
/// written as `null` when absent, as OpenAI does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseMessage<'a> {
    /// `assistant`.
    #[serde(borrow, default = "assistant_role")]
    pub role: Cow<'a, str>,
    /// The answer text.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub content: Option<Cow<'a, str>>,
    /// The refusal text, when the model declined.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub refusal: Option<Cow<'a, str>>,
    /// Tool calls.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall<'a>>>,
    /// URL citations and similar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Vec<Value>>,
    /// Reasoning text (DeepSeek, vLLM, and Switchboard's own responses).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_content: Option<Cow<'a, str>>,
    /// Reasoning text (OpenRouter, Groq).
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning: Option<Cow<'a, str>>,
    /// Every other field, kept verbatim (e.g. `audio`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for ResponseMessage<'_> {
    fn default() -> Self {
        ResponseMessage {
            role: assistant_role(),
            content: None,
            refusal: None,
            tool_calls: None,
            annotations: None,
            reasoning_content: None,
            reasoning: None,
            extra: Map::new(),
        }
    }
}

/// `usage` of a response or of the final stream chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionUsage {
    /// Prompt tokens (cached ones included).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub prompt_tokens: u64,
    /// Generated tokens (reasoning included).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub completion_tokens: u64,
    /// Prompt plus completion.
    #[serde(default, deserialize_with = "lenient::u64")]
    pub total_tokens: u64,
    /// Breakdown of the prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// Every other field, kept verbatim (Groq's `queue_time`…, OpenRouter's `cost`…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Prompt tokens read from the cache.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cached_tokens: Option<u64>,
    /// Audio prompt tokens.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_tokens: Option<u64>,
    /// Prompt tokens written to the cache (OpenRouter).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_write_tokens: Option<u64>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Tokens spent reasoning.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_tokens: Option<u64>,
    /// Audio output tokens.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_tokens: Option<u64>,
    /// Predicted-output tokens that appeared in the answer.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted-output tokens that did not.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub rejected_prediction_tokens: Option<u64>,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------
// Streaming
// ---------------------------------------------------------------------------

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
    /// Log probabilities, when asked for.
    #[serde(default)]
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

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// An error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse<'a> {
    /// The error.
    #[serde(borrow)]
    pub error: ErrorObject<'a>,
}

/// The error object. Written with all four OpenAI keys (`message`, `type`,
/// `param`, `code`); read leniently (`code` may be a string, an integer or `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject<'a> {
    /// Human-readable message.
    #[serde(borrow, default)]
    pub message: Cow<'a, str>,
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, ...
    #[serde(
        rename = "type",
        borrow,
        default,
        deserialize_with = "lenient::opt_cow"
    )]
    pub kind: Option<Cow<'a, str>>,
    /// The request field at fault.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub param: Option<Cow<'a, str>>,
    /// A machine-readable code.
    #[serde(borrow, default)]
    pub code: Option<ErrorCode<'a>>,
    /// Other fields (OpenRouter's `metadata`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An error `code`: OpenAI sends strings, vLLM and OpenRouter the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ErrorCode<'a> {
    /// e.g. `context_length_exceeded`.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// e.g. `429`.
    Number(i64),
}

// ---------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------

fn list_object() -> Cow<'static, str> {
    Cow::Borrowed("list")
}

fn model_object() -> Cow<'static, str> {
    Cow::Borrowed("model")
}

/// `GET /v1/models` response body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelList<'a> {
    /// `list`.
    #[serde(borrow, default = "list_object")]
    pub object: Cow<'a, str>,
    /// The models.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub data: Vec<Model<'a>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One model of a [`ModelList`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model<'a> {
    /// The model id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// `model`.
    #[serde(borrow, default = "model_object")]
    pub object: Cow<'a, str>,
    /// Unix seconds (0 when the server does not say).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub created: u64,
    /// The owner.
    #[serde(borrow, default)]
    pub owned_by: Cow<'a, str>,
    /// Other fields, kept verbatim (`shutdown_date`, Groq's `context_window`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------------------
// Embeddings
// ---------------------------------------------------------------------------

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
