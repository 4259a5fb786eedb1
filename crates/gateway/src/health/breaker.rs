//! [`Breaker`]: the failure counters and cooldown of one deployment (or of
//! an instance as a whole), updated without locks.
//!
//! Times are milliseconds since the owning [`Health`](super::Health)'s epoch,
//! plus one so that 0 means "never".

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::HealthPolicy;

/// Failure counters and cooldown. The recent outcomes are a 64-bit shift
/// register (1 = failure), so the rolling error ratio is a popcount.
#[derive(Debug, Default)]
pub(super) struct Breaker {
    consecutive_failures: AtomicU32,
    outcomes: AtomicU64,
    window_len: AtomicU32,
    /// Until when the breaker is open (the target skipped); 0 = never.
    cooldown_until_ms: AtomicU64,
    /// When the last failure was recorded; 0 = never.
    last_failure_ms: AtomicU64,
}

/// The counters of a [`Breaker`] at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BreakerView {
    pub(super) consecutive_failures: u32,
    pub(super) error_ratio: f64,
    pub(super) window_requests: u32,
    pub(super) cooldown_remaining_ms: u64,
    pub(super) last_failure_ago_ms: Option<u64>,
}

impl Breaker {
    /// Records one outcome at `now`. A failure that reaches the policy's
    /// thresholds opens the breaker for `cooldown_ms`, when `may_trip`.
    pub(super) fn record(
        &self,
        failed: bool,
        now: u64,
        policy: &HealthPolicy,
        may_trip: bool,
        cooldown_ms: u64,
    ) {
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
                Some(n.saturating_add(1).min(policy.window))
            });
        if !failed {
            self.consecutive_failures.store(0, Ordering::Relaxed);
            return;
        }
        self.last_failure_ms.store(now, Ordering::Relaxed);
        let consecutive = self
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if !may_trip {
            return;
        }
        let window_len = self.window_len.load(Ordering::Relaxed);
        let failures = u64::from((self.outcomes.load(Ordering::Relaxed) & mask).count_ones());
        let ratio_tripped = window_len >= policy.min_requests
            && failures.saturating_mul(1_000_000)
                >= policy.error_ratio_ppm.saturating_mul(u64::from(window_len));
        if consecutive >= policy.consecutive_failures || ratio_tripped {
            self.cool_until(now.saturating_add(cooldown_ms));
            // Start the next window fresh so one probe after the cooldown
            // is judged on its own.
            self.outcomes.store(0, Ordering::Relaxed);
            self.window_len.store(0, Ordering::Relaxed);
        }
    }

    /// Opens the breaker until `until` at least.
    pub(super) fn cool_until(&self, until: u64) {
        self.cooldown_until_ms.fetch_max(until, Ordering::Relaxed);
    }

    /// Whether the breaker is open at `now`.
    pub(super) fn cooling(&self, now: u64) -> bool {
        self.cooldown_until_ms.load(Ordering::Relaxed) > now
    }

    /// When the last failure was recorded (0 = never).
    pub(super) fn last_failure_ms(&self) -> u64 {
        self.last_failure_ms.load(Ordering::Relaxed)
    }

    /// Whether the breaker holds nothing worth keeping at `now`: closed and
    /// no failure since the last success.
    pub(super) fn idle(&self, now: u64) -> bool {
        !self.cooling(now) && self.consecutive_failures.load(Ordering::Relaxed) == 0
    }

    /// Closes the breaker and forgets the failures.
    pub(super) fn reset(&self) {
        self.consecutive_failures.store(0, Ordering::Relaxed);
        self.outcomes.store(0, Ordering::Relaxed);
        self.window_len.store(0, Ordering::Relaxed);
        self.cooldown_until_ms.store(0, Ordering::Relaxed);
    }

    /// The counters at `now`.
    pub(super) fn view(&self, now: u64) -> BreakerView {
        let window = self.window_len.load(Ordering::Relaxed);
        let failures = self.outcomes.load(Ordering::Relaxed).count_ones();
        let last = self.last_failure_ms();
        BreakerView {
            consecutive_failures: self.consecutive_failures.load(Ordering::Relaxed),
            error_ratio: if window == 0 {
                0.0
            } else {
                f64::from(failures) / f64::from(window)
            },
            window_requests: window,
            cooldown_remaining_ms: self
                .cooldown_until_ms
                .load(Ordering::Relaxed)
                .saturating_sub(now),
            last_failure_ago_ms: (last != 0).then(|| now.saturating_sub(last)),
        }
    }
}
