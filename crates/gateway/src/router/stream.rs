//! [`TrackedStream`]: a routed stream that keeps its deployment's health up
//! to date after the router handed it over, and ends it at its total
//! deadline (`router.stream_timeout_ms`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use switchboard_core::{ChatEvent, ChatStream, Error};
use tokio::time::Sleep;

use crate::health::HealthPolicy;
use crate::registry::Instance;

/// A routed stream: yields the first event the router already received,
/// then the rest. The router recorded a success at the first event; an
/// error later in the stream is recorded as a failure of the deployment
/// too, and tagged with the instance like every error of a provider call.
pub(super) struct TrackedStream {
    pub(super) first: Option<ChatEvent>,
    pub(super) inner: ChatStream,
    /// The instance that serves the stream, for its errors.
    pub(super) name: Arc<str>,
    /// The model at that instance, for the deployment's health.
    pub(super) model: String,
    /// That instance, for its health (absent if it was removed meanwhile).
    pub(super) instance: Option<Arc<Instance>>,
    pub(super) policy: HealthPolicy,
    pub(super) ttft: Duration,
    /// The total deadline, when one is configured.
    pub(super) deadline: Option<Pin<Box<Sleep>>>,
    /// The configured total, for the error message.
    pub(super) stream_timeout_ms: u64,
    pub(super) done: bool,
}

impl Stream for TrackedStream {
    type Item = Result<ChatEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        if self.done {
            return Poll::Ready(None);
        }
        // The deadline first, so a stream that is always ready still ends.
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            self.done = true;
            // A long answer is not the deployment's failure: not recorded.
            let err = Error::timeout(format!(
                "the stream's total deadline of {} ms passed",
                self.stream_timeout_ms
            ))
            .with_instance(self.name.clone());
            return Poll::Ready(Some(Err(err)));
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(err))) => {
                self.done = true;
                if let Some(inst) = &self.instance {
                    inst.health()
                        .record_routed_error(&self.model, &err, self.ttft, &self.policy);
                }
                Poll::Ready(Some(Err(err.with_instance(self.name.clone()))))
            }
            other => other,
        }
    }
}
