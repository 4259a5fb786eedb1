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

/// What every streamed answer keeps while it is written, whatever its
/// items: what its metrics need and the encoder of its error event.
pub(crate) struct Answer<E> {
    state: SharedState,
    api: &'static str,
    encoder: E,
    route: RouteInfo,
    started: Instant,
    first: bool,
    content_sent: bool,
    /// The answer's token counts, as last read.
    pub(crate) usage: Usage,
}

impl<E: EventEncoder> Answer<E> {
    /// An answer on API `api` routed as `route`, from the request's
    /// arrival `started`.
    pub(crate) fn new(
        state: SharedState,
        api: &'static str,
        encoder: E,
        route: RouteInfo,
        started: Instant,
    ) -> Self {
        Answer {
            state,
            api,
            encoder,
            route,
            started,
            first: true,
            content_sent: false,
            usage: Usage::default(),
        }
    }

    /// `bytes` to send; `content` says they hold content. The first bytes
    /// are timed as the first event; the first content is flushed at once.
    pub(crate) fn send(&mut self, bytes: Bytes, content: bool) -> Step {
        if self.first && !bytes.is_empty() {
            self.first = false;
            self.state
                .metrics
                .first_event(self.api, &self.route, self.started.elapsed());
        }
        if content && !self.content_sent {
            self.content_sent = true;
            Step::Flush(bytes)
        } else {
            Step::More(bytes)
        }
    }

    /// The stream failed after it started: counted, logged, and ended with
    /// the format's error event.
    pub(crate) fn fail(&mut self, err: &Error) -> Step {
        tracing::warn!(instance = %self.route.instance, model = %self.route.model, error = %err, "stream failed after it started");
        self.state.metrics.request(self.api, err.kind().code());
        Step::Last(self.encoder.error_frame(err))
    }

    /// The answer is complete: counted, and ended with `last`.
    pub(crate) fn done(&mut self, last: Bytes) -> Step {
        self.state
            .metrics
            .answer_finished(&self.route, self.started.elapsed(), &self.usage);
        self.state.metrics.request(self.api, "ok");
        Step::Last(last)
    }
}

struct SseState<E> {
    answer: Answer<E>,
    events: ChatStream,
    finished: bool,
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
pub(crate) fn sse_body<E: EventEncoder>(answer: Answer<E>, events: ChatStream) -> Body {
    coalesced(SseState {
        answer,
        events,
        finished: false,
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
    let answer = &mut s.answer;
    match item {
        Some(Ok(event)) => {
            match &event {
                ChatEvent::Usage(u) => answer.usage = *u,
                ChatEvent::Finish { .. } => s.finished = true,
                _ => {}
            }
            match answer.encoder.encode(&event) {
                Ok(bytes) => {
                    let content = matches!(
                        event,
                        ChatEvent::TextDelta { .. }
                            | ChatEvent::ReasoningDelta { .. }
                            | ChatEvent::RefusalDelta { .. }
                            | ChatEvent::ToolCallStart { .. }
                    );
                    answer.send(bytes, content)
                }
                Err(err) => answer.fail(&err),
            }
        }
        Some(Err(err)) => answer.fail(&err),
        None if !s.finished => answer.fail(&Error::protocol(
            "the upstream stream ended before the answer finished",
        )),
        None => {
            let frame = answer
                .encoder
                .finish()
                .unwrap_or_else(|e| answer.encoder.error_frame(&e));
            answer.done(frame)
        }
    }
}
