//! Stream event types: the events of a streamed Messages response and their deltas.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ErrorObject;
use super::request::ContentBlock;
use super::response::MessagesResponse;
use crate::lenient;

/// The `data:` payload of one stream event (its `type` is also the SSE `event:` name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent<'a> {
    /// The answer began: a message with empty `content` and the initial usage.
    MessageStart {
        /// The message so far.
        #[serde(borrow)]
        message: MessagesResponse<'a>,
    },
    /// A content block began.
    ContentBlockStart {
        /// The block's position in the final `content`.
        index: u32,
        /// The block with empty text / input.
        #[serde(borrow)]
        content_block: ContentBlock<'a>,
    },
    /// More of a content block.
    ContentBlockDelta {
        /// The block's position.
        index: u32,
        /// What is new.
        #[serde(borrow)]
        delta: BlockDelta<'a>,
    },
    /// A content block is complete.
    ContentBlockStop {
        /// The block's position.
        index: u32,
    },
    /// Top-level changes: the stop reason and the cumulative usage.
    MessageDelta {
        /// `stop_reason` and `stop_sequence`.
        #[serde(borrow)]
        delta: MessageDeltaBody<'a>,
        /// Cumulative token counts.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<MessageDeltaUsage>,
    },
    /// The answer is complete.
    MessageStop,
    /// A keep-alive.
    Ping,
    /// An error after the stream began (e.g. `overloaded_error`).
    Error {
        /// The error.
        #[serde(borrow)]
        error: ErrorObject<'a>,
    },
    /// An event type this module does not know (tolerated, per the API's versioning policy).
    /// Serializes as `{"type": "unknown"}`.
    #[serde(other)]
    Unknown,
}

impl StreamEvent<'_> {
    /// The event's `type`, which is also its SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::MessageStart { .. } => "message_start",
            StreamEvent::ContentBlockStart { .. } => "content_block_start",
            StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
            StreamEvent::ContentBlockStop { .. } => "content_block_stop",
            StreamEvent::MessageDelta { .. } => "message_delta",
            StreamEvent::MessageStop => "message_stop",
            StreamEvent::Ping => "ping",
            StreamEvent::Error { .. } => "error",
            StreamEvent::Unknown => "unknown",
        }
    }
}

/// The `delta` of a `content_block_delta` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta<'a> {
    /// More text of a `text` block.
    TextDelta {
        /// The new text.
        #[serde(borrow)]
        text: Cow<'a, str>,
    },
    /// More of a `tool_use` block's input, as a fragment of its JSON text.
    InputJsonDelta {
        /// The fragment (the first one is often empty).
        #[serde(borrow)]
        partial_json: Cow<'a, str>,
    },
    /// More text of a `thinking` block.
    ThinkingDelta {
        /// The new thinking text.
        #[serde(borrow)]
        thinking: Cow<'a, str>,
    },
    /// The signature of a `thinking` block, just before its `content_block_stop`.
    SignatureDelta {
        /// The signature.
        #[serde(borrow)]
        signature: Cow<'a, str>,
    },
    /// A citation added to a `text` block.
    CitationsDelta {
        /// The citation.
        citation: Value,
    },
    /// A delta type this module does not know. Serializes as `{"type": "unknown"}`.
    #[serde(other)]
    Unknown,
}

/// The `delta` of a `message_delta` event. Both fields are written, `null` when absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaBody<'a> {
    /// Why the answer ended.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub stop_reason: Option<Cow<'a, str>>,
    /// The stop sequence that ended it.
    #[serde(borrow, default, deserialize_with = "lenient::opt_cow")]
    pub stop_sequence: Option<Cow<'a, str>>,
    /// Other fields, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage` of a `message_delta` event: cumulative counts; fields that are
/// absent did not change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaUsage {
    /// Uncached prompt tokens (the live API repeats it here).
    #[serde(
        default,
        deserialize_with = "lenient::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub input_tokens: Option<u64>,
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
    /// Generated tokens so far (cumulative).
    #[serde(default, deserialize_with = "lenient::u64")]
    pub output_tokens: u64,
    /// Other fields (`server_tool_use`), kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
