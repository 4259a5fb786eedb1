//! Streaming answers: events re-encoded one by one in the caller's wire format.

use std::convert::Infallible;
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use switchboard_core::{ChatEvent, ChatStream, Error, Usage};
use switchboard_gateway::RouteInfo;
use switchboard_protocol::{anthropic::AnthropicStreamEncoder, openai::OpenAiStreamEncoder};

use crate::state::Shared;

/// A wire format's stream encoder.
pub(crate) trait EventEncoder: Send + 'static {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error>;
    fn finish(&mut self) -> Result<Bytes, Error>;
    fn error_frame(&mut self, err: &Error) -> Bytes;
}

impl EventEncoder for OpenAiStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        OpenAiStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        OpenAiStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        OpenAiStreamEncoder::error_frame(self, err)
    }
}

impl EventEncoder for AnthropicStreamEncoder {
    fn encode(&mut self, event: &ChatEvent) -> Result<Bytes, Error> {
        AnthropicStreamEncoder::encode(self, event)
    }
    fn finish(&mut self) -> Result<Bytes, Error> {
        AnthropicStreamEncoder::finish(self)
    }
    fn error_frame(&mut self, err: &Error) -> Bytes {
        AnthropicStreamEncoder::error_frame(self, err)
    }
}

struct SseState<E> {
    state: Shared,
    api: &'static str,
    events: ChatStream,
    encoder: E,
    route: RouteInfo,
    started: Instant,
    first: bool,
    finished: bool,
    usage: Usage,
}

/// Re-encodes events one by one (never buffering the answer). An error after
/// the stream started becomes the format's in-stream error event, then the
/// body ends cleanly. Dropping the body (the client went away) drops the
/// upstream stream, which closes the upstream connection.
pub(crate) fn sse_body<E: EventEncoder>(
    state: Shared,
    api: &'static str,
    events: ChatStream,
    encoder: E,
    route: RouteInfo,
    started: Instant,
) -> Body {
    let init = SseState {
        state,
        api,
        events,
        encoder,
        route,
        started,
        first: true,
        finished: false,
        usage: Usage::default(),
    };
    let stream = futures::stream::unfold(Some(init), |s| async move {
        let mut s = s?;
        loop {
            match s.events.next().await {
                Some(Ok(event)) => {
                    match &event {
                        ChatEvent::Usage(u) => s.usage = *u,
                        ChatEvent::Finish { .. } => s.finished = true,
                        _ => {}
                    }
                    match s.encoder.encode(&event) {
                        Ok(bytes) if bytes.is_empty() => continue,
                        Ok(bytes) => {
                            if s.first {
                                s.first = false;
                                s.state
                                    .metrics
                                    .first_event(s.api, &s.route, s.started.elapsed());
                            }
                            return Some((Ok::<Bytes, Infallible>(bytes), Some(s)));
                        }
                        Err(err) => return Some((Ok(end_with_error(&mut s, &err)), None)),
                    }
                }
                Some(Err(err)) => return Some((Ok(end_with_error(&mut s, &err)), None)),
                None if !s.finished => {
                    let err =
                        Error::protocol("the upstream stream ended before the answer finished");
                    return Some((Ok(end_with_error(&mut s, &err)), None));
                }
                None => {
                    let frame = s
                        .encoder
                        .finish()
                        .unwrap_or_else(|e| s.encoder.error_frame(&e));
                    s.state
                        .metrics
                        .stream_finished(&s.route, s.started.elapsed(), &s.usage);
                    s.state.metrics.request(s.api, "ok");
                    return Some((Ok(frame), None));
                }
            }
        }
    });
    Body::from_stream(stream)
}

fn end_with_error<E: EventEncoder>(s: &mut SseState<E>, err: &Error) -> Bytes {
    tracing::warn!(instance = %s.route.instance, model = %s.route.model, error = %err, "stream failed after it started");
    s.state.metrics.request(s.api, err.kind().code());
    s.encoder.error_frame(err)
}
