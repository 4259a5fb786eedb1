//! Request types: the Messages request, its messages, content blocks, tools and settings.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

/// `POST /v1/messages` request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest<'a> {
    /// The model id.
    #[serde(borrow)]
    pub model: Cow<'a, str>,
    /// The most tokens to generate (required by the API).
    pub max_tokens: u32,
    /// The system prompt: a string or an array of text blocks.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt<'a>>,
    /// The conversation: alternating `user` and `assistant` turns.
    #[serde(borrow)]
    pub messages: Vec<InputMessage<'a>>,
    /// Request metadata (`user_id`).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata<'a>>,
    /// Sequences that end generation.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<Cow<'a, str>>>,
    /// Whether to stream the answer as server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Sampling temperature, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Sample only from the top K options for each token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Tools the model may call (custom tools and server tools).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool<'a>>>,
    /// Whether and which tool the model must call.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice<'a>>,
    /// Extended thinking settings.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig<'a>>,
    /// Output settings: structured output `format`, `effort`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig<'a>>,
    /// Every other field, kept verbatim (`service_tier`, `container`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagesRequest<'_> {
    /// Asks for a streamed answer.
    #[must_use]
    pub fn streaming(mut self) -> Self {
        self.stream = Some(true);
        self
    }

    /// Whether `stream` is `true`.
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }
}

/// `system`: a plain string or an array of text blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SystemPrompt<'a> {
    /// One string.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// Text blocks (which may carry `cache_control`).
    Blocks(#[serde(borrow)] Vec<SystemBlock<'a>>),
}

