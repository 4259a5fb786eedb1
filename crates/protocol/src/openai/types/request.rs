//! Request types: the chat completion request, its messages, content parts, tools and formats.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

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
