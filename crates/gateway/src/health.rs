//! Passive health: every real request updates its instance's health, lock-free.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use switchboard_core::{Error, ErrorKind};
use tokio::time::Instant;

use crate::config::types::HealthConfig;

/// The thresholds [`Health`] applies, copied out of [`HealthConfig`] so the
/// hot path reads plain integers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HealthPolicy {
    consecutive_failures: u32,
    /// Error ratio threshold in parts per million (integer math on the hot path).
    error_ratio_ppm: u64,
    window: u32,
    min_requests: u32,
    cooldown: Duration,
}

impl From<&HealthConfig> for HealthPolicy {
    fn from(c: &HealthConfig) -> Self {
        HealthPolicy {
            consecutive_failures: c.consecutive_failures.max(1),
            error_ratio_ppm: (c.error_ratio.clamp(0.0, 1.0) * 1_000_000.0) as u64,
            window: c.window.clamp(1, 64),
            min_requests: c.min_requests.max(1),
            cooldown: Duration::from_millis(c.cooldown_ms),
        }
    }
}

/// Whether an error says something about the instance (rather than about the
/// request): these count as failures for health and cooldown.
pub(crate) fn counts_against_instance(err: &Error) -> bool {
    match err.kind() {
        ErrorKind::InvalidRequest
        | ErrorKind::ContextLengthExceeded
        | ErrorKind::NotFound
        | ErrorKind::Unsupported
        | ErrorKind::Cancelled => false,
        ErrorKind::Upstream { status } => *status >= 500 || *status == 408,
        _ => true,
    }
}

/// One instance's health, updated by every request without locks.
///
/// The recent outcomes are a 64-bit shift register (1 = failure), so the
/// rolling error ratio is a popcount.
#[derive(Debug)]
pub struct Health {
    epoch: Instant,
    consecutive_failures: AtomicU32,
    outcomes: AtomicU64,
    window_len: AtomicU32,
    last_latency_us: AtomicU64,
    /// Exponentially weighted latency (alpha = 1/8), for `least-latency`.
    ewma_latency_us: AtomicU64,
    /// Milliseconds since `epoch` of the last request or check; 0 = never.
    last_check_ms: AtomicU64,
    /// Milliseconds since `epoch` until which the instance is skipped.
    cooldown_until_ms: AtomicU64,
    total_requests: AtomicU64,
    total_failures: AtomicU64,
}

/// A point-in-time view of an instance's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthSnapshot {
    /// Whether the router will send requests to the instance now.
    pub available: bool,
    /// Latency of the last request or check, in milliseconds.
    pub last_latency_ms: Option<f64>,
    /// Smoothed latency, in milliseconds.
    pub avg_latency_ms: Option<f64>,
    /// How long ago the last request or check finished, in milliseconds.
    pub last_check_ago_ms: Option<u64>,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Failures over the recent window (0 to 1).
    pub error_ratio: f64,
    /// Requests in the recent window.
    pub window_requests: u32,
    /// Remaining cooldown, in milliseconds (0 when available).
    pub cooldown_remaining_ms: u64,
    /// Requests since the instance was created.
    pub total_requests: u64,
    /// Failed requests since the instance was created.
    pub total_failures: u64,
}

impl Health {
    pub(crate) fn new() -> Self {
        Health {
            epoch: Instant::now(),
            consecutive_failures: AtomicU32::new(0),
            outcomes: AtomicU64::new(0),
            window_len: AtomicU32::new(0),
            last_latency_us: AtomicU64::new(0),
            ewma_latency_us: AtomicU64::new(0),
            last_check_ms: AtomicU64::new(0),
            cooldown_until_ms: AtomicU64::new(0),
            total_requests: AtomicU64::new(0),
            total_failures: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        // +1 so that 0 can mean "never".
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1) + 1
    }

