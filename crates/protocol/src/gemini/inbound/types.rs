//! The Gemini wire types of the inbound direction: requests as clients send
//! them (read leniently, camelCase or snake_case keys as Google's REST API
//! accepts both) and answers as the gateway writes them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::lenient;

// ---------------------------------------------------------------------------
// Requests (read)
// ---------------------------------------------------------------------------

/// A list, or one bare element (Google's REST API accepts both for repeated
/// fields), or `null` (empty).
fn one_or_many<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        Many(Vec<T>),
        One(T),
    }
    Ok(match Option::<OneOrMany<T>>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::Many(v)) => v,
        Some(OneOrMany::One(t)) => vec![t],
    })
}

/// A `generateContent` / `streamGenerateContent` body from a client.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InRequest {
    /// The conversation (a bare turn is a list of one).
    #[serde(deserialize_with = "one_or_many")]
    pub contents: Vec<InTurn>,
    /// The system prompt.
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<InTurn>,
    /// The tools.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub tools: Vec<InTool>,
    /// `toolConfig`.
    #[serde(alias = "tool_config")]
    pub tool_config: Option<InToolConfig>,
    /// `generationConfig`.
    #[serde(alias = "generation_config")]
    pub generation_config: Option<InGenerationConfig>,
    /// `safetySettings`: Gemini-only, not carried to other providers.
    #[serde(alias = "safety_settings")]
    pub safety_settings: Option<Value>,
    /// `cachedContent`: Gemini-only, refused (it names a Gemini cache).
    #[serde(alias = "cached_content")]
    pub cached_content: Option<String>,
    /// `model`, if the body repeats it (the path's wins).
    pub model: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A turn (`role` is `user` or `model`; none in `systemInstruction`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InTurn {
    /// `user`, `model` (or `function`, an older name for results).
    pub role: Option<String>,
    /// The parts (a bare part is a list of one).
    #[serde(deserialize_with = "one_or_many")]
    pub parts: Vec<InRequestPart>,
}

/// One part of a client's turn.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InRequestPart {
    /// Text.
    pub text: Option<String>,
    /// A thought (reasoning) part.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub thought: bool,
    /// The signature of the part.
    #[serde(alias = "thought_signature")]
    pub thought_signature: Option<String>,
    /// Inline bytes.
    #[serde(alias = "inline_data")]
    pub inline_data: Option<InBlob>,
    /// A file by URI.
    #[serde(alias = "file_data")]
    pub file_data: Option<InFileData>,
    /// A function call (in a `model` turn).
    #[serde(alias = "function_call")]
    pub function_call: Option<InCall>,
    /// A function's result (in a `user` turn).
    #[serde(alias = "function_response")]
    pub function_response: Option<InFunctionResult>,
    /// Other part kinds (`executableCode`, `videoMetadata`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Inline bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InBlob {
    /// The media type.
    #[serde(alias = "mime_type")]
    pub mime_type: String,
    /// Base64 bytes.
    pub data: String,
}

/// A file by URI.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InFileData {
    /// The media type.
    #[serde(alias = "mime_type")]
    pub mime_type: Option<String>,
    /// The URI.
    #[serde(alias = "file_uri")]
    pub file_uri: String,
}

/// A function call replayed by the client.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InCall {
    /// The call's id, when the client kept one.
    pub id: Option<String>,
    /// The function.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// The arguments object.
    pub args: Value,
}

/// A function's result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InFunctionResult {
    /// The id of the call, when the client sends one.
    pub id: Option<String>,
    /// The function.
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub name: String,
    /// The result object.
    pub response: Value,
}

/// A tool entry: only `functionDeclarations` can be served by any provider.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InTool {
    /// The functions.
    #[serde(
        alias = "function_declarations",
        deserialize_with = "lenient::null_as_default"
    )]
    pub function_declarations: Vec<InFunctionDeclaration>,
    /// Other tool kinds (`googleSearch`, `codeExecution`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A function the model may call.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InFunctionDeclaration {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Its parameters, in Gemini's OpenAPI-subset schema.
    pub parameters: Option<Value>,
    /// Its parameters as JSON Schema.
    #[serde(alias = "parameters_json_schema")]
    pub parameters_json_schema: Option<Value>,
}