/// One block of an array `system` prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemBlock<'a> {
    /// `text` (anything else is kept and rejected when converting).
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The text.
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
    /// Other fields (`cache_control`, `citations`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'a> SystemBlock<'a> {
    /// A plain text block.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        SystemBlock {
            kind: Cow::Borrowed("text"),
            text: text.into(),
            extra: Map::new(),
        }
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage<'a> {
    /// `user` or `assistant` (anything else is kept and rejected when converting).
    #[serde(borrow)]
    pub role: Cow<'a, str>,
    /// A string or an array of content blocks.
    #[serde(borrow)]
    pub content: MessageContent<'a>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Message content: a plain string or an array of blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent<'a> {
    /// Plain text.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// Content blocks.
    Blocks(#[serde(borrow)] Vec<ContentBlock<'a>>),
}

/// A content block, in a request or a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock<'a> {
    /// `{"type": "text", "text": ...}`
    Text {
        /// The text.
        #[serde(borrow)]
        text: Cow<'a, str>,
        /// Other fields (`cache_control`, `citations`), kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// `{"type": "image", "source": {...}}`
    Image {
        /// Where the image is.
        #[serde(borrow)]
        source: ImageSource<'a>,
        /// Other fields (`cache_control`), kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// A tool call by the model: `{"type": "tool_use", "id", "name", "input"}`.
    ToolUse {
        /// The call id (`toolu_...`).
        #[serde(borrow)]
        id: Cow<'a, str>,
        /// The tool's name.
        #[serde(borrow)]
        name: Cow<'a, str>,
        /// The arguments, a JSON object.
        #[serde(default = "empty_object")]
        input: Cow<'a, Value>,
        /// Other fields (`caller`, `cache_control`), kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// The result of a tool call, in a user turn.
    ToolResult {
        /// The id of the `tool_use` block this answers.
        #[serde(borrow)]
        tool_use_id: Cow<'a, str>,
        /// The result: a string or text/image blocks (absent for an empty result).
        #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultContent<'a>>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// Other fields (`cache_control`), kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Extended thinking: `{"type": "thinking", "thinking", "signature"}`.
    Thinking {
        /// The thinking text.
        #[serde(borrow, default)]
        thinking: Cow<'a, str>,
        /// The signature that must be sent back unchanged (empty at a stream's block start).
        #[serde(borrow, default)]
        signature: Cow<'a, str>,
        /// Other fields, kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Thinking the safety systems encrypted: `{"type": "redacted_thinking", "data"}`.
    RedactedThinking {
        /// The encrypted thinking, to be sent back unchanged.
        #[serde(borrow)]
        data: Cow<'a, str>,
        /// Other fields, kept verbatim.
        #[serde(flatten)]
        extra: Map<String, Value>,
    },
    /// Any other block (`document`, `search_result`, `server_tool_use`,
    /// `web_search_tool_result`, future types), kept verbatim.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

fn empty_object() -> Cow<'static, Value> {
    Cow::Owned(Value::Object(Map::new()))
}

impl<'a> ContentBlock<'a> {
    /// A plain text block.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        ContentBlock::Text {
            text: text.into(),
            extra: Map::new(),
        }
    }

    /// The block's `type`.
    pub fn kind(&self) -> &str {
        match self {
            ContentBlock::Text { .. } => "text",
            ContentBlock::Image { .. } => "image",
            ContentBlock::ToolUse { .. } => "tool_use",
            ContentBlock::ToolResult { .. } => "tool_result",
            ContentBlock::Thinking { .. } => "thinking",
            ContentBlock::RedactedThinking { .. } => "redacted_thinking",
            ContentBlock::Other(map) => map.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The block's fields other than the named ones (`None` for [`ContentBlock::Other`]).
    pub fn extra_mut(&mut self) -> Option<&mut Map<String, Value>> {
        match self {
            ContentBlock::Text { extra, .. }
            | ContentBlock::Image { extra, .. }
            | ContentBlock::ToolUse { extra, .. }
            | ContentBlock::ToolResult { extra, .. }
            | ContentBlock::Thinking { extra, .. }
            | ContentBlock::RedactedThinking { extra, .. } => Some(extra),
            ContentBlock::Other(_) => None,
        }
    }
}

/// The `source` of an image block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource<'a> {
    /// `{"type": "base64", "media_type": "image/png", "data": ...}`
    Base64 {
        /// `image/jpeg`, `image/png`, `image/gif` or `image/webp`.
        #[serde(borrow)]
        media_type: Cow<'a, str>,
        /// The base64-encoded bytes.
        #[serde(borrow)]
        data: Cow<'a, str>,
    },
    /// `{"type": "url", "url": ...}`
    Url {
        /// An `https` URL.
        #[serde(borrow)]
        url: Cow<'a, str>,
    },
    /// Any other source (`file` with a `file_id`), kept verbatim.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// The `content` of a `tool_result` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolResultContent<'a> {
    /// Plain text.
    Text(#[serde(borrow)] Cow<'a, str>),
    /// Text and image blocks.
    Blocks(#[serde(borrow)] Vec<ContentBlock<'a>>),
}

/// A tool definition: a custom tool (`input_schema`) or a server tool (a
/// versioned `type` such as `web_search_20250305`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool<'a> {
    /// Absent or `custom` for custom tools; the server tool's versioned type otherwise.
    #[serde(
        rename = "type",
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Cow<'a, str>>,
    /// The tool's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// What the tool does, for the model.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Cow<'a, str>>,
    /// The JSON Schema of the `input` object (custom tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<Cow<'a, Value>>,
    /// Strict schema adherence for the tool's input (structured outputs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Other fields (`cache_control`, server tool settings), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tool<'_> {
    /// Whether this is a custom (client-side) tool, not a server tool.
    pub fn is_custom(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "custom")
    }
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice<'a> {
    /// The model decides.
    Auto {
        /// At most one tool call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call the named tool.
    Tool {
        /// The tool.
        #[serde(borrow)]
        name: Cow<'a, str>,
        /// Exactly one tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must not call tools.
    None,
    /// Any other shape, kept verbatim.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// `thinking`: `{"type": "enabled", "budget_tokens": N}` or `{"type": "disabled"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThinkingConfig<'a> {
    /// `enabled`, `disabled` (or newer types, kept).
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// Tokens the model may spend thinking (at least 1024, less than `max_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ThinkingConfig<'_> {
    /// `{"type": "enabled", "budget_tokens": budget}`.
    pub fn enabled(budget_tokens: u32) -> Self {
        ThinkingConfig {
            kind: Cow::Borrowed("enabled"),
            budget_tokens: Some(budget_tokens),
            extra: Map::new(),
        }
    }
}

/// `output_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutputConfig<'a> {
    /// Structured output: `{"type": "json_schema", "schema": {...}}`.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub format: Option<OutputFormat<'a>>,
    /// Other fields (`effort`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `output_config.format`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFormat<'a> {
    /// `json_schema`.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    /// The JSON Schema the answer must follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Cow<'a, Value>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata<'a> {
    /// An opaque id of the end user.
    #[serde(
        borrow,
        default,
        deserialize_with = "lenient::opt_cow",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim (the API rejects them).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
