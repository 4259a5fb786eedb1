//! Ollama's JSON, as `api/types.go` in `ollama/ollama` defines it.
//!
//! Requests are written with borrowed data (images can be megabytes of
//! base64); responses are read leniently: every field has a default, `null`
//! is accepted wherever a value may be missing, and fields we do not model
//! are kept in `extra` so they reach [`ChatResponse::extra`](switchboard_core::ChatResponse::extra).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_protocol::lenient;

// ---------------------------------------------------------------------------
// POST /api/chat
// ---------------------------------------------------------------------------

/// The body of `POST /api/chat`.
#[derive(Debug, Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<Message<'a>>,
    /// Always sent: Ollama streams when the field is missing.
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<Tool<'a>>,
    /// `"json"` or a JSON Schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) format: Option<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) options: Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_alive: Option<Value>,
    /// `true`/`false` or `"low"`/`"medium"`/`"high"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) think: Option<Value>,
    /// Request `extra` entries Ollama may understand (`logprobs`, ...).
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// One message of a chat request.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct Message<'a> {
    pub(crate) role: &'static str,
    pub(crate) content: Cow<'a, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) images: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tool_calls: Vec<OutToolCall<'a>>,
    /// On a `tool` message: the function whose result this is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_name: Option<&'a str>,
    /// On a `tool` message: the call it answers (servers that do not know
    /// the field ignore it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_call_id: Option<&'a str>,
}

/// A tool call replayed in an assistant message.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OutToolCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<&'a str>,
    pub(crate) function: OutFunction<'a>,
}

/// The function of a replayed tool call.
#[derive(Debug, Serialize, PartialEq)]
pub(crate) struct OutFunction<'a> {
    pub(crate) index: u32,
    pub(crate) name: &'a str,
    /// A JSON object (Ollama does not take arguments as a string).
    pub(crate) arguments: Value,
}

/// A tool offered to the model.
#[derive(Debug, Serialize)]
pub(crate) struct Tool<'a> {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) function: FunctionDef<'a>,
}

/// A function definition.
#[derive(Debug, Serialize)]
pub(crate) struct FunctionDef<'a> {
    pub(crate) name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
    pub(crate) parameters: &'a Value,
}

/// One object of a chat answer: the whole answer (`stream: false`) or one
/// NDJSON line of a stream. An error line has only `error`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ChatChunk {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) model: String,
    pub(crate) created_at: Option<String>,
    pub(crate) message: Option<ResponseMessage>,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) done: bool,
    pub(crate) done_reason: Option<String>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) total_duration: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) load_duration: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) prompt_eval_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) prompt_eval_duration: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) eval_count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) eval_duration: Option<u64>,
    /// Set on an error line inside a stream (and on error bodies).
    pub(crate) error: Option<Value>,
    /// The HTTP status an error line may carry.
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) status: Option<u64>,
    /// Anything else (`logprobs`, `context`, fields of newer servers).
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// The assistant message of an answer (or its increment, when streaming).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResponseMessage {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) content: String,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) thinking: String,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) tool_calls: Vec<InToolCall>,
}

/// A tool call the model made. Ollama sends it whole, with the arguments as
/// an object; only newer servers give it an `id`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InToolCall {
    pub(crate) id: Option<String>,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) function: InFunction,
}

/// The function of a tool call.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InFunction {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) name: String,
    /// An object (a string from some proxies; `null` when there are none).
    pub(crate) arguments: Value,
}

impl InFunction {
    /// The arguments as JSON text: objects are serialized, a string is
    /// taken as the JSON text itself, nothing is `{}`.
    pub(crate) fn arguments_text(&self) -> String {
        match &self.arguments {
            Value::Null => "{}".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------
// GET /api/tags, POST /api/show
// ---------------------------------------------------------------------------

/// The body of `GET /api/tags`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TagsResponse {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) models: Vec<crate::LocalModel>,
}

/// The body of `POST /api/show`.
#[derive(Debug, Serialize)]
pub(crate) struct ShowRequest<'a> {
    pub(crate) model: &'a str,
}

/// The parts of `POST /api/show`'s answer we use.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ShowResponse {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) details: crate::ModelDetails,
    /// GGUF metadata: `general.architecture`, `<arch>.context_length`, ...
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) model_info: Map<String, Value>,
    /// `completion`, `tools`, `vision`, `thinking`, `embedding`, `insert` (newer servers).
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) capabilities: Vec<String>,
}

// ---------------------------------------------------------------------------
// POST /api/embed
// ---------------------------------------------------------------------------

/// The body of `POST /api/embed`.
#[derive(Debug, Serialize)]
pub(crate) struct EmbedRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) input: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) keep_alive: Option<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) options: Map<String, Value>,
    #[serde(flatten)]
    pub(crate) extra: Map<String, Value>,
}

/// The body `POST /api/embed` answers with.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EmbedResponse {
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) model: String,
    #[serde(deserialize_with = "lenient::null_as_default")]
    pub(crate) embeddings: Vec<Vec<f32>>,
    #[serde(deserialize_with = "lenient::opt_u64_or_none")]
    pub(crate) prompt_eval_count: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_parse_leniently() {
        let c: ChatChunk = serde_json::from_str(
            r#"{"model":"m","message":{"role":"assistant","content":null,"images":null,"tool_calls":null},"done":false,"eval_count":2.0,"logprobs":[1]}"#,
        )
        .expect("parses");
        assert_eq!(c.eval_count, Some(2));
        let m = c.message.expect("message");
        assert!(m.content.is_empty() && m.tool_calls.is_empty());
        assert!(c.extra.contains_key("logprobs"));
        let e: ChatChunk = serde_json::from_str(r#"{"error":"boom"}"#).expect("error line");
        assert_eq!(e.error, Some(Value::String("boom".into())));
    }

    #[test]
    fn arguments_text() {
        let f = |v: Value| InFunction {
            name: "f".into(),
            arguments: v,
        };
        assert_eq!(f(Value::Null).arguments_text(), "{}");
        assert_eq!(
            f(serde_json::json!({"city": "Tokyo"})).arguments_text(),
            r#"{"city":"Tokyo"}"#
        );
        assert_eq!(
            f(Value::String("{\"a\":1}".into())).arguments_text(),
            "{\"a\":1}"
        );
    }
}
