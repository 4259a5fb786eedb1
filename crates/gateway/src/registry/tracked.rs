//! [`Tracked`]: a built provider with what retiring it needs: its own
//! cancellation token and a count of the calls and streams in flight on it.
//!
//! The router receives a `Tracked` as its `Arc<dyn Provider>`; each call
//! counts itself in flight until it returns, and a stream until it is
//! dropped, so a replaced instance is drained (including streams that
//! outlive the call that opened them) before `shutdown` runs and its token
//! fires. Counting is one atomic increment and decrement per call: no lock.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error,
    ForwardRequest, ForwardedReply, ForwardedStream, HealthReport, ModelInfo, Provider,
    async_trait,
};
use tokio_util::sync::CancellationToken;

/// A provider, its cancellation token (a child of the registry's), and the
/// number of calls and streams in flight on it.
pub(crate) struct Tracked {
    inner: Arc<dyn Provider>,
    cancel: CancellationToken,
    in_flight: Arc<AtomicUsize>,
}

/// Counts one call or stream in flight while alive.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A stream (of chat events or forwarded frames) that counts itself in
/// flight until dropped.
struct TrackedStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>,
    _in_flight: InFlight,
}

impl<T> Stream for TrackedStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl Tracked {
    pub(crate) fn new(inner: Arc<dyn Provider>, cancel: CancellationToken) -> Self {
        Tracked {
            inner,
            cancel,
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Calls and streams in flight.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Retires the provider of a replaced, disabled or removed instance:
    /// waits up to `grace` for the calls and streams in flight on it to end
    /// (and for every other holder to let go of it), or until `abort` fires
    /// (process shutdown), then calls `shutdown` and fires its token.
    pub(crate) async fn retire(self: Arc<Self>, grace: Duration, abort: CancellationToken) {
        let drained = async {
            // Quiet twice in a row: a router that just loaded the old
            // provider gets a poll interval to start its call.
            let mut quiet = 0;
            while quiet < 2 {
                let idle = self.in_flight() == 0 && Arc::strong_count(&self) == 1;
                quiet = if idle { quiet + 1 } else { 0 };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            () = drained => {}
            () = tokio::time::sleep(grace) => {
                tracing::warn!(
                    in_flight = self.in_flight(),
                    grace_ms = grace.as_millis() as u64,
                    "a retired provider instance was still busy after the grace period; cancelling it"
                );
            }
            () = abort.cancelled() => {}
        }
        self.inner.shutdown().await;
        self.cancel.cancel();
    }

    /// Shuts the provider down now and fires its token (process shutdown).
    pub(crate) async fn stop(&self) {
        self.inner.shutdown().await;
        self.cancel.cancel();
    }
}

#[async_trait]
impl Provider for Tracked {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let _in_flight = InFlight::new(&self.in_flight);
        self.inner.chat(request).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let in_flight = InFlight::new(&self.in_flight);
        let inner = self.inner.chat_stream(request).await?;
        Ok(Box::pin(TrackedStream {
            inner,
            _in_flight: in_flight,
        }))
    }

    fn forwards(&self, model: &str, request: &ForwardRequest) -> bool {
        self.inner.forwards(model, request)
    }

    async fn forward(&self, request: &ForwardRequest) -> Result<ForwardedReply, Error> {
        let _in_flight = InFlight::new(&self.in_flight);
        self.inner.forward(request).await
    }

    async fn forward_stream(&self, request: &ForwardRequest) -> Result<ForwardedStream, Error> {
        let in_flight = InFlight::new(&self.in_flight);
        let inner = self.inner.forward_stream(request).await?;
        Ok(Box::pin(TrackedStream {
            inner,
            _in_flight: in_flight,
        }))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let _in_flight = InFlight::new(&self.in_flight);
        self.inner.models().await
    }

    async fn embed(&self, request: &EmbeddingsRequest) -> Result<EmbeddingsResponse, Error> {
        let _in_flight = InFlight::new(&self.in_flight);
        self.inner.embed(request).await
    }

    async fn health(&self) -> Result<HealthReport, Error> {
        let _in_flight = InFlight::new(&self.in_flight);
        self.inner.health().await
    }

    async fn shutdown(&self) {
        // The registry shuts providers down (after draining); a caller
        // holding the provider cannot.
    }
}
