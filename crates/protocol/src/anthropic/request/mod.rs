//! `ChatRequest` ⇄ Anthropic Messages request, one file per direction:
//! [`to_wire`] (core → wire, for providers) and [`from_wire`] (wire → core,
//! for the gateway).

mod from_wire;
mod to_wire;

pub use from_wire::{InboundMessagesRequest, from_wire_request, parse_messages_request};
pub(crate) use to_wire::parse_arguments;
pub use to_wire::{
    DEFAULT_MAX_TOKENS, DEFAULT_SCHEMA_NAME, RAW_ARGUMENTS_KEY, RequestOptions, effort_budget,
    to_wire_request,
};