/// `toolConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InToolConfig {
    /// `functionCallingConfig`.
    #[serde(alias = "function_calling_config")]
    pub function_calling_config: Option<InFunctionCallingConfig>,
}

/// `functionCallingConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InFunctionCallingConfig {
    /// `AUTO`, `ANY`, `NONE` or `VALIDATED`.
    pub mode: Option<String>,
    /// The functions the model may call (with `ANY`).
    #[serde(
        alias = "allowed_function_names",
        deserialize_with = "lenient::null_as_default"
    )]
    pub allowed_function_names: Vec<String>,
}

/// `generationConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InGenerationConfig {
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(alias = "top_p")]
    pub top_p: Option<f32>,
    /// Top-k sampling (kept in `extra.top_k`).
    #[serde(alias = "top_k")]
    pub top_k: Option<f64>,
    /// The output token limit.
    #[serde(alias = "max_output_tokens")]
    pub max_output_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(
        alias = "stop_sequences",
        deserialize_with = "lenient::null_as_default"
    )]
    pub stop_sequences: Vec<String>,
    /// Must be 1 (or absent).
    #[serde(alias = "candidate_count")]
    pub candidate_count: Option<u32>,
    /// Presence penalty.
    #[serde(alias = "presence_penalty")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty.
    #[serde(alias = "frequency_penalty")]
    pub frequency_penalty: Option<f32>,
    /// Sampling seed.
    pub seed: Option<i64>,
    /// `text/plain`, `application/json` (or `text/x.enum`).
    #[serde(alias = "response_mime_type")]
    pub response_mime_type: Option<String>,
    /// The answer's schema in Gemini's OpenAPI subset.
    #[serde(alias = "response_schema")]
    pub response_schema: Option<Value>,
    /// The answer's schema as JSON Schema.
    #[serde(alias = "response_json_schema")]
    pub response_json_schema: Option<Value>,
    /// `thinkingConfig`.
    #[serde(alias = "thinking_config")]
    pub thinking_config: Option<InThinkingConfig>,
    /// Anything else (`responseModalities`, `mediaResolution`, ...): ignored.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `thinkingConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InThinkingConfig {
    /// A token budget (`0`: off, `-1`: dynamic).
    #[serde(alias = "thinking_budget")]
    pub thinking_budget: Option<i64>,
    /// `MINIMAL`, `LOW`, `MEDIUM`, `HIGH` (Gemini 3).
    #[serde(alias = "thinking_level")]
    pub thinking_level: Option<String>,
    /// Whether thought summaries are wanted.
    #[serde(alias = "include_thoughts")]
    pub include_thoughts: Option<bool>,
}

// ---------------------------------------------------------------------------
// Answers (written)
// ---------------------------------------------------------------------------

/// A `GenerateContentResponse` written by the gateway: a whole answer or one
/// chunk of a stream.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutResponse {
    /// One candidate.
    pub candidates: Vec<OutCandidate>,
    /// Token counts (the whole answer; the last chunk of a stream).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<OutUsage>,
    /// The model that answered.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub model_version: String,
    /// The answer's id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub response_id: String,
}

/// The candidate.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutCandidate {
    /// The parts of this answer (or chunk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<OutContent>,
    /// Why the answer ended (the last chunk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<&'static str>,
    /// Always 0.
    pub index: u32,
}

/// A `model` turn.
#[derive(Debug, Default, Serialize)]
pub struct OutContent {
    /// The parts.
    pub parts: Vec<OutPart>,
    /// `model`.
    pub role: &'static str,
}

/// One part of an answer.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutPart {
    /// Text (answer or thought).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A thought part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
    /// A function call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_call: Option<OutCall>,
    /// The signature to send back with this part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

/// A function call in an answer.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct OutCall {
    /// The call's id.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// The function.
    pub name: String,
    /// The arguments object.
    pub args: Value,
}

/// `usageMetadata`.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutUsage {
    /// Prompt tokens.
    pub prompt_token_count: u64,
    /// Answer tokens, thoughts excluded.
    pub candidates_token_count: u64,
    /// All tokens.
    pub total_token_count: u64,
    /// Prompt tokens read from a cache.
    #[serde(skip_serializing_if = "is_zero")]
    pub cached_content_token_count: u64,
    /// Thinking tokens.
    #[serde(skip_serializing_if = "is_zero")]
    pub thoughts_token_count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
