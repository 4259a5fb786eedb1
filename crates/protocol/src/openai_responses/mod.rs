//! The OpenAI Responses API wire format (`POST /v1/responses`), inbound:
//! the gateway reads requests and writes response objects and event streams.
//!
//! | direction | functions |
//! |---|---|
//! | wire → core request | [`parse_responses_request`] ([`InboundResponsesRequest`]), [`items_to_messages`] (stored conversations) |
//! | core → response object | [`ResponseTemplate`], [`to_wire_response`], [`output_items`], [`usage_to_wire`] |
//! | events → wire stream | [`ResponsesStreamEncoder`] |
//!
//! Sources: the OpenAI API reference (Responses, streaming events) and the
//! recorded wire examples in `tests/data/openai_responses/`.

mod request;
mod response;
mod stream;

pub use request::{InboundResponsesRequest, items_to_messages, parse_responses_request};
pub use response::{ResponseTemplate, error_code, output_items, to_wire_response, usage_to_wire};
pub use stream::{OnComplete, ResponsesStreamEncoder};
