//! Chat requests, messages, responses and usage.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::Error;

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

/// A tool (function) the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tool {
    /// The function name: `[a-zA-Z0-9_-]`, at most 64 characters.
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments object.
    #[serde(default = "empty_object_schema")]
    pub parameters: Value,
    /// OpenAI's strict schema adherence flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

fn empty_object_schema() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

impl Tool {
    /// A tool with a name, description and argument schema.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Tool {
            name: name.into(),
            description: Some(description.into()),
            parameters,
            strict: None,
        }
    }
}

/// Whether and which tool the model must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must not call tools.
    None,
    /// The model must call at least one tool.
    Required,
    /// The model must call this tool.
    Tool(String),
}

/// The shape the answer must take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema {
        /// The schema's name.
        name: String,
        /// What the schema describes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// The JSON Schema.
        schema: Value,
        /// Whether the provider must adhere strictly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
}

/// How hard a reasoning model should think.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningEffort {
    /// As little as the model allows.
    Minimal,
    /// Low effort.
    Low,
    /// Medium effort.
    Medium,
    /// High effort.
    High,
}

impl ReasoningEffort {
    /// The lowercase wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }
}

/// Reasoning ("thinking") settings, mapped by each provider to its own knob
/// (OpenAI `reasoning_effort`, Anthropic `thinking.budget_tokens`, Gemini `thinkingConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reasoning {
    /// A qualitative effort level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<ReasoningEffort>,
    /// A token budget for the reasoning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_tokens: Option<u32>,
}

/// A chat completion request, independent of any provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatRequest {
    /// The model to use (a provider model id, `instance/model`, or an alias).
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// The most tokens to generate; must be positive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sequences that end generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// A seed for best-effort deterministic sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Presence penalty, -2 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty, -2 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// The shape of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Reasoning settings for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// An id for the end user, for the provider's abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Free-form key/value pairs stored with the request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Provider-specific fields passed through to the wire request unchanged.
    /// A provider that cannot send one reports [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported)
    /// rather than dropping it.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// A request for `model` with `messages` and every option unset.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            ..Default::default()
        }
    }

    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Sets the maximum output tokens.
    #[must_use]
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Adds a tool.
    #[must_use]
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// Checks the request before it is sent anywhere; the error names the field.
    pub fn validate(&self) -> Result<(), Error> {
        if self.model.trim().is_empty() {
            return Err(Error::invalid_param("model", "`model` must not be empty"));
        }
        if self.messages.is_empty() {
            return Err(Error::invalid_param(
                "messages",
                "`messages` must contain at least one message",
            ));
        }
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        if self.max_tokens == Some(0) {
            return Err(Error::invalid_param(
                "max_tokens",
                "`max_tokens` must be greater than 0",
            ));
        }
        for (i, tool) in self.tools.iter().enumerate() {
            let valid_name = !tool.name.is_empty()
                && tool.name.len() <= 64
                && tool
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid_name {
                return Err(Error::invalid_param(
                    format!("tools[{i}].name"),
                    format!(
                        "tool name {:?} must be 1 to 64 characters of a-z, A-Z, 0-9, `_` or `-`",
                        tool.name
                    ),
                ));
            }
            if !tool.parameters.is_object() {
                return Err(Error::invalid_param(
                    format!("tools[{i}].parameters"),
                    "tool parameters must be a JSON Schema object",
                ));
            }
        }
        if matches!(self.tool_choice, Some(ToolChoice::Required)) && self.tools.is_empty() {
            return Err(Error::invalid_param(
                "tool_choice",
                "tool_choice `required` needs at least one entry in `tools`",
            ));
        }
        if let Some(ToolChoice::Tool(name)) = &self.tool_choice
            && !self.tools.iter().any(|t| &t.name == name)
        {
            return Err(Error::invalid_param(
                "tool_choice",
                format!("tool_choice names `{name}`, which is not in `tools`"),
            ));
        }
        for (i, m) in self.messages.iter().enumerate() {
            if m.role == Role::Tool && m.tool_call_id.is_none() {
                return Err(Error::invalid_param(
                    format!("messages[{i}].tool_call_id"),
                    "a tool message needs the `tool_call_id` it answers",
                ));
            }
        }
        Ok(())
    }

    /// The text of the last user message, if any.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(Message::text)
    }
}

