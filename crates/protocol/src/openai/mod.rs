//! The OpenAI Chat Completions wire format (also spoken by Groq, Together,
//! OpenRouter, DeepInfra, Mistral, DeepSeek, vLLM, llama.cpp, LM Studio, Ollama's
//! `/v1`), with Models and Embeddings.
//!
//! [`types`] holds the serde wire types. The functions convert both ways:
//!
//! | direction | used by | functions |
//! |---|---|---|
//! | core → wire request | providers | [`to_wire_request`], [`to_wire_embeddings_request`] |
//! | core → wire request, fitted to an OpenAI-compatible service | providers | [`to_wire_request_with`] ([`WireOptions`], [`ParamSpec`], [`UnsupportedParams`]) |
//! | wire → core response | providers | [`parse_chat_response`], [`from_wire_response`], [`parse_embeddings_response`], [`parse_models`] |
//! | wire stream → events | providers | [`chat_event_stream`], [`OpenAiStreamDecoder`] |
//! | client request → upstream, answer → client, as they came (the same-format fast path) | providers | [`forward_chat`], [`retarget_request`], [`forwarded_usage`]; streamed: [`forward_chat_stream`], [`stream_request`], [`ForwardedChunks`] |
//! | HTTP error → [`Error`](switchboard_core::Error) | providers | [`error_from_response`] |
//! | wire → core request | gateway | [`parse_chat_request`], [`from_wire_request`], [`parse_embeddings_request`] |
//! | core → wire response | gateway | [`to_wire_response`], [`to_wire_embeddings_response`], [`to_wire_models`] |
//! | events → wire stream | gateway | [`OpenAiStreamEncoder`], [`encode_chat_stream`] |
//! | [`Error`](switchboard_core::Error) → error body | gateway | [`error_to_wire`], [`error_body`], [`retry_after_header`] |

mod embeddings;
mod error;
mod forward;
mod forward_stream;
mod models;
mod request;
mod response;
mod stream;
pub mod types;

pub use embeddings::{
    InboundEmbeddingsRequest, decode_base64_vector, encode_base64_vector,
    from_wire_embeddings_request, from_wire_embeddings_response, parse_embeddings_request,
    parse_embeddings_response, to_wire_embeddings_request, to_wire_embeddings_response,
};
pub use error::{
    error_body, error_code, error_from_parts, error_from_response, error_from_value, error_to_wire,
    error_type, retry_after_header,
};
pub use forward::{forward_chat, forwarded_usage, retarget_request};
pub use forward_stream::{ForwardedChunks, forward_chat_stream, stream_request};
pub use models::{from_wire_model, from_wire_models, parse_models, to_wire_models};
pub use request::{
    FittedRequest, InboundChatRequest, MaxTokensField, ParamSpec, RequestOptions,
    UnsupportedParams, WireOptions, from_wire_request, parse_chat_request, to_wire_request,
    to_wire_request_with,
};
pub use response::{
    extra_keys, from_wire_response, parse_chat_response, to_wire_response, usage_from_wire,
    usage_to_wire,
};
pub use stream::{
    FALLBACK_COMPLETION_ID, OpenAiEventStream, OpenAiStreamDecoder, OpenAiStreamEncoder,
    chat_event_stream, decode_chat_events, encode_chat_stream,
};
pub use types::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, CreateEmbeddingRequest,
    CreateEmbeddingResponse, EncodingFormat, ErrorResponse, ModelList,
};
