//! Response types: a whole Messages response and its usage.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::request::ContentBlock;
use crate::lenient;

fn message_type() -> Cow<'static, str> {
    Cow::Borrowed("message")
}

fn assistant_role() -> Cow<'static, str> {
    Cow::Borrowed("assistant")
}

/// `POST /v1/messages` response body (not streamed), and the `message` of a
/// stream's `message_start` event.
///
/// `stop_reason` and `stop_sequence` are written as `null` when absent, as
/// the API does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse<'a> {
    /// The message id (`msg_...`).
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    /// `message` (an error body has `error`).
    #[serde(rename = "type", borrow, default = "message_type")]
    pub kind: Cow<'a, str>,
    /// `assistant`.
    #[serde(borrow, default = "assistant_role")]
    pub role: Cow<'a, str>,
    /// The answer's blocks, in order.
    #[serde(borrow, default, deserialize_with = "lenient::null_as_default")]
    pub content: Vec<ContentBlock<'a>>,
    /// The model that answered.
    #[serde(borrow, default)]
    pub model: Cow<'a, str>,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`, ...
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub stop_reason: Option<Cow<'a, str>>,
    /// The stop sequence that ended the answer, if one did.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub stop_sequence: Option<Cow<'a, str>>,
    /// Token counts.
    #[serde(default, deserialize_with = "lenient::null_as_default")]
    pub usage: MessageUsage,
    /// Every other field, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for MessagesResponse<'_> {
    fn default() -> Self {
        MessagesResponse {
            id: Cow::Borrowed(""),
            kind: message_type(),
            role: assistant_role(),
            content: Vec::new(),
            model: Cow::Borrowed(""),
            stop_reason: None,
            stop_sequence: None,
            usage: MessageUsage::default(),
            extra: Map::new(),
        }
    }
}

/// `usage` of a response or of `message_start`.
///
/// `input_tokens` counts only the prompt tokens that were neither read from
/// nor written to the cache: the prompt's size is the sum of the three.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageUsage {
    /// Prompt tokens after the last cache breakpoint (not cached, not cache-written).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub input_tokens: u64,
    /// Prompt tokens written to the cache.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_creation_input_tokens: Option<u64>,
    /// Prompt tokens read from the cache.
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache_read_input_tokens: Option<u64>,
    /// Generated tokens (thinking included).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub output_tokens: u64,
    /// Other fields (`cache_creation`, `service_tier`, `server_tool_use`, `inference_geo`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
