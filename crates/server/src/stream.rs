//! Streaming answers: events re-encoded one by one in the caller's wire format.

use std::convert::Infallible;
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use switchboard_core::{ChatEvent, ChatStream, Error, Usage};
use switchboard_gateway::RouteInfo;
use switchboard_protocol::sse::EventEncoder;

use crate::state::SharedState;

struct SseState<E> {
    state: SharedState,
    api: &'static str,
    events: ChatStream,
    encoder: E,
    route: RouteInfo,
    started: Instant,
    first: bool,
    content_sent: bool,
    finished: bool,
    usage: Usage,
}

/// The most bytes of already-available events gathered into one body frame.
const COALESCE_LIMIT: usize = 16 * 1024;

/// What one upstream item became.
pub(crate) enum Step {
    /// Bytes to send (possibly none); the stream goes on.
    More(Bytes),
    /// The first content of the answer: sent at once, without waiting to
    /// gather more (time to first token comes first).
    Flush(Bytes),
    /// The last bytes of the body.
    Last(Bytes),
}

/// A streamed answer's items and what each becomes on the wire: the state
/// [`coalesced`] drives.
pub(crate) trait Source: Send + 'static {
    /// What the upstream stream yields.
    type Item: Send;
    /// The stream of them.
    type Items: futures::Stream<Item = Self::Item> + Unpin + Send;
    /// The upstream stream.
    fn items(&mut self) -> &mut Self::Items;
    /// What one item (or the end, `None`) becomes.
    fn step(&mut self, item: Option<Self::Item>) -> Step;
}

/// Re-encodes events as they come (never buffering the answer). Events that
/// are already available when one arrives — an upstream read often carries
/// several — go out in the same body frame, up to [`COALESCE_LIMIT`]: one
/// write instead of one per event, and no event ever waits for another. The
/// frame holding the answer's first content is sent as soon as that content
/// is encoded, so gathering never delays the first token. An
/// error after the stream started becomes the format's in-stream error
/// event, then the body ends cleanly. Dropping the body (the client went
/// away) drops the upstream stream, which closes the upstream connection.
pub(crate) fn sse_body<E: EventEncoder>(
    state: SharedState,
    api: &'static str,
    events: ChatStream,
    encoder: E,
    route: RouteInfo,
    started: Instant,
) -> Body {
    coalesced(SseState {
        state,
        api,
        events,
        encoder,
        route,
        started,
        first: true,
        content_sent: false,
        finished: false,
        usage: Usage::default(),
    })
}

/// The body of a streamed answer from `source`: items already available
/// when one arrives go out in one body frame (up to [`COALESCE_LIMIT`]); a
/// [`Step::Flush`] frame is sent at once, and the server writes it out
/// before more is gathered.
pub(crate) fn coalesced<S: Source>(source: S) -> Body {
    let stream = futures::stream::unfold(Some((source, false)), |s| async move {
        let (mut s, yield_first) = s?;
        if yield_first {
            // Let the server write out the first content before gathering
            // more: returning Pending once makes hyper flush what it holds.
            tokio::task::yield_now().await;
        }
        let mut frame = Frame::default();
        let mut flushed = false;
        let mut item = s.items().next().await;
        loop {
            match s.step(item) {
                Step::More(bytes) => frame.push(bytes),
                Step::Flush(bytes) => {
                    frame.push(bytes);
                    flushed = true;
                    break;
                }
                Step::Last(bytes) => {
                    frame.push(bytes);
                    return Some((Ok::<Bytes, Infallible>(frame.finish()), None));
                }
            }
            if frame.len() >= COALESCE_LIMIT {
                break;
            }
            item = match s.items().next().now_or_never() {
                Some(next) => next,
                None if frame.len() == 0 => s.items().next().await,
                None => break,
            };
        }
        Some((Ok(frame.finish()), Some((s, flushed))))
    });
    Body::from_stream(stream)
}

/// One body frame: a single event's bytes as they are, several copied together.
#[derive(Default)]
struct Frame {
    single: Option<Bytes>,
    joined: Option<bytes::BytesMut>,
}

impl Frame {
    fn push(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        if let Some(joined) = &mut self.joined {
            joined.extend_from_slice(&bytes);
        } else if let Some(first) = self.single.take() {
            let mut joined = bytes::BytesMut::with_capacity(first.len() + bytes.len() * 4);
            joined.extend_from_slice(&first);
            joined.extend_from_slice(&bytes);
            self.joined = Some(joined);
        } else {
            self.single = Some(bytes);
        }
    }

    fn len(&self) -> usize {
        match (&self.joined, &self.single) {
            (Some(j), _) => j.len(),
            (None, Some(s)) => s.len(),
            (None, None) => 0,
        }
    }

    fn finish(self) -> Bytes {
        match (self.joined, self.single) {
            (Some(j), _) => j.freeze(),
            (None, Some(s)) => s,
            (None, None) => Bytes::new(),
        }
    }
}

impl<E: EventEncoder> Source for SseState<E> {
    type Item = Result<ChatEvent, Error>;
    type Items = ChatStream;

    fn items(&mut self) -> &mut ChatStream {
        &mut self.events
    }

    fn step(&mut self, item: Option<Result<ChatEvent, Error>>) -> Step {
        step(self, item)
    }
}

fn step<E: EventEncoder>(s: &mut SseState<E>, item: Option<Result<ChatEvent, Error>>) -> Step {
    match item {
        Some(Ok(event)) => {
            match &event {
                ChatEvent::Usage(u) => s.usage = *u,
                ChatEvent::Finish { .. } => s.finished = true,
                _ => {}
            }
            match s.encoder.encode(&event) {
                Ok(bytes) => {
                    if s.first && !bytes.is_empty() {
                        s.first = false;
                        s.state
                            .metrics
                            .first_event(s.api, &s.route, s.started.elapsed());
                    }
                    let content = matches!(
                        event,
                        ChatEvent::TextDelta { .. }
                            | ChatEvent::ReasoningDelta { .. }
                            | ChatEvent::RefusalDelta { .. }
                            | ChatEvent::ToolCallStart { .. }
                    );
                    if content && !s.content_sent {
                        s.content_sent = true;
                        Step::Flush(bytes)
                    } else {
                        Step::More(bytes)
                    }
                }
                Err(err) => Step::Last(end_with_error(s, &err)),
            }
        }
        Some(Err(err)) => Step::Last(end_with_error(s, &err)),
        None if !s.finished => {
            let err = Error::protocol("the upstream stream ended before the answer finished");
            Step::Last(end_with_error(s, &err))
        }
        None => {
            let frame = s
                .encoder
                .finish()
                .unwrap_or_else(|e| s.encoder.error_frame(&e));
            s.state
                .metrics
                .answer_finished(&s.route, s.started.elapsed(), &s.usage);
            s.state.metrics.request(s.api, "ok");
            Step::Last(frame)
        }
    }
}

fn end_with_error<E: EventEncoder>(s: &mut SseState<E>, err: &Error) -> Bytes {
    tracing::warn!(instance = %s.route.instance, model = %s.route.model, error = %err, "stream failed after it started");
    s.state.metrics.request(s.api, err.kind().code());
    s.encoder.error_frame(err)
}
