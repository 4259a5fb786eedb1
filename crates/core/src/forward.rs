//! The same-format fast path's vocabulary: a chat request as the client
//! sent it, in the wire format of the provider that will answer it
//! ([`ForwardRequest`]), and that provider's answer as the upstream sent it
//! ([`ForwardedReply`], or a [`ForwardedStream`] of [`ForwardedFrame`]s).
//!
//! When the inbound API and a provider's wire format are the same (OpenAI
//! in, OpenAI out), parsing the request into the core vocabulary and
//! encoding it again, then doing the same to the answer, only costs time
//! and loses what the gateway has no field for. A provider that says it
//! [`forwards`](crate::Provider::forwards) a request sends the client's
//! bytes with only `model` changed and hands back the upstream's bytes.

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

use crate::extension::InboundApi;
use crate::{ChatRequest, Error, Usage};

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
    /// Whether the client asked for a streamed answer (then
    /// [`Provider::forward_stream`](crate::Provider::forward_stream)
    /// answers it, else [`Provider::forward`](crate::Provider::forward)).
    pub stream: bool,
}

impl ForwardRequest {
    /// `request`, parsed from `body` in `api`'s wire format, for an answer
    /// in one piece.
    pub fn new(api: InboundApi, request: ChatRequest, body: Bytes) -> Self {
        ForwardRequest {
            api,
            sent_model: request.model.clone(),
            request,
            body,
            stream: false,
        }
    }

    /// The same request, asking for a streamed answer.
    pub fn streamed(mut self) -> Self {
        self.stream = true;
        self
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

/// One event of a forwarded stream: the bytes to pass on to the client as
/// they are, and what the gateway read of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForwardedFrame {
    /// The event, framed for the client (may be empty: an event the client
    /// did not ask for, read for its usage only).
    pub bytes: Bytes,
    /// Whether the event carries content, a finish or usage: what resets
    /// the stream's idle timeout, and what is flushed to the client at once
    /// when it is the answer's first.
    pub progress: bool,
    /// The answer's token counts, when this event carries them.
    pub usage: Option<Usage>,
}

/// A forwarded streamed answer: its events in the caller's wire format, as
/// the upstream sent them. It ends after the format's last event once the
/// answer is complete; an answer cut short ends with an error instead.
pub type ForwardedStream = Pin<Box<dyn Stream<Item = Result<ForwardedFrame, Error>> + Send>>;
