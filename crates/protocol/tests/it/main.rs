//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod anthropic_cross_protocol;
mod anthropic_requests;
mod anthropic_responses;
mod anthropic_stream;
mod common;
mod gemini_inbound;
mod openai_embeddings_models;
mod openai_errors;
mod openai_forward_stream;
mod openai_requests;
mod openai_responses;
mod openai_responses_api;
mod openai_stream;
mod openai_stream_fields;
mod openai_wire_options;
mod proptest_round_trips;
mod stream_extra;
