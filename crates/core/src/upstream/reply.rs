//! What an [`Upstream`] returns: a whole [`Reply`], or a [`StreamReply`]
//! whose body is read as a guarded stream, and the [`ErrorFinisher`] of a
//! stream a provider decodes itself.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;

use super::guard::{GuardedBody, Progress, ProgressGuard};
use super::{MAX_UPSTREAM_BODY, Upstream, UpstreamResponse};
use crate::{ChatEvent, ChatStream, Error, ForwardedFrame, ForwardedStream};

/// A whole upstream answer with a 2xx status.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The whole body (at most [`MAX_UPSTREAM_BODY`] bytes).
    pub body: Bytes,
    /// The upstream's request id, when the service sends one.
    pub request_id: Option<String>,
    pub(super) upstream: Upstream,
}

impl Reply {
    /// Decodes the body with `decode` (e.g. a protocol crate parser); its
    /// error is finished like the upstream's own.
    pub fn decode<T>(&self, decode: impl FnOnce(&[u8]) -> Result<T, Error>) -> Result<T, Error> {
        decode(&self.body).map_err(|e| self.error(e))
    }

    /// The body as JSON of type `T`; anything else is a `protocol` error
    /// naming `what` was expected.
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        self.decode(|body| {
            serde_json::from_slice(body).map_err(|e| {
                Error::protocol(format!("the upstream's {what} could not be read: {e}"))
                    .with_source(e)
            })
        })
    }

    /// Finishes an error about this answer: scrubbed, the instance named,
    /// the request id appended.
    pub fn error(&self, err: Error) -> Error {
        self.upstream.finish(err, self.request_id.as_deref())
    }
}

/// An upstream answer with a 2xx status whose body is still to be read.
#[derive(Debug)]
pub struct StreamReply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The upstream's request id, when the service sends one.
    pub request_id: Option<String>,
    pub(super) response: UpstreamResponse,
    pub(super) upstream: Upstream,
}

impl StreamReply {
    /// Whether the answer is a server-sent event stream (`text/event-stream`).
    pub fn is_event_stream(&self) -> bool {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("text/event-stream"))
    }

    /// Reads the whole body instead (a service that answered a streamed
    /// request with plain JSON), within the timeout.
    pub async fn into_reply(self) -> Result<Reply, Error> {
        let StreamReply {
            status,
            headers,
            request_id,
            response,
            upstream,
        } = self;
        let body = upstream
            .bounded(response.bytes(MAX_UPSTREAM_BODY))
            .await
            .map_err(|e| upstream.finish(e, request_id.as_deref()))?;
        Ok(Reply {
            status,
            headers,
            body,
            request_id,
            upstream,
        })
    }

    /// The body as a guarded byte stream (an idle timeout that any bytes
    /// reset, and cancellation), and the function that finishes an error of
    /// what is decoded from it. Prefer [`events`](Self::events), whose idle
    /// timeout only content resets; a provider decoding chat events itself
    /// should wrap them in a [`ProgressGuard`].
    pub fn into_body(self) -> (GuardedBody, ErrorFinisher) {
        let body = GuardedBody::new(
            self.response,
            self.upstream.inner.stream_idle,
            &self.upstream.inner.cancel,
        );
        let finisher = ErrorFinisher {
            upstream: self.upstream,
            request_id: self.request_id,
        };
        (body, finisher)
    }

    /// The body decoded into chat events by `decode` (e.g. the protocol
    /// crate's `chat_event_stream`). The events are guarded by a
    /// [`ProgressGuard`]: the stream ends with a `timeout` error when no
    /// content arrives for the instance's
    /// [stream idle timeout](Upstream::stream_idle_timeout) (keep-alive
    /// comments and empty chunks do not count), and with `cancelled` when
    /// the instance shuts down. Every error in the stream is finished like
    /// the upstream's own.
    pub fn events<S>(self, decode: impl FnOnce(GuardedBody) -> S) -> ChatStream
    where
        S: Stream<Item = Result<ChatEvent, Error>> + Send + 'static,
    {
        Box::pin(self.guarded(decode))
    }

    /// The body cut into forwarded frames by `decode` (the same-format fast
    /// path's stream, e.g. the protocol crate's OpenAI frame reader),
    /// guarded as [`events`](Self::events) guards events: only frames that
    /// are [progress](ForwardedFrame::progress) reset the idle timeout.
    pub fn frames<S>(self, decode: impl FnOnce(GuardedBody) -> S) -> ForwardedStream
    where
        S: Stream<Item = Result<ForwardedFrame, Error>> + Send + 'static,
    {
        Box::pin(self.guarded(decode))
    }

    /// `decode` over the cancellable body, under a [`ProgressGuard`], every
    /// error finished.
    fn guarded<S, T>(
        self,
        decode: impl FnOnce(GuardedBody) -> S,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        S: Stream<Item = Result<T, Error>> + Send + 'static,
        T: Progress + Send + 'static,
    {
        let body = GuardedBody::cancellable(self.response, &self.upstream.inner.cancel);
        let idle = self.upstream.inner.stream_idle;
        let finisher = ErrorFinisher {
            upstream: self.upstream,
            request_id: self.request_id,
        };
        ProgressGuard::new(decode(body), idle).map(move |item| item.map_err(|e| finisher.finish(e)))
    }
}

/// Finishes errors of one answer (scrubbed, the instance named, the request
/// id appended), for decoded streams a provider builds itself.
#[derive(Debug, Clone)]
pub struct ErrorFinisher {
    upstream: Upstream,
    request_id: Option<String>,
}

impl ErrorFinisher {
    /// Finishes `err`.
    pub fn finish(&self, err: Error) -> Error {
        self.upstream.finish(err, self.request_id.as_deref())
    }
}
