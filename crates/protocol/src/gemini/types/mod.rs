//! The Gemini API's JSON (`v1beta`; Vertex AI's `v1` is the same), as Google's SDKs (`googleapis/js-genai`
//! `src/types.ts`) and recorded traffic show it.
//!
//! Requests are written with borrowed data; responses are read leniently:
//! every field is optional, `null` is accepted, and fields we do not model
//! are kept (`extra`) so they reach [`ChatResponse::extra`](switchboard_core::ChatResponse::extra).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// The body of `:generateContent` and `:streamGenerateContent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentRequest<'a> {
    /// The conversation, oldest turn first.
    pub contents: Vec<Content<'a>>,
    /// The system prompt (`systemInstruction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_instruction: Option<Content<'a>>,
    /// The tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// `toolConfig`: how functions may be called (`functionCallingConfig`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<Value>,
    /// `safetySettings`: blocking thresholds by harm category.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub safety_settings: Vec<SafetySetting>,
    /// `generationConfig`: temperature, limits, response format, thinking, ...
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub generation_config: Map<String, Value>,
    /// Request `extra` entries for the top level (`cachedContent`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A turn: `user` or `model` (no role in `systemInstruction`).
#[derive(Debug, Serialize, PartialEq)]
pub struct Content<'a> {
    /// `user` or `model`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// The parts, in order.
    pub parts: Vec<Part<'a>>,
}

/// One part of a turn. Exactly one of the data fields is set.
#[derive(Debug, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Part<'a> {
    /// Text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Cow<'a, str>>,
    /// Marks a reasoning ("thought") part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// Inline bytes (`inlineData`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_data: Option<Blob<'a>>,
    /// A file by URI (`fileData`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_data: Option<FileData<'a>>,
    /// A function call (`functionCall`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall<'a>>,
    /// A function's result (`functionResponse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_response: Option<FunctionResponse<'a>>,
    /// The opaque signature Gemini attached to this part; sent back unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<Cow<'a, str>>,
}

/// Inline bytes.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Blob<'a> {
    /// The media type (`mimeType`).
    pub mime_type: Cow<'a, str>,
    /// The bytes, base64.
    pub data: &'a str,
}

/// A file uploaded through the Files API (or a `gs://` object).
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileData<'a> {
    /// The media type (`mimeType`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<&'static str>,
    /// The file's URI (`fileUri`): a Files API URL or `gs://` object.
    pub file_uri: &'a str,
}

/// A function call replayed in a `model` turn.
#[derive(Debug, Serialize, PartialEq)]
pub struct FunctionCall<'a> {
    /// The function's name.
    pub name: &'a str,
    /// A JSON object (`google.protobuf.Struct`).
    pub args: Value,
}

/// A function's result, in a `user` turn. Gemini matches it to the call by `name`.
#[derive(Debug, Serialize, PartialEq)]
pub struct FunctionResponse<'a> {
    /// The function's name.
    pub name: &'a str,
    /// A JSON object (`google.protobuf.Struct`).
    pub response: Value,
}

/// A tool: here, a set of function declarations.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    /// The functions (`functionDeclarations`).
    pub function_declarations: Vec<FunctionDeclaration>,
}

/// One function the model may call.
#[derive(Debug, Serialize)]
pub struct FunctionDeclaration {
    /// The function's name.
    pub name: String,
    /// What the function does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The sanitized schema; absent for a function without parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// The body of `:batchEmbedContents`.
#[derive(Debug, Serialize)]
pub struct BatchEmbedRequest<'a> {
    /// One request per text.
    pub requests: Vec<EmbedContentRequest<'a>>,
}

/// One text to embed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmbedContentRequest<'a> {
    /// `models/<id>`.
    pub model: &'a str,
    /// The text to embed.
    pub content: Content<'a>,
    /// The vector size (`outputDimensionality`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
    /// `taskType`, `title` from the request's `extra`.
    #[serde(flatten)]
    pub extra: &'a Map<String, Value>,
}

