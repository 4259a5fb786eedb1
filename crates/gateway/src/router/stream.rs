//! Routed streams: [`Router::stream_on`], which tries targets until one
//! sends a first event, and [`TrackedStream`], which keeps the deployment's
//! health up to date after the router handed the stream over and ends it
//! at its total deadline (`router.stream_timeout_ms`). Both serve chat
//! event streams and forwarded frame streams alike.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{Stream, StreamExt};
use switchboard_core::{Error, Provider};
use tokio::time::{Instant, Sleep};

use super::{Routed, Router, Target, deadline_after};
use crate::config::types::FallbackOn;
use crate::health::HealthPolicy;
use crate::registry::{Generation, Instance};
use crate::validated::{Routable, Validated};

/// A boxed stream of `T`s, as providers return them: a
/// [`ChatStream`](switchboard_core::ChatStream) or a
/// [`ForwardedStream`](switchboard_core::ForwardedStream).
pub(super) type Items<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

impl Router {
    /// Runs the attempts over `targets` with `open`, each attempt lasting
    /// until the stream's first item (within `router.first_event_timeout_ms`):
    /// a stream falls back only before its first item. The total deadline
    /// (`router.stream_timeout_ms`) runs from here and bounds the routing
    /// too.
    pub(super) async fn stream_on<R: Routable, T: Send + Unpin + 'static>(
        &self,
        generation: Arc<Generation>,
        targets: Vec<Target>,
        fallback_on: FallbackOn,
        request: Validated<R>,
        open: impl for<'a> Fn(&'a dyn Provider, &'a R) -> BoxFuture<'a, Result<Items<T>, Error>>,
    ) -> Result<Routed<Items<T>>, Error> {
        let (first_event_timeout, stream_timeout_ms) = {
            let config = &generation.routes.config;
            (
                Duration::from_millis(config.first_event_timeout_ms),
                config.stream_timeout_ms,
            )
        };
        let stream_deadline = stream_timeout_ms.map(|ms| deadline_after(Duration::from_millis(ms)));
        let policy = generation.policy;
        let (started, route) = self
            .run(
                &generation,
                targets,
                fallback_on,
                request,
                stream_deadline,
                |p, r| {
                    let opening = open(p, r);
                    Box::pin(async move {
                        let mut stream = opening.await?;
                        // Waiting for the first item is waiting on the
                        // upstream: as the provider's client timed it on the
                        // socket, or the whole wait for a client that
                        // records nothing.
                        let waiting = Instant::now();
                        let (first, wire) = switchboard_core::wire_time::measure(
                            tokio::time::timeout(first_event_timeout, stream.next()),
                        )
                        .await;
                        switchboard_core::wire_time::record(
                            wire.unwrap_or_else(|| waiting.elapsed()),
                        );
                        match first {
                            Ok(Some(Ok(first))) => Ok((first, stream)),
                            Ok(Some(Err(e))) => Err(e),
                            Ok(None) => {
                                Err(Error::protocol("the stream ended before its first event"))
                            }
                            Err(_) => Err(Error::timeout(format!(
                                "no first event within {} ms",
                                first_event_timeout.as_millis()
                            ))),
                        }
                    })
                },
            )
            .await?;
        let (first, rest) = started;
        let instance = self.registry.get(&route.instance);
        let stream = TrackedStream {
            first: Some(first),
            inner: rest,
            name: route.instance.clone(),
            model: route.model.clone(),
            instance,
            policy,
            ttft: route.upstream_time,
            deadline: stream_deadline.map(|at| Box::pin(tokio::time::sleep_until(at))),
            stream_timeout_ms: stream_timeout_ms.unwrap_or(0),
            done: false,
        };
        Ok(Routed {
            value: Box::pin(stream),
            route,
        })
    }
}

/// A routed stream: yields the first event the router already received,
/// then the rest. The router recorded a success at the first event; an
/// error later in the stream is recorded as a failure of the deployment
/// too, and tagged with the instance like every error of a provider call.
struct TrackedStream<T> {
    first: Option<T>,
    inner: Items<T>,
    /// The instance that serves the stream, for its errors.
    name: Arc<str>,
    /// The model at that instance, for the deployment's health.
    model: String,
    /// That instance, for its health (absent if it was removed meanwhile).
    instance: Option<Arc<Instance>>,
    policy: HealthPolicy,
    ttft: Duration,
    /// The total deadline, when one is configured.
    deadline: Option<Pin<Box<Sleep>>>,
    /// The configured total, for the error message.
    stream_timeout_ms: u64,
    done: bool,
}

impl<T: Unpin> Stream for TrackedStream<T> {
    type Item = Result<T, Error>;

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
