//! The same-format fast path's vocabulary: a chat request as the client
//! sent it, in the wire format of the provider that will answer it
//! ([`ForwardRequest`]), and that provider's answer as the upstream sent it
//! ([`ForwardedReply`]).
//!
//! When the inbound API and a provider's wire format are the same (OpenAI
//! in, OpenAI out), parsing the request into the core vocabulary and
//! encoding it again, then doing the same to the answer, only costs time
//! and loses what the gateway has no field for. A provider that says it
//! [`forwards`](crate::Provider::forwards) a request sends the client's
//! bytes with only `model` changed and hands back the upstream's bytes.

use bytes::Bytes;

use crate::extension::InboundApi;
use crate::{ChatRequest, Usage};

/// A chat request as the client sent it: its bytes, and the request parsed
/// and validated from them (what routing, limits and errors read).
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    /// The wire format of [`body`](Self::body).
    pub api: InboundApi,
    /// The request parsed from `body`. The router sets its `model` to each
    /// target's model; nothing else of it changes.
    pub request: ChatRequest,
    /// The model as the client named it in `body`.
    pub sent_model: String,
    /// The client's body, unchanged.
    pub body: Bytes,
}

impl ForwardRequest {
    /// `request`, parsed from `body` in `api`'s wire format.
    pub fn new(api: InboundApi, request: ChatRequest, body: Bytes) -> Self {
        ForwardRequest {
            api,
            sent_model: request.model.clone(),
            request,
            body,
        }
    }

    /// Whether the body must be rewritten for the current target (its
    /// model is not the one the client named).
    pub fn retargeted(&self) -> bool {
        self.request.model != self.sent_model
    }
}

/// An upstream's answer to a [`ForwardRequest`], in the caller's wire
/// format, byte for byte as the upstream sent it.
#[derive(Debug, Clone)]
pub struct ForwardedReply {
    /// The upstream's body.
    pub body: Bytes,
    /// Its token counts, read from the body (for metrics and logs).
    pub usage: Usage,
    /// The upstream's request id, when the service sends one.
    pub upstream_request_id: Option<String>,
}
