//! The one place that guards a streamed upstream answer: an idle timeout
//! and the instance's cancellation.
//!
//! - [`ProgressGuard`] guards the decoded [`ChatEvent`]s: it ends the
//!   stream with a `timeout` error when no *content* arrived for the idle
//!   timeout (see [`is_progress`] for what counts). Keep-alive traffic (SSE
//!   comments, empty chunks, empty deltas, repeated `Start`s) does not reset
//!   it, so an upstream that stalls behind keep-alives is cut off.
//!   [`StreamReply::events`](super::StreamReply::events) applies it to every
//!   decoded stream.
//! - [`GuardedBody`] guards the bytes: it ends with `cancelled` when the
//!   instance shuts down, and (when it has an idle timeout, as
//!   [`StreamReply::into_body`](super::StreamReply::into_body) gives it to a
//!   provider that decodes on its own) with `timeout` when no bytes arrive.
//!   Under [`StreamReply::events`](super::StreamReply::events) it has no
//!   idle timer of its own: the progress guard is stricter.
//!
//! Both timers are lazy: progress only stamps the time (no allocation, no
//! timer-wheel update per event or chunk); the one `Sleep` is re-armed when
//! it fires and progress was made since. Deadlines saturate: a huge
//! configured timeout never overflows `Instant` arithmetic.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::client::UpstreamResponse;
use crate::{ChatEvent, Error, ForwardedFrame};

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// About thirty years: the deadline of a timeout too large to add to now.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `from + idle`, saturating: a timeout too large to represent is "never".
pub(crate) fn deadline(from: Instant, idle: Duration) -> Instant {
    from.checked_add(idle)
        .or_else(|| from.checked_add(FAR_FUTURE))
        .unwrap_or(from)
}

/// A timer that expires `idle` after the last [`progress`](Self::progress).
struct IdleTimer {
    idle: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
}

impl IdleTimer {
    fn new(idle: Duration) -> Self {
        let now = Instant::now();
        IdleTimer {
            idle,
            last: now,
            sleep: Box::pin(tokio::time::sleep_until(deadline(now, idle))),
        }
    }

    /// Notes progress: the timer now expires `idle` from now.
    fn progress(&mut self) {
        self.last = Instant::now();
    }

    /// Ready once `idle` has passed since the last progress.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let due = deadline(self.last, self.idle);
            if due <= self.sleep.deadline() {
                return Poll::Ready(());
            }
            // Progress since the timer was armed: re-arm it, and poll again
            // to register the waker.
            self.sleep.as_mut().reset(due);
        }
    }
}

/// How long a body dropped before its end is still read, in the
/// background, for its connection to go back to the pool.
const DRAIN_WINDOW: Duration = Duration::from_millis(50);
/// The most bytes read from such a body before its connection is closed.
const DRAIN_BYTES: usize = 64 * 1024;

/// A response body as a byte stream that fails with `cancelled` when the
/// instance's token fires and, when it has an idle timeout, with `timeout`
/// when no bytes arrive for that long. It owns the response.
///
/// Dropped before the end of the body (a decoder that has the whole answer
/// stops reading at its last event, `[DONE]` or `message_stop`, before the
/// HTTP body's own end), the rest is read in the background for at most
/// [`DRAIN_WINDOW`] and [`DRAIN_BYTES`]: a finished answer's connection
/// then goes back to the pool for the next request (no new connection, no
/// new TLS handshake), while an answer still being generated (the client
/// went away) has its connection closed within that window. After the
/// instance shut down, the connection is closed at once.
pub struct GuardedBody {
    body: Option<Body>,
    idle: Option<IdleTimer>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    cancel: CancellationToken,
}

impl Drop for GuardedBody {
    fn drop(&mut self) {
        let Some(body) = self.body.take() else {
            return;
        };
        if self.cancel.is_cancelled() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

/// Reads `body` to its end within [`DRAIN_WINDOW`] and [`DRAIN_BYTES`],
/// then drops it (at its end, the connection is pooled; before, closed).
async fn drain(mut body: Body) {
    use futures::StreamExt;
    let _ = tokio::time::timeout(DRAIN_WINDOW, async move {
        let mut read = 0;
        while let Some(Ok(bytes)) = body.next().await {
            read += bytes.len();
            if read > DRAIN_BYTES {
                return;
            }
        }
    })
    .await;
}

impl std::fmt::Debug for GuardedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedBody")
            .field("idle", &self.idle.as_ref().map(|t| t.idle))
            .field("open", &self.body.is_some())
            .finish()
    }
}

impl GuardedBody {
    /// Guards `response`'s body with an `idle` timeout (any bytes reset it)
    /// and `cancel`.
    pub fn new(response: UpstreamResponse, idle: Duration, cancel: &CancellationToken) -> Self {
        GuardedBody {
            body: Some(response.into_stream()),
            idle: Some(IdleTimer::new(idle)),
            cancelled: Box::pin(cancel.clone().cancelled_owned()),
            cancel: cancel.clone(),
        }
    }

