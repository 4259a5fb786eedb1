//! Forwarded streaming answers: the upstream's events passed on as they
//! came (the same-format fast path), gathered and flushed as
//! [`sse_body`](crate::stream::sse_body) does with re-encoded ones.

use axum::body::Body;
use bytes::Bytes;
use switchboard_core::{Error, ForwardedFrame, ForwardedStream};
use switchboard_protocol::sse::EventEncoder;

use crate::stream::{Answer, Source, Step, coalesced};

struct ForwardState<E> {
    answer: Answer<E>,
    frames: ForwardedStream,
}

/// Passes the upstream's `frames` on as they come, gathered and flushed as
/// [`coalesced`] does. An error ends the body with the answer's error event,
/// as on the full path. Dropping the body drops the upstream stream, which
/// closes the upstream connection.
pub(crate) fn forwarded_body<E: EventEncoder>(answer: Answer<E>, frames: ForwardedStream) -> Body {
    coalesced(ForwardState { answer, frames })
}

impl<E: EventEncoder> Source for ForwardState<E> {
    type Item = Result<ForwardedFrame, Error>;
    type Items = ForwardedStream;

    fn items(&mut self) -> &mut ForwardedStream {
        &mut self.frames
    }

    fn step(&mut self, item: Option<Result<ForwardedFrame, Error>>) -> Step {
        let answer = &mut self.answer;
        match item {
            Some(Ok(frame)) => {
                if let Some(usage) = frame.usage {
                    answer.usage = usage;
                }
                let content = frame.progress && !frame.bytes.is_empty();
                answer.send(frame.bytes, content)
            }
            Some(Err(err)) => answer.fail(&err),
            None => answer.done(Bytes::new()),
        }
    }
}
