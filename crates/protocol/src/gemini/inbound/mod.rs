//! The inbound direction: Gemini-format clients (Google's `google-genai`
//! SDKs) talking to the gateway.
//!
//! | direction | functions |
//! |---|---|
//! | client request → core | [`parse_generate_content_request`], [`from_wire_request`], [`to_json_schema`] |
//! | core answer → client | [`to_wire_response`], [`answer_parts`], [`finish_reason_to_wire`], [`usage_to_wire`] |
//! | core events → client stream | [`GeminiStreamEncoder`] |
//! | error → client | [`error_body`], [`error_value`], [`rpc_status`] |
//!
//! Signatures: a thought signature from Gemini (or of unknown origin) is
//! written to the client and read back with origin `gemini`; another
//! family's signatures and encrypted reasoning are not written (a Gemini
//! client could only send them back to Gemini, which would reject them).

mod encode;
mod error;
mod from_wire;
mod schema;
mod to_wire;
pub mod types;

pub use self::encode::GeminiStreamEncoder;
pub use self::error::{error_body, error_status, error_value, rpc_status};
pub use self::from_wire::{from_wire_request, parse_generate_content_request};
pub use self::schema::to_json_schema;
pub use self::to_wire::{answer_parts, finish_reason_to_wire, to_wire_response, usage_to_wire};
