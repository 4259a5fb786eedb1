//! Core requests → `generateContent` bodies, and Gemini answers → core responses.
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
//! [`request`] builds the `generateContent` body (generation config,
//! tools, `extra`), [`messages`] turns core messages into Gemini turns and
//! parts, and [`response`](mod@response) reads Gemini's answers back.

mod messages;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub(crate) use self::request::generate_request;
pub(crate) use self::response::{
    finish_reason, first_candidate, new_id, response, tool_call_id, usage,
};

/// The origin of Gemini's reasoning parts and thought signatures
/// ([`ContentPart::Reasoning`](switchboard_core::ContentPart::Reasoning)'s
/// `origin`); see the module docs.
pub const ORIGIN: &str = "gemini";

/// Google's placeholder for a missing thought signature, documented for
/// conversations that were not produced by Gemini
/// (<https://ai.google.dev/gemini-api/docs/thought-signatures>).
pub const SKIP_THOUGHT_SIGNATURE: &str = "skip_thought_signature_validator";
