//! The Anthropic Messages API wire format (`POST /v1/messages`), with the
//! model list.
//!
//! [`types`] holds the serde wire types. The functions convert both ways:
//!
//! | direction | used by | functions |
//! |---|---|---|
//! | core → wire request | providers | [`to_wire_request`] |
//! | wire → core response | providers | [`parse_messages_response`], [`from_wire_response`], [`parse_models`] |
//! | wire stream → events | providers | [`chat_event_stream`], [`AnthropicStreamDecoder`] |
//! | HTTP error → [`Error`](switchboard_core::Error) | providers | [`error_from_response`] |
//! | wire → core request | gateway | [`parse_messages_request`], [`from_wire_request`] |
//! | core → wire response | gateway | [`to_wire_response`], [`to_wire_models`] |
//! | events → wire stream | gateway | [`AnthropicStreamEncoder`], [`encode_chat_stream`] |
//! | [`Error`](switchboard_core::Error) → error body | gateway | [`error_to_wire`], [`error_body`], [`retry_after_header`] |
//! | reasoning origin ⇄ tagged signature | gateway | [`tag_signature`], [`untag_signature`] (see [Reasoning provenance](#reasoning-provenance)) |
//!
//! # Request mapping (core ⇄ Anthropic)
//!
//! | core | Anthropic | notes |
//! |---|---|---|
//! | `system` / `developer` messages | top-level `system` | wherever they are in the conversation, in order; one text part is sent as a string, several as an array of text blocks (one per part). Back: a string is one system message, an array one system message with a part per block. Non-text parts are an error naming the message |
//! | `user` messages | `user` turns | text → `text`, image → `image` (`source` `base64`, or `url`; a `data:` URL is sent as base64; `detail` has no Anthropic form and is ignored) |
//! | `tool` messages | `tool_result` blocks in a `user` turn | `tool_use_id` = `tool_call_id`; one text part → string `content`, else text/image blocks, no parts → no `content`; `is_error: true` → `is_error: true` (false is not written). Back: `is_error: true` → `is_error`, absent or false → not an error |
//! | consecutive same-role messages | one turn | Anthropic wants alternating roles: consecutive tool results, and a user message right after them, are merged into one `user` turn, blocks in order |
//! | `assistant` messages | `assistant` turns | reasoning whose `origin` is another family's (not `None`, not `"anthropic"`) is left out, signed or not (see [Reasoning provenance](#reasoning-provenance)); otherwise reasoning with `redacted` → `redacted_thinking`; reasoning with a `signature` → `thinking` (text and signature unchanged, in their original position, so a turn's thinking blocks go back first as Anthropic requires); reasoning **without** a signature (another provider's) is left out, since Anthropic only accepts its own signed thinking; text and refusal → `text` (empty text is left out: the API rejects empty text blocks); tool calls → `tool_use` after the content. A turn left with no blocks is skipped |
//! | `ToolCall.arguments` | `tool_use.input` | parsed; empty → `{}`; text that is not a JSON object is an `invalid_request` error naming `messages[i].tool_calls[j].arguments` (a conversation is never sent with silently altered arguments). Back: `input` as compact JSON |
//! | `name` on a message | — | Anthropic has no participant names; not sent |
//! | `max_tokens` | `max_tokens` | required by the API: when absent, [`RequestOptions::default_max_tokens`] ([`DEFAULT_MAX_TOKENS`] = 4096), plus the thinking budget when thinking is on |
//! | `temperature` | `temperature` | Anthropic accepts 0 to 1; a larger value is an `invalid_request` error |
//! | `top_p`, `stop` | `top_p`, `stop_sequences` | |
//! | `extra.top_k` | `top_k` | back: `top_k` → `extra.top_k` |
//! | `seed`, `presence_penalty`, `frequency_penalty`, `metadata` | — | `unsupported` error naming the parameter, unless [`RequestOptions::drop_unsupported`] |
//! | `user` | `metadata.user_id` | other `metadata` fields are rejected (the API rejects them too) |
//! | `tools` | `tools` (`name`, `description`, `input_schema` = `parameters`, `strict`) | back: server tools (a versioned `type`) are an `unsupported` error |
//! | `tool_choice` `auto` / `required` / `none` / tool | `{"type": "auto"}` / `any` / `none` / `{"type": "tool", "name"}` | |
//! | `parallel_tool_calls: false` | `tool_choice.disable_parallel_tool_use: true` | with no `tool_choice`, on an `auto` choice. Back: `disable_parallel_tool_use` → `parallel_tool_calls = !disable` |
//! | `reasoning` | `thinking: {"type": "enabled", "budget_tokens"}` | `budget_tokens` wins; an effort alone maps through [`effort_budget`] (`minimal` 1024, `low` 2048, `medium` 8192, `high` 16384). Back: `enabled` → `budget_tokens`; `disabled` → no reasoning; other thinking types → `extra.thinking`, sent back verbatim |
//! | `response_format` `json_schema` | `output_config.format: {"type": "json_schema", "schema"}` | Anthropic's structured outputs (the schema's `name`, `description` and `strict` have no Anthropic form). `json_object` is an `unsupported` error (Anthropic has no schema-less JSON mode). Back: the format's name is [`DEFAULT_SCHEMA_NAME`]; other `output_config` fields (`effort`) → `extra.output_config`, merged back |
//! | `extra` | top-level fields | other entries are sent verbatim (`service_tier`, `container`, `mcp_servers`, ...); entries duplicating a typed field (`system`, `stop_sequences`, `max_tokens`, ...) or `stream` are an `invalid_request` error naming `extra.<key>` |
//!
//! Inbound (Anthropic → core), blocks and fields the core cannot represent
//! are errors naming them (`document`, `search_result` and server-tool
//! blocks, `file` image sources, unknown fields), except three kinds of
//! annotations that are accepted and dropped, because the core has no place
//! for them and they do not change the answer: `cache_control` (prompt-cache
//! breakpoints; providers can set their own, see
//! [`RequestOptions::cache_breakpoints`]), `citations` on text blocks, and
//! the `caller` the API adds to `tool_use` blocks.
//!
//! # Reasoning provenance
//!
//! A thinking block's `signature` and a `redacted_thinking` block's `data`
//! are only valid for the provider family that produced them, which the
//! core records as the reasoning part's `origin`
//! ([`ContentPart::Reasoning`](switchboard_core::ContentPart::Reasoning)).
//! The rule:
//!
//! - **Providers (wire → core)**: `thinking` and `redacted_thinking` blocks
//!   read from the API, whole or streamed, get origin [`ORIGIN`]
//!   (`"anthropic"`); their signatures are kept exactly as sent (never
//!   untagged: a tag from an upstream Switchboard goes back to it as it
//!   came). A streamed
//!   `redacted_thinking` block becomes one
//!   [`ChatEvent::RedactedReasoning`](switchboard_core::ChatEvent::RedactedReasoning).
//! - **Providers (core → wire)**: reasoning is sent only when its origin is
//!   `None` (unknown: conversations saved before origins were recorded) or
//!   `"anthropic"`; another family's reasoning is left out, like unsigned
//!   reasoning already is. Anthropic would reject the foreign signature.
//! - **Gateway (core → wire answers and streams)**: a signature or
//!   redacted data whose origin is another family's is written **tagged**,
//!   `sb1:<origin>:<signature>` ([`tag_signature`]), so that a client that
//!   sends the conversation back (as Anthropic clients do) hands the gateway
//!   its origin too. Anthropic's own and unknown-origin signatures are
//!   written unchanged.
//! - **Gateway (wire → core requests)**: a signature or redacted data that
//!   is a well-formed tag gets the tag's origin and the raw signature
//!   ([`untag_signature`]); any other (including a malformed tag such as
//!   `sb1:` or `sb1::x`) is a plain Anthropic signature, origin `"anthropic"`.
//!   An empty signature stays unsigned, with no origin.
//!
//! So a conversation served by Gemini through the Anthropic API keeps
//! Gemini's signatures for Gemini, and never sends them to Anthropic.
//!
//! # Response mapping
//!
//! See [`from_wire_response`] and [`to_wire_response`]: blocks in order,
//! `stop_reason` via [`finish_reason_from_wire`] (`end_turn` /
//! `stop_sequence` → stop, `max_tokens` → length, `tool_use` → tool calls,
//! `refusal` → content filter, `pause_turn` → other), and usage via
//! [`usage_from_wire`]: **Anthropic's `input_tokens` excludes cached
//! tokens**, the core's includes them, so core `input_tokens` =
//! `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`,
//! with `cached_input_tokens` = the cache read and `cache_write_input_tokens`
//! = the cache write ([`usage_to_wire`] subtracts them back).
//!
//! ```
//! use switchboard_core::{ChatRequest, Message};
//! use switchboard_protocol::anthropic::{self, RequestOptions};
//!
//! let req = ChatRequest::new("claude-sonnet-4-5", vec![Message::system("Be brief."), Message::user("Hi")]);
//! let wire = anthropic::to_wire_request(&req, &RequestOptions::default())?.streaming();
//! let body = serde_json::to_string(&wire).expect("serializable");
//! assert_eq!(body, r#"{"model":"claude-sonnet-4-5","max_tokens":4096,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}],"stream":true}"#);
//!
//! let sse = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n\
//! event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
//! event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n\
//! event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n\
//! event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
//! let events = anthropic::decode_chat_events(sse)?;
//! assert_eq!(events.len(), 4); // Start, TextDelta, Usage, Finish
//! # Ok::<(), switchboard_core::Error>(())
//! ```