fn check_range(name: &'static str, value: Option<f32>, lo: f32, hi: f32) -> Result<(), Error> {
    match value {
        Some(v) if !(lo..=hi).contains(&v) => Err(Error::invalid_param(
            name,
            format!("`{name}` must be between {lo} and {hi}, got {v}"),
        )),
        _ => Ok(()),
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    #[default]
    Stop,
    /// The token limit was reached.
    Length,
    /// The model called tools.
    ToolCalls,
    /// A content filter stopped the answer.
    ContentFilter,
    /// A provider-specific reason, kept verbatim.
    Other(String),
}

impl FinishReason {
    /// The snake_case name (`stop`, `length`, `tool_calls`, `content_filter`, or the raw reason).
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(s) => s,
        }
    }

    /// Parses the snake_case name; anything else becomes [`FinishReason::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "stop" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(FinishReason::parse(&s))
    }
}

impl JsonSchema for FinishReason {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FinishReason".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "stop, length, tool_calls, content_filter, or a provider-specific reason"
        })
    }
}

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    /// Prompt tokens, including cached ones.
    pub input_tokens: u64,
    /// Generated tokens, including reasoning tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's cache.
    #[serde(default)]
    pub cached_input_tokens: u64,
    /// Prompt tokens written to the provider's cache (Anthropic `cache_creation_input_tokens`).
    #[serde(default)]
    pub cache_write_input_tokens: u64,
    /// Output tokens spent on reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// Everything billed; usually input + output.
    pub total_tokens: u64,
}

impl Usage {
    /// Usage with input and output counts and the total computed.
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            ..Default::default()
        }
    }

    /// Adds another report to this one, field by field (for multi-attempt
    /// totals). Saturates: upstream counts are untrusted input.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cached_input_tokens = self
            .cached_input_tokens
            .saturating_add(other.cached_input_tokens);
        self.cache_write_input_tokens = self
            .cache_write_input_tokens
            .saturating_add(other.cache_write_input_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(other.reasoning_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
    }
}