/// One `safetySettings` entry: a harm category and the threshold at which
/// content is blocked (`BLOCK_NONE`, `BLOCK_ONLY_HIGH`, `BLOCK_MEDIUM_AND_ABOVE`,
/// `BLOCK_LOW_AND_ABOVE`, `OFF`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetySetting {
    /// The harm category, e.g. `HARM_CATEGORY_DANGEROUS_CONTENT`.
    pub category: String,
    /// The blocking threshold, e.g. `BLOCK_ONLY_HIGH`.
    pub threshold: String,
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A `GenerateContentResponse`: the whole answer, or one event of a stream.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// The candidate answers (one unless `candidateCount` > 1).
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub candidates: Vec<Candidate>,
    /// Why the prompt was blocked (`promptFeedback`), if it was.
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token counts (`usageMetadata`); cumulative in a stream.
    pub usage_metadata: Option<UsageMetadata>,
    /// The model that answered (`modelVersion`).
    pub model_version: Option<String>,
    /// The answer's id (`responseId`).
    pub response_id: Option<String>,
    /// An error object, when one arrives inside a stream.
    pub error: Option<Value>,
    /// Fields not modelled here, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One candidate answer (only the first is read).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Candidate {
    /// The text to embed.
    pub content: Option<InContent>,
    /// Why the answer ended (`finishReason`), on the last event.
    pub finish_reason: Option<String>,
    /// The candidate's index.
    pub index: Option<u32>,
    /// `safetyRatings`, `citationMetadata`, `groundingMetadata`,
    /// `finishMessage`, `avgLogprobs`, ...
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The content of a candidate. `parts` may be missing (e.g. when the whole
/// output budget went to thinking).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InContent {
    /// The parts, in order.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub parts: Vec<InPart>,
}

/// A part of an answer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InPart {
    /// Text.
    pub text: Option<String>,
    /// Whether this is a thought (reasoning) part.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub thought: bool,
    /// The opaque signature attached to this part (`thoughtSignature`).
    pub thought_signature: Option<String>,
    /// A function call (`functionCall`).
    pub function_call: Option<InFunctionCall>,
}

/// A function call the model made: whole, with its arguments as an object.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InFunctionCall {
    /// Only some models and API versions give calls an id.
    pub id: Option<String>,
    /// The function's name.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// The arguments.
    pub args: Value,
}

impl InFunctionCall {
    /// The arguments as JSON text; no arguments is `{}`.
    pub fn arguments_text(&self) -> String {
        match &self.args {
            Value::Null => "{}".to_owned(),
            other => other.to_string(),
        }
    }
}

/// Why the prompt itself was blocked, if it was.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PromptFeedback {
    /// Why the prompt was blocked (`blockReason`).
    pub block_reason: Option<String>,
    /// Fields not modelled here, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Token counts. `candidatesTokenCount` does **not** include
/// `thoughtsTokenCount`; `totalTokenCount` is the sum of prompt, tool-use
/// prompt, candidates and thoughts.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UsageMetadata {
    /// Prompt tokens (`promptTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub prompt_token_count: Option<u64>,
    /// Output tokens, thoughts excluded (`candidatesTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub candidates_token_count: Option<u64>,
    /// Prompt tokens read from the cache (`cachedContentTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub cached_content_token_count: Option<u64>,
    /// Thinking tokens (`thoughtsTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub thoughts_token_count: Option<u64>,
    /// Tokens of tool-use prompts (`toolUsePromptTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub tool_use_prompt_token_count: Option<u64>,
    /// All tokens (`totalTokenCount`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub total_token_count: Option<u64>,
}

/// A page of `GET /v1beta/models`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ModelList {
    /// The models of this page.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub models: Vec<Model>,
    /// The token of the next page (`nextPageToken`), if any.
    pub next_page_token: Option<String>,
}

/// A model as the API lists it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Model {
    /// `models/<id>`.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// A human-readable name (`displayName`).
    pub display_name: Option<String>,
    /// The context size (`inputTokenLimit`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub input_token_limit: Option<u64>,
    /// The most output tokens (`outputTokenLimit`).
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub output_token_limit: Option<u64>,
    /// The methods the model serves (`supportedGenerationMethods`).
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub supported_generation_methods: Vec<String>,
    /// Whether the model thinks (newer API versions).
    pub thinking: Option<bool>,
}

/// The answer of `:batchEmbedContents`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BatchEmbedResponse {
    /// One vector per request, in order.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub embeddings: Vec<Embedding>,
}

/// One vector.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Embedding {
    /// The vector.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub values: Vec<f32>,
}
