//! The state every handler shares.

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
    request_ids: AtomicU64,
    id_prefix: u32,
}

/// The state as handlers hold it.
pub(crate) type SharedState = Arc<AppState>;

impl AppState {
    /// Fresh state for `sb`: ready, no metrics yet, a random request-id prefix.
    pub(crate) fn new(sb: Arc<Switchboard>) -> Self {
        AppState {
            sb,
            metrics: Metrics::new(),
            ready: AtomicBool::new(true),
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
