//! Messages: roles, content parts, tool calls.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions from the application.
    System,
    /// Instructions from the developer (OpenAI's newer name for `system`).
    Developer,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
}

impl Role {
    /// The lowercase wire name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ImageSource {
    /// An `http(s)://` or `data:` URL.
    Url {
        /// The URL.
        url: String,
    },
    /// Inline base64 data.
    Base64 {
        /// The MIME type, e.g. `image/png`.
        media_type: String,
        /// The base64-encoded bytes.
        data: String,
    },
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Where the image is.
        #[serde(flatten)]
        source: ImageSource,
        /// OpenAI's `detail` hint (`low`, `high`, `auto`), if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// The model's reasoning ("thinking"), kept so it can be sent back on the next turn.
    ///
    /// A signature or encrypted data is only valid for the provider family
    /// that produced it, named by `origin`: encoders send them only to that
    /// family (see [`ContentPart::reasoning_origin_compatible`]) and leave
    /// another family's signed reasoning out. Unsigned reasoning text carries
    /// no such restriction.
    Reasoning {
        /// The reasoning text (empty when the provider only returned it encrypted).
        text: String,
        /// The provider's signature over the reasoning (Anthropic `thinking.signature`,
        /// Gemini `thoughtSignature`); must be sent back unchanged, and only to `origin`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Provider-encrypted reasoning (Anthropic `redacted_thinking` data).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        redacted: Option<String>,
        /// The provider family that produced the signature or encrypted data,
        /// e.g. `"anthropic"` or `"gemini"`. `None` means unknown (conversations
        /// saved before origins were recorded) and is treated as compatible
        /// with every provider.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        origin: Option<String>,
    },
    /// The model declined to answer (OpenAI `refusal`).
    Refusal {
        /// The refusal message.
        text: String,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    /// An image part from a URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart::Image {
            source: ImageSource::Url { url: url.into() },
            detail: None,
        }
    }

    /// An image part from base64 data.
    pub fn image_base64(media_type: impl Into<String>, data: impl Into<String>) -> Self {
        ContentPart::Image {
            source: ImageSource::Base64 {
                media_type: media_type.into(),
                data: data.into(),
            },
            detail: None,
        }
    }

    /// Whether reasoning whose signature or encrypted data came from
    /// `origin` may be sent to a provider of family `family`: yes when the
    /// origin is unknown (`None`, for backward compatibility) or is `family`.
    ///
    /// ```
    /// use switchboard_core::ContentPart;
    /// assert!(ContentPart::reasoning_origin_compatible(None, "anthropic"));
    /// assert!(ContentPart::reasoning_origin_compatible(Some("anthropic"), "anthropic"));
    /// assert!(!ContentPart::reasoning_origin_compatible(Some("gemini"), "anthropic"));
    /// ```
    pub fn reasoning_origin_compatible(origin: Option<&str>, family: &str) -> bool {
        origin.is_none_or(|o| o == family)
    }
}

/// A tool call the model asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ToolCall {
    /// The provider's id for the call; a tool result refers back to it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments as a JSON text, exactly as the model produced them.
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// Its content, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<ContentPart>,
    /// Tool calls made by the assistant in this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: the id of the call this is the result of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// An optional participant name (or the tool's name on a tool result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For a `tool` message: the tool failed and the content describes the
    /// error (Anthropic `tool_result.is_error`, Gemini
    /// `functionResponse.response.error`). Providers without such a flag
    /// send the content as an ordinary result.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_error: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Message {
    /// A message with one text part.
    pub fn new(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: vec![ContentPart::text(text)],
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            is_error: false,
        }
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Self::new(Role::System, text)
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Role::User, text)
    }

    /// An assistant message.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::new(Role::Assistant, text)
    }

    /// An assistant message that only calls tools.
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Message {
            role: Role::Assistant,
            content: Vec::new(),
            tool_calls: calls,
            tool_call_id: None,
            name: None,
            is_error: false,
        }
    }

    /// The result of tool call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            role: Role::Tool,
            content: vec![ContentPart::text(text)],
            tool_calls: Vec::new(),
            tool_call_id: Some(call_id.into()),
            name: None,
            is_error: false,
        }
    }

    /// The error result of tool call `call_id`: the tool failed, `text` says why.
    pub fn tool_error(call_id: impl Into<String>, text: impl Into<String>) -> Self {
        Message {
            is_error: true,
            ..Self::tool_result(call_id, text)
        }
    }

    /// All text parts joined together.
    pub fn text(&self) -> String {
        join_text(&self.content)
    }
}

pub(crate) fn join_text(parts: &[ContentPart]) -> String {
    let mut out = String::new();
    for part in parts {
        if let ContentPart::Text { text } = part {
            out.push_str(text);
        }
    }
    out
}