    fn record(&self, failed: bool, latency: Option<Duration>, policy: &HealthPolicy) {
        self.total_requests.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        self.last_check_ms.store(now, Ordering::Relaxed);
        if let Some(latency) = latency {
            let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            self.last_latency_us.store(us, Ordering::Relaxed);
            let old = self.ewma_latency_us.load(Ordering::Relaxed);
            let new = if old == 0 { us } else { old - old / 8 + us / 8 };
            self.ewma_latency_us.store(new.max(1), Ordering::Relaxed);
        }
        let mask = if policy.window >= 64 {
            u64::MAX
        } else {
            (1u64 << policy.window) - 1
        };
        let bit = u64::from(failed);
        let _ = self
            .outcomes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(((o << 1) | bit) & mask)
            });
        let _ = self
            .window_len
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some((n + 1).min(policy.window))
            });
        if !failed {
            self.consecutive_failures.store(0, Ordering::Relaxed);
            return;
        }
        self.total_failures.fetch_add(1, Ordering::Relaxed);
        let consecutive = self.consecutive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        let window_len = self.window_len.load(Ordering::Relaxed);
        let failures = u64::from((self.outcomes.load(Ordering::Relaxed) & mask).count_ones());
        let ratio_tripped = window_len >= policy.min_requests
            && failures * 1_000_000 >= policy.error_ratio_ppm * u64::from(window_len);
        if consecutive >= policy.consecutive_failures || ratio_tripped {
            let until = now + u64::try_from(policy.cooldown.as_millis()).unwrap_or(u64::MAX / 2);
            self.cooldown_until_ms.store(until, Ordering::Relaxed);
            // Start the next window fresh so one probe after the cooldown
            // is judged on its own.
            self.outcomes.store(0, Ordering::Relaxed);
            self.window_len.store(0, Ordering::Relaxed);
        }
    }

    /// Records a successful request that took `latency`.
    pub(crate) fn record_success(&self, latency: Duration, policy: &HealthPolicy) {
        self.record(false, Some(latency), policy);
    }

    /// Records a failed request; errors that are the request's fault are ignored.
    pub(crate) fn record_error(&self, err: &Error, latency: Duration, policy: &HealthPolicy) {
        if counts_against_instance(err) {
            self.record(true, Some(latency), policy);
        }
    }

    /// Whether the instance is in cooldown now.
    pub fn is_cooling_down(&self) -> bool {
        self.cooldown_until_ms.load(Ordering::Relaxed) > self.now_ms()
    }

    /// Clears failures and cooldown (after a successful reload or a manual check).
    pub(crate) fn reset(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        self.outcomes.store(0, Ordering::Relaxed);
        self.window_len.store(0, Ordering::Relaxed);
        self.cooldown_until_ms.store(0, Ordering::Relaxed);
    }

    /// Smoothed latency in microseconds; 0 when nothing is known yet.
    pub(crate) fn ewma_latency_us(&self) -> u64 {
        self.ewma_latency_us.load(Ordering::Relaxed)
    }

    /// The current view.
    pub fn snapshot(&self) -> HealthSnapshot {
        let now = self.now_ms();
        let until = self.cooldown_until_ms.load(Ordering::Relaxed);
        let window = self.window_len.load(Ordering::Relaxed);
        let failures = self.outcomes.load(Ordering::Relaxed).count_ones();
        let last = self.last_check_ms.load(Ordering::Relaxed);
        let lat = self.last_latency_us.load(Ordering::Relaxed);
        let avg = self.ewma_latency_us.load(Ordering::Relaxed);
        HealthSnapshot {
            available: until <= now,
            last_latency_ms: (last != 0).then(|| lat as f64 / 1000.0),
            avg_latency_ms: (avg != 0).then(|| avg as f64 / 1000.0),
            last_check_ago_ms: (last != 0).then(|| now.saturating_sub(last)),
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            error_ratio: if window == 0 {
                0.0
            } else {
                f64::from(failures) / f64::from(window)
            },
            window_requests: window,
            cooldown_remaining_ms: until.saturating_sub(now),
            total_requests: self.total_requests.load(Ordering::Relaxed),
            total_failures: self.total_failures.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> HealthPolicy {
        HealthPolicy::from(&HealthConfig {
            consecutive_failures: 3,
            error_ratio: 0.5,
            window: 10,
            min_requests: 4,
            cooldown_ms: 1_000,
            ..HealthConfig::default()
        })
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn consecutive_failures_trip_cooldown_then_recover() {
        let h = Health::new();
        let p = policy();
        let err = Error::unavailable("down");
        h.record_error(&err, MS, &p);
        h.record_error(&err, MS, &p);
        assert!(!h.is_cooling_down());
        h.record_error(&err, MS, &p);
        assert!(h.is_cooling_down());
        assert_eq!(h.snapshot().consecutive_failures, 3);
        tokio::time::advance(Duration::from_millis(999)).await;
        assert!(h.is_cooling_down());
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(!h.is_cooling_down());
        h.record_success(MS, &p);
        assert_eq!(h.snapshot().consecutive_failures, 0);
        assert!(h.snapshot().available);
    }

    #[tokio::test(start_paused = true)]
    async fn error_ratio_trips_cooldown() {
        let h = Health::new();
        let p = policy();
        let err = Error::timeout("slow");
        // success, failure alternating: 2 of 4 = 0.5 >= threshold at min_requests 4
        h.record_success(MS, &p);
        h.record_error(&err, MS, &p);
        h.record_success(MS, &p);
        assert!(!h.is_cooling_down());
        h.record_error(&err, MS, &p);
        assert!(h.is_cooling_down());
    }

    #[tokio::test(start_paused = true)]
    async fn request_errors_do_not_count() {
        let h = Health::new();
        let p = policy();
        for _ in 0..10 {
            h.record_error(&Error::invalid_request("bad"), MS, &p);
            h.record_error(&Error::context_length_exceeded("long"), MS, &p);
        }
        assert!(!h.is_cooling_down());
        assert_eq!(h.snapshot().total_requests, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_is_smoothed() {
        let h = Health::new();
        let p = policy();
        h.record_success(Duration::from_millis(80), &p);
        assert_eq!(h.ewma_latency_us(), 80_000);
        h.record_success(Duration::from_millis(0), &p);
        assert_eq!(h.ewma_latency_us(), 70_000);
        assert_eq!(h.snapshot().last_latency_ms, Some(0.0));
    }
}