mod error;
mod models;
mod origin;
mod request;
mod response;
mod stream;
pub mod types;

pub use error::{
    error_body, error_from_parts, error_from_response, error_from_value, error_status,
    error_to_wire, error_type, is_context_length_message, retry_after_header,
};
pub use models::{
    ModelPage, format_rfc3339, from_wire_model, from_wire_models, parse_models, parse_rfc3339,
    to_wire_models,
};
pub use origin::{ORIGIN, SIGNATURE_TAG_PREFIX, is_valid_origin, tag_signature, untag_signature};
pub use request::{
    DEFAULT_MAX_TOKENS, DEFAULT_SCHEMA_NAME, InboundMessagesRequest, RAW_ARGUMENTS_KEY,
    RequestOptions, effort_budget, from_wire_request, parse_messages_request, to_wire_request,
};
pub use response::{
    arguments_to_input, delta_usage_to_wire, extra_keys, finish_reason_from_wire,
    from_wire_response, parse_messages_response, stop_reason_to_wire, to_wire_response,
    usage_from_wire, usage_to_wire,
};
pub use stream::{
    AnthropicEventStream, AnthropicStreamDecoder, AnthropicStreamEncoder, FALLBACK_MESSAGE_ID,
    chat_event_stream, decode_chat_events, encode_chat_stream,
};
pub use types::{
    ContentBlock, ErrorResponse, MessagesRequest, MessagesResponse, ModelList, StreamEvent,
};
