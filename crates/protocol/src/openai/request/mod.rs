//! `ChatRequest` ⇄ OpenAI chat completion request, one file per direction:
//! [`to_wire`] (core → wire, for providers), [`wire_options`] (core → wire
//! fitted to one OpenAI-compatible service, for providers) and [`from_wire`]
//! (wire → core, for the gateway).

mod from_wire;
mod to_wire;
mod wire_options;

pub use from_wire::{InboundChatRequest, from_wire_request, parse_chat_request};
pub(crate) use to_wire::tool_call_to_wire;
pub use to_wire::{MaxTokensField, RequestOptions, to_wire_request};
pub use wire_options::{
    FittedRequest, ParamSpec, UnsupportedParams, WireOptions, to_wire_request_with,
};
