//! The periodic health probe: `health.probe_interval_ms` apart, every ready
//! instance's health check runs (and updates its passive health). One task
//! per registry; it follows config changes and stops on shutdown or when
//! the registry is dropped.

use std::sync::Arc;
use std::time::Duration;

use super::Registry;
use crate::config::MAX_DURATION;

impl Registry {
    /// The probe interval, if probes are on.
    fn probe_interval(&self) -> Option<Duration> {
        self.health_config()
            .probe_interval_ms
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms).min(MAX_DURATION))
    }

    /// Starts the periodic probe. It waits one interval before the first
    /// round, re-reads the interval after each round and whenever
    /// [`set_health_config`](Self::set_health_config) changes it, and ends
    /// on [`shutdown`](Self::shutdown) or when the registry is dropped
    /// (abort the handle to stop it sooner).
    pub fn spawn_probe(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let stop = self.base_ctx.cancel.clone();
        let changed = self.probe_changed.clone();
        tokio::spawn(async move {
            loop {
                let interval = match weak.upgrade() {
                    Some(registry) => registry.probe_interval(),
                    None => return,
                };
                let wait = async {
                    match interval {
                        Some(every) => tokio::time::sleep(every).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = changed.notified() => continue,
                    () = wait => {}
                }
                let Some(registry) = weak.upgrade() else {
                    return;
                };
                tokio::select! {
                    () = stop.cancelled() => return,
                    results = registry.health_check_all() => {
                        for (instance, result) in results {
                            if let Err(error) = result {
                                tracing::debug!(%instance, %error, "health probe failed");
                            }
                        }
                    }
                }
            }
        })
    }
}
