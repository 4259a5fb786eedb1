//! The gateway's overhead, timed from a request's first byte on the socket
//! ([`Arrival`]) to its answer's write ([`OverheadTimer`]), minus the time
//! spent waiting on the upstream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use switchboard_core::Usage;
use switchboard_core::wire_time::{self, WriteListener};
use switchboard_gateway::RouteInfo;

use crate::metrics::Metrics;
use crate::state::SharedState;

/// The `api` labels of answers whose overhead an [`OverheadTimer`] can end.
const DEFERRABLE_APIS: [&str; 3] = ["openai", "anthropic", "openai-embeddings"];

/// When a request began to arrive: its first byte on the socket (HTTP/1
/// connections accepted by [`Server`](crate::Server), which wraps them in a
/// [`TimedIo`](switchboard_core::wire_time::TimedIo)), else when the handler
/// started. The overhead metric counts from here, so it includes hyper's
/// parsing and axum's routing as the harness's "added latency" does.
#[derive(Debug, Clone)]
pub(crate) struct Arrival {
    /// The instant.
    pub(crate) at: Instant,
    /// The connection's timer, which can end the measure when the answer is
    /// written (HTTP/1 via [`Server`](crate::Server) only).
    pub(crate) timer: Option<Arc<OverheadTimer>>,
    /// Whether the request came over HTTP/2 (its streams get a send
    /// deadline of their own: see [`stall`](crate::stall)).
    pub(crate) h2: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Arrival {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let h2 = parts.version == axum::http::Version::HTTP_2;
        let mut arrival = parts
            .extensions
            .remove::<Arrival>()
            .unwrap_or_else(|| Arrival {
                at: Instant::now(),
                timer: None,
                h2,
            });
        arrival.h2 = h2;
        Ok(arrival)
    }
}

impl Arrival {
    /// Records a complete answer: its duration and tokens now, and the
    /// gateway's overhead at once, or when the connection's timer sees the
    /// answer written.
    pub(crate) fn answered(
        &self,
        metrics: &Metrics,
        api: &'static str,
        route: &RouteInfo,
        usage: &Usage,
    ) {
        let total = self.at.elapsed();
        metrics.answer_finished(route, total, usage);
        let deferred = self
            .timer
            .as_ref()
            .is_some_and(|t| t.defer(api, self.at, route.upstream_time));
        if !deferred {
            metrics.overhead(api, total.saturating_sub(route.upstream_time));
        }
    }
}

/// One HTTP/1 connection's deferred overhead measure: a handler leaves its
/// answer's arrival and upstream time here, and the connection's next write
/// (the answer, head and body in one `writev`) ends the measure. So the
/// metric includes the response's serialization and write, as the client
/// sees them. Atomics only: the handler and the write run on the connection's
/// own task, one request at a time.
pub(crate) struct OverheadTimer {
    state: SharedState,
    /// The pending measure's arrival stamp; 0 when nothing is pending.
    arrival: AtomicU64,
    /// The pending measure's upstream time.
    upstream_ns: AtomicU64,
    /// The answer's index in [`DEFERRABLE_APIS`].
    api: AtomicUsize,
}

impl std::fmt::Debug for OverheadTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OverheadTimer").finish_non_exhaustive()
    }
}

impl OverheadTimer {
    /// A timer with nothing pending, recording into `state`'s metrics.
    pub(crate) fn new(state: SharedState) -> Self {
        OverheadTimer {
            state,
            arrival: AtomicU64::new(0),
            upstream_ns: AtomicU64::new(0),
            api: AtomicUsize::new(0),
        }
    }

    /// Leaves a measure for the next write; `false` when `api` is not one
    /// the timer knows (the caller records it at once).
    fn defer(&self, api: &'static str, arrival: Instant, upstream: Duration) -> bool {
        let Some(index) = DEFERRABLE_APIS.iter().position(|a| *a == api) else {
            return false;
        };
        self.api.store(index, Ordering::Relaxed);
        self.upstream_ns.store(
            u64::try_from(upstream.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.arrival
            .store(wire_time::stamp(arrival).max(1), Ordering::Release);
        true
    }
}

impl WriteListener for OverheadTimer {
    fn wrote(&self, at: Instant) {
        if self.arrival.load(Ordering::Relaxed) == 0 {
            return;
        }
        let arrival = self.arrival.swap(0, Ordering::Acquire);
        if arrival == 0 {
            return;
        }
        let api = DEFERRABLE_APIS[self.api.load(Ordering::Relaxed)];
        let upstream = Duration::from_nanos(self.upstream_ns.load(Ordering::Relaxed));
        let total = at.saturating_duration_since(wire_time::instant(arrival));
        self.state
            .metrics
            .overhead(api, total.saturating_sub(upstream));
    }
}
