//! The Gemini API wire format (`generateContent`,
//! `streamGenerateContent?alt=sse`, `batchEmbedContents`, models), as
//! Google's Gemini API and Vertex AI's `publishers/google` models speak it.
//!
//! [`types`] holds the serde wire types. The functions convert:
//!
//! | direction | used by | functions |
//! |---|---|---|
//! | core → wire request | providers (`gemini`, `vertex`) | [`to_wire_request`] ([`RequestOptions`]), [`effort_budget`] |
//! | JSON Schema → Gemini's schema subset | providers | [`sanitize_schema`], [`schema::function_parameters`] |
//! | wire → core response | providers | [`from_wire_response`], [`parse_response`], [`finish_reason`], [`usage_from_wire`] |
//! | wire stream → events | providers | [`GeminiStreamDecoder`] (an [`EventDecoder`](crate::sse::EventDecoder)) |
//! | HTTP error → [`Error`](switchboard_core::Error) | providers | [`error_from_response`], [`error_from_value`] |
//! | client request → core, core → client answer/stream/error | the server's Gemini inbound API | [`inbound`] |
//!
//! # Thought signatures
//!
//! Gemini attaches an opaque `thoughtSignature` to some parts of an answer
//! — thought parts, the first `functionCall` part of a step, the last text
//! part — and Gemini 3 models reject a later turn whose replayed function
//! calls lack theirs (`Function call is missing a thought_signature in
//! functionCall parts`). The core vocabulary keeps signatures only on
//! reasoning parts, so they are carried like this:
//!
//! - a **thought** part becomes a reasoning part with its text and signature;
//! - a signature on any **other** part becomes a *signature carrier* — a
//!   reasoning part with empty text and the signature — placed just before
//!   that part's text, or, for a function call, at the end of the content
//!   (the message's tool calls come after its content);
//! - when the message is sent back, a carrier's signature goes on the next
//!   part written (text or image), and a carrier with no part after it goes
//!   on the message's first function call — or, if there is none, on an
//!   empty text part. An empty signature means none.
//!
//! When the first replayed function call of a turn still has no signature
//! (the conversation came through a client that drops them, such as an
//! OpenAI-format client), Google's documented placeholder
//! [`SKIP_THOUGHT_SIGNATURE`] is sent instead (`thought_signature_fallback`).
//!
//! # Provenance
//!
//! Gemini rejects thought signatures it did not issue, so every reasoning
//! part read from Gemini — thought parts and signature carriers, whole or
//! streamed — gets origin [`ORIGIN`] (`"gemini"`), and a reasoning part is
//! replayed (thought text, signature, carrier) only when its origin is
//! `None` (unknown: conversations saved before origins were recorded) or
//! `"gemini"`. Another family's reasoning — an Anthropic thinking block, say
//! — is left out whole, signed or not; the fallback above still gives the
//! turn's first function call its placeholder.
//!
//! # Tool errors
//!
//! A tool message with `is_error` sends its result under
//! `functionResponse.response.error` — the key Google's docs name for a
//! function's error details — instead of `output`: `{"error": <the result
//! object, or its text>}`.
//!
//! # Layout
//!
//! `request` builds the `generateContent` body (generation config, tools,
//! `extra`; core messages into Gemini turns and parts), `response` reads
//! Gemini's answers back, `stream` decodes streamed answers and `error`
//! classifies Google's error bodies.

mod error;
pub mod inbound;
mod request;
mod response;
pub mod schema;
mod stream;
#[cfg(test)]
mod tests;
pub mod types;

pub use self::error::{error_from_response, error_from_value};
pub use self::request::{RequestOptions, effort_budget, to_wire_request};
pub use self::response::{finish_reason, from_wire_response, parse_response, usage_from_wire};
pub(crate) use self::response::{first_candidate, new_id, tool_call_id};
pub use self::schema::sanitize_schema;
pub use self::stream::GeminiStreamDecoder;
pub use self::types::{GenerateContentRequest, GenerateContentResponse, SafetySetting};

/// The origin of Gemini's reasoning parts and thought signatures
/// ([`ContentPart::Reasoning`](switchboard_core::ContentPart::Reasoning)'s
/// `origin`); see the module docs.
pub const ORIGIN: &str = "gemini";

/// Google's placeholder for a missing thought signature, documented for
/// conversations that were not produced by Gemini
/// (<https://ai.google.dev/gemini-api/docs/thought-signatures>).
pub const SKIP_THOUGHT_SIGNATURE: &str = "skip_thought_signature_validator";
