//! Response types: a whole chat completion and its usage.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::request::ToolCall;
use crate::lenient;

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
