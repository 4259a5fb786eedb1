//! The state every handler shares.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use switchboard_gateway::Switchboard;

use crate::metrics::Metrics;

/// Everything a handler needs.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The gateway: routing, instances, configuration.
    pub(crate) sb: Arc<Switchboard>,
    /// Every metric the server exports.
    pub(crate) metrics: Metrics,
    /// Whether the server accepts traffic (`false` while shutting down).
    pub(crate) ready: AtomicBool,
    /// The address the server listens on (for `app()` alone: the configured
    /// one): a loopback listener checks `Host` names.
    pub(crate) listen: SocketAddr,
    /// Whether the connections count requests into the in-flight gauge
    /// (see `conn`); otherwise the request-context middleware does.
    pub(crate) counted_by_connection: bool,
    /// Stored Responses API responses when no extension store is open.
    pub(crate) responses: crate::responses_memory::MemoryResponses,
    /// Counts successful requests for the sampled access log.
    pub(crate) access_log: crate::access_log::Sampler,
    request_ids: AtomicU64,
    id_prefix: u32,
}

/// The state as handlers hold it.
pub(crate) type SharedState = Arc<AppState>;

impl AppState {
    /// Fresh state for `sb` served by the caller: ready, no metrics yet, a
    /// random request-id prefix.
    pub(crate) fn new(sb: Arc<Switchboard>) -> Self {
        let listen = sb.config().server.listen;
        Self::with(sb, listen, false)
    }

    /// Fresh state for a [`Server`](crate::Server) listening on `listen`.
    pub(crate) fn for_server(sb: Arc<Switchboard>, listen: SocketAddr) -> Self {
        Self::with(sb, listen, true)
    }

    fn with(sb: Arc<Switchboard>, listen: SocketAddr, counted_by_connection: bool) -> Self {
        AppState {
            sb,
            metrics: Metrics::new(),
            ready: AtomicBool::new(true),
            listen,
            counted_by_connection,
            responses: Default::default(),
            access_log: Default::default(),
            request_ids: AtomicU64::new(1),
            id_prefix: fastrand::u32(..),
        }
    }

    /// A new request id, `req_` then this process's prefix and a counter.
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.request_ids.fetch_add(1, Ordering::Relaxed);
        format!("req_{:08x}{n:012x}", self.id_prefix)
    }
}
