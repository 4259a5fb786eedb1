//! The Gemini API's JSON (`v1beta`), as Google's SDKs (`googleapis/js-genai`
//! `src/types.ts`) and recorded traffic show it.
//!
//! Requests are written with borrowed data; responses are read leniently:
//! every field is optional, `null` is accepted, and fields we do not model
//! are kept (`extra`) so they reach [`ChatResponse::extra`](switchboard_core::ChatResponse::extra).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_protocol::lenient;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// The body of `:generateContent` and `:streamGenerateContent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentRequest<'a> {
    pub(crate) contents: Vec<Content<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) system_instruction: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) safety_settings: Vec<crate::SafetySetting>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) generation_config: Map<String, Value>,
    /// Request `extra` entries for the top level (`cachedContent`, ...).
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// A turn: `user` or `model` (no role in `systemInstruction`).
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) role: Option<&'static str>,
    pub(crate) parts: Vec<Part<'a>>,
}

/// One part of a turn. Exactly one of the data fields is set.
#[derive(Debug, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<Cow<'a, str>>,
    /// Marks a reasoning ("thought") part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thought: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inline_data: Option<Blob<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) file_data: Option<FileData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) function_call: Option<FunctionCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) function_response: Option<FunctionResponse<'a>>,
    /// The opaque signature Gemini attached to this part; sent back unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thought_signature: Option<Cow<'a, str>>,
}

/// Inline bytes.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Blob<'a> {
    pub(crate) mime_type: Cow<'a, str>,
    pub(crate) data: &'a str,
}

/// A file uploaded through the Files API (or a `gs://` object).
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileData<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mime_type: Option<&'static str>,
    pub(crate) file_uri: &'a str,
}

/// A function call replayed in a `model` turn.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct FunctionCall<'a> {
    pub(crate) name: &'a str,
    /// A JSON object (`google.protobuf.Struct`).
    pub(crate) args: Value,
}

/// A function's result, in a `user` turn. Gemini matches it to the call by `name`.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct FunctionResponse<'a> {
    pub(crate) name: &'a str,
    /// A JSON object (`google.protobuf.Struct`).
    pub(crate) response: Value,
}

/// A tool: here, a set of function declarations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tool {
    pub(crate) function_declarations: Vec<FunctionDeclaration>,
}

/// One function the model may call.
#[derive(Debug, Serialize)]
pub(crate) struct FunctionDeclaration {
    pub(crate) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// The sanitized schema; absent for a function without parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parameters: Option<Value>,
}

/// The body of `:batchEmbedContents`.
#[derive(Debug, Serialize)]
pub(crate) struct BatchEmbedRequest<'a> {
    pub(crate) requests: Vec<EmbedContentRequest<'a>>,
}

/// One text to embed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmbedContentRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) content: Content<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) output_dimensionality: Option<u32>,
    /// `taskType`, `title` from the request's `extra`.
    #[serde(flatten)]
    pub(crate) extra: &'a Map<String, Value>,
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A `GenerateContentResponse`: the whole answer, or one event of a stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct GenerateContentResponse {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) prompt_feedback: Option<PromptFeedback>,
    pub(crate) usage_metadata: Option<UsageMetadata>,
    pub(crate) model_version: Option<String>,
    pub(crate) response_id: Option<String>,
    /// An error object, when one arrives inside a stream.
    pub(crate) error: Option<Value>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// One candidate answer (only the first is read).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Candidate {
    pub(crate) content: Option<InContent>,
    pub(crate) finish_reason: Option<String>,
    pub(crate) index: Option<u32>,
    /// `safetyRatings`, `citationMetadata`, `groundingMetadata`,
    /// `finishMessage`, `avgLogprobs`, ...
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// The content of a candidate. `parts` may be missing (e.g. when the whole
/// output budget went to thinking).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InContent {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) parts: Vec<InPart>,
}

/// A part of an answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct InPart {
    pub(crate) text: Option<String>,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) thought: bool,
    pub(crate) thought_signature: Option<String>,
    pub(crate) function_call: Option<InFunctionCall>,
}

/// A function call the model made: whole, with its arguments as an object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InFunctionCall {
    /// Only some models and API versions give calls an id.
    pub(crate) id: Option<String>,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) name: String,
    pub(crate) args: Value,
}

impl InFunctionCall {
    /// The arguments as JSON text; no arguments is `{}`.
    pub(crate) fn arguments_text(&self) -> String {
        match &self.args {
            Value::Null => "{}".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Why the prompt itself was blocked, if it was.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    pub(crate) block_reason: Option<String>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// Token counts. `candidatesTokenCount` does **not** include
/// `thoughtsTokenCount`; `totalTokenCount` is the sum of prompt, tool-use
/// prompt, candidates and thoughts.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) prompt_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) candidates_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) cached_content_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) thoughts_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) tool_use_prompt_token_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) total_token_count: Option<u64>,
}

/// A page of `GET /v1beta/models`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ModelList {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) models: Vec<Model>,
    pub(crate) next_page_token: Option<String>,
}

/// A model as the API lists it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Model {
    /// `models/<id>`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) name: String,
    pub(crate) display_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) input_token_limit: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) output_token_limit: Option<u64>,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) supported_generation_methods: Vec<String>,
    /// Whether the model thinks (newer API versions).
    pub(crate) thinking: Option<bool>,
}

/// The answer of `:batchEmbedContents`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BatchEmbedResponse {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) embeddings: Vec<Embedding>,
}

/// One vector.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Embedding {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) values: Vec<f32>,
}