    /// Guards `response`'s body with `cancel` only, for a body whose decoded
    /// events a [`ProgressGuard`] times.
    pub(crate) fn cancellable(response: UpstreamResponse, cancel: &CancellationToken) -> Self {
        GuardedBody {
            body: Some(response.into_stream()),
            idle: None,
            cancelled: Box::pin(cancel.clone().cancelled_owned()),
            cancel: cancel.clone(),
        }
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        match body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                if let Some(timer) = &mut this.idle {
                    timer.progress();
                }
                return Poll::Ready(Some(Ok(bytes)));
            }
            Poll::Ready(Some(Err(err))) => {
                this.body = None;
                return Poll::Ready(Some(Err(err)));
            }
            Poll::Ready(None) => {
                this.body = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.cancelled.as_mut().poll(cx).is_ready() {
            this.body = None;
            return Poll::Ready(Some(Err(Error::cancelled(
                "the provider instance was shut down during the answer",
            ))));
        }
        if let Some(timer) = &mut this.idle
            && timer.poll_expired(cx).is_ready()
        {
            this.body = None;
            return Poll::Ready(Some(Err(Error::timeout(format!(
                "the upstream sent nothing for {} ms in the middle of the answer",
                timer.idle.as_millis()
            )))));
        }
        Poll::Pending
    }
}

/// Whether `event` is progress: content that resets a [`ProgressGuard`].
///
/// Progress: text, reasoning and refusal deltas with non-empty text, a
/// reasoning signature or redacted block with non-empty data, a tool call's
/// start, a tool call's arguments fragment that is not empty, usage, and
/// the finish. Not progress: `Start` (it opens the answer; a repeated one
/// is a keep-alive), `Extra` (provider data, not content) and every empty
/// delta. Errors end the stream anyway.
pub fn is_progress(event: &ChatEvent) -> bool {
    match event {
        ChatEvent::Start { .. } | ChatEvent::Extra { .. } => false,
        ChatEvent::TextDelta { text }
        | ChatEvent::ReasoningDelta { text }
        | ChatEvent::RefusalDelta { text } => !text.is_empty(),
        ChatEvent::ReasoningSignature { signature, .. } => !signature.is_empty(),
        ChatEvent::RedactedReasoning { data, .. } => !data.is_empty(),
        ChatEvent::ToolCallStart { .. } => true,
        ChatEvent::ToolCallDelta { arguments, .. } => !arguments.is_empty(),
        ChatEvent::Usage(_) | ChatEvent::Finish { .. } => true,
    }
}

/// What a [`ProgressGuard`] reads of a stream's items: whether one is
/// progress (content), which resets its idle timeout.
pub trait Progress {
    /// Whether this item is progress.
    fn is_progress(&self) -> bool;
}

impl Progress for ChatEvent {
    /// See [`is_progress`].
    fn is_progress(&self) -> bool {
        is_progress(self)
    }
}

impl Progress for ForwardedFrame {
    /// [`ForwardedFrame::progress`]: content, a finish or usage.
    fn is_progress(&self) -> bool {
        self.progress
    }
}

/// A decoded event stream that ends with a `timeout` error when no content
/// ([`Progress`]; for chat events [`is_progress`]) arrived for its idle timeout, counted from its
/// creation (once the answer's headers arrived) and then from the last
/// content. Events pass through unchanged; after an error (its own or the
/// inner stream's) it ends and drops the inner stream, which closes the
/// connection.
pub struct ProgressGuard<S> {
    inner: Option<Pin<Box<S>>>,
    timer: IdleTimer,
}

impl<S> std::fmt::Debug for ProgressGuard<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressGuard")
            .field("idle", &self.timer.idle)
            .field("open", &self.inner.is_some())
            .finish()
    }
}

impl<S, T> ProgressGuard<S>
where
    S: Stream<Item = Result<T, Error>>,
    T: Progress,
{
    /// Guards `events` with an `idle` timeout that only content resets.
    pub fn new(events: S, idle: Duration) -> Self {
        ProgressGuard {
            inner: Some(Box::pin(events)),
            timer: IdleTimer::new(idle),
        }
    }
}

impl<S, T> Stream for ProgressGuard<S>
where
    S: Stream<Item = Result<T, Error>>,
    T: Progress,
{
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => {
                if event.is_progress() {
                    this.timer.progress();
                }
                return Poll::Ready(Some(Ok(event)));
            }
            Poll::Ready(other) => {
                // An error or the end: either way the stream is over.
                this.inner = None;
                return Poll::Ready(other);
            }
            Poll::Pending => {}
        }
        if this.timer.poll_expired(cx).is_ready() {
            this.inner = None;
            return Poll::Ready(Some(Err(Error::timeout(format!(
                "the upstream sent no content for {} ms (only keep-alives, or nothing); \
                 the stream was ended",
                this.timer.idle.as_millis()
            )))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
