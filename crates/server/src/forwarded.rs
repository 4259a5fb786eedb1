//! Forwarded streaming answers: the upstream's events passed on as they
//! came (the same-format fast path), gathered and flushed as
//! [`sse_body`](crate::stream::sse_body) does with re-encoded ones.

use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use switchboard_core::{Error, ForwardedFrame, ForwardedStream, Usage};
use switchboard_gateway::RouteInfo;
use switchboard_protocol::sse::EventEncoder;

use crate::state::SharedState;
use crate::stream::{Source, Step, coalesced};

struct ForwardState<E> {
    state: SharedState,
    api: &'static str,
    frames: ForwardedStream,
    /// Writes the error event that ends a failed stream.
    encoder: E,
    route: RouteInfo,
    started: Instant,
    first: bool,
    content_sent: bool,
    usage: Usage,
}

/// Passes the upstream's `frames` on as they come, gathered and flushed as
/// [`coalesced`] does. An error ends the body with `encoder`'s error event,
/// as on the full path. Dropping the body drops the upstream stream, which
/// closes the upstream connection.
pub(crate) fn forwarded_body<E: EventEncoder>(
    state: SharedState,
    api: &'static str,
    frames: ForwardedStream,
    encoder: E,
    route: RouteInfo,
    started: Instant,
) -> Body {
    coalesced(ForwardState {
        state,
        api,
        frames,
        encoder,
        route,
        started,
        first: true,
        content_sent: false,
        usage: Usage::default(),
    })
}

impl<E: EventEncoder> Source for ForwardState<E> {
    type Item = Result<ForwardedFrame, Error>;
    type Items = ForwardedStream;

    fn items(&mut self) -> &mut ForwardedStream {
        &mut self.frames
    }

    fn step(&mut self, item: Option<Result<ForwardedFrame, Error>>) -> Step {
        step(self, item)
    }
}

fn step<E: EventEncoder>(
    s: &mut ForwardState<E>,
    item: Option<Result<ForwardedFrame, Error>>,
) -> Step {
    match item {
        Some(Ok(frame)) => {
            if let Some(usage) = frame.usage {
                s.usage = usage;
            }
            if frame.bytes.is_empty() {
                return Step::More(frame.bytes);
            }
            if s.first {
                s.first = false;
                s.state
                    .metrics
                    .first_event(s.api, &s.route, s.started.elapsed());
            }
            if frame.progress && !s.content_sent {
                s.content_sent = true;
                Step::Flush(frame.bytes)
            } else {
                Step::More(frame.bytes)
            }
        }
        Some(Err(err)) => {
            tracing::warn!(instance = %s.route.instance, model = %s.route.model, error = %err, "stream failed after it started");
            s.state.metrics.request(s.api, err.kind().code());
            Step::Last(s.encoder.error_frame(&err))
        }
        None => {
            s.state
                .metrics
                .answer_finished(&s.route, s.started.elapsed(), &s.usage);
            s.state.metrics.request(s.api, "ok");
            Step::Last(Bytes::new())
        }
    }
}