/// A completed chat answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatResponse {
    /// The provider's id for the completion.
    pub id: String,
    /// The model that produced it, as the provider names it.
    pub model: String,
    /// The provider instance that served it.
    #[serde(default)]
    pub provider: String,
    /// Unix time (seconds) the completion was created.
    #[serde(default)]
    pub created: u64,
    /// The answer's content, in order.
    pub content: Vec<ContentPart>,
    /// Tool calls the model made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
    /// Provider-specific response fields kept for callers that want them
    /// (e.g. OpenAI `system_fingerprint`, Groq `x_groq`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ChatResponse {
    /// All text parts joined together.
    pub fn text(&self) -> String {
        join_text(&self.content)
    }

    /// The assistant message this response adds to the conversation.
    pub fn to_message(&self) -> Message {
        Message {
            role: Role::Assistant,
            content: self.content.clone(),
            tool_calls: self.tool_calls.clone(),
            tool_call_id: None,
            name: None,
            is_error: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn req() -> ChatRequest {
        ChatRequest::new("m", vec![Message::user("hi")])
    }

    #[test]
    fn validates_sampling_ranges() {
        assert!(req().validate().is_ok());
        assert!(req().temperature(0.0).validate().is_ok());
        assert!(req().temperature(2.0).validate().is_ok());
        let err = req().temperature(2.5).validate().expect_err("out of range");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.param(), Some("temperature"));
        let err = req().temperature(f32::NAN).validate().expect_err("nan");
        assert_eq!(err.param(), Some("temperature"));
        let mut r = req();
        r.top_p = Some(1.5);
        assert_eq!(r.validate().expect_err("top_p").param(), Some("top_p"));
        let err = req().max_tokens(0).validate().expect_err("zero");
        assert_eq!(err.param(), Some("max_tokens"));
        assert!(req().max_tokens(1).validate().is_ok());
    }

    #[test]
    fn validates_structure() {
        let empty = ChatRequest::new("m", vec![]);
        assert_eq!(
            empty.validate().expect_err("empty").param(),
            Some("messages")
        );
        let bad_tool = req().tool(Tool::new("has space", "d", serde_json::json!({})));
        assert_eq!(
            bad_tool.validate().expect_err("bad name").param(),
            Some("tools[0].name")
        );
        let mut choice = req();
        choice.tool_choice = Some(ToolChoice::Tool("nope".into()));
        assert_eq!(
            choice.validate().expect_err("unknown tool").param(),
            Some("tool_choice")
        );
        let mut required = req();
        required.tool_choice = Some(ToolChoice::Required);
        assert_eq!(
            required.validate().expect_err("no tools").param(),
            Some("tool_choice")
        );
        let mut orphan = req();
        orphan.messages.push(Message::new(Role::Tool, "42"));
        assert_eq!(
            orphan.validate().expect_err("orphan").param(),
            Some("messages[1].tool_call_id")
        );
    }

    #[test]
    fn finish_reason_serde_is_lossless() {
        for raw in ["stop", "length", "tool_calls", "content_filter", "SAFETY"] {
            let fr: FinishReason =
                serde_json::from_value(Value::String(raw.into())).expect("string parses");
            assert_eq!(
                serde_json::to_value(&fr).ok(),
                Some(Value::String(raw.into()))
            );
        }
    }

    #[test]
    fn message_json_shape() {
        let m = Message::tool_result("call_1", "sunny");
        let v = serde_json::to_value(&m).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"role":"tool","content":[{"type":"text","text":"sunny"}],"tool_call_id":"call_1"})
        );
        let back: Message = serde_json::from_value(v).expect("round trips");
        assert_eq!(back, m);
        let img = ContentPart::image_base64("image/png", "AAAA");
        let v = serde_json::to_value(&img).expect("serializes");
        assert_eq!(
            v,
            serde_json::json!({"type":"image","source":"base64","media_type":"image/png","data":"AAAA"})
        );
        assert_eq!(serde_json::from_value::<ContentPart>(v).ok(), Some(img));
    }

    #[test]
    fn reasoning_origin_and_tool_errors_are_optional_in_json() {
        // A conversation saved before origins existed still loads, origin unknown.
        let old: ContentPart = serde_json::from_value(
            serde_json::json!({"type": "reasoning", "text": "t", "signature": "S"}),
        )
        .expect("parses");
        assert_eq!(
            old,
            ContentPart::Reasoning {
                text: "t".into(),
                signature: Some("S".into()),
                redacted: None,
                origin: None,
            }
        );
        assert_eq!(
            serde_json::to_value(&old).expect("serializes"),
            serde_json::json!({"type": "reasoning", "text": "t", "signature": "S"}),
            "no origin, no `origin` key"
        );
        let stamped = ContentPart::Reasoning {
            text: "t".into(),
            signature: Some("S".into()),
            redacted: None,
            origin: Some("gemini".into()),
        };
        let v = serde_json::to_value(&stamped).expect("serializes");
        assert_eq!(v["origin"], "gemini");
        assert_eq!(serde_json::from_value::<ContentPart>(v).ok(), Some(stamped));

        let err = Message::tool_error("call_1", "no such city");
        let v = serde_json::to_value(&err).expect("serializes");
        assert_eq!(v["is_error"], true);
        assert_eq!(serde_json::from_value::<Message>(v).ok(), Some(err));
        let ok = serde_json::to_value(Message::tool_result("call_1", "x")).expect("serializes");
        assert!(ok.get("is_error").is_none(), "false is not written");
    }

    #[test]
    fn usage_adds() {
        let mut u = Usage::new(3, 4);
        u.add(&Usage::new(1, 1));
        assert_eq!(u.total_tokens, 9);
        assert_eq!(u.input_tokens, 4);
        u.add(&Usage::new(u64::MAX, 1));
        assert_eq!(u.input_tokens, u64::MAX);
        assert_eq!(Usage::new(u64::MAX, 5).total_tokens, u64::MAX);
    }
}
