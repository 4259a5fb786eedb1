//! The memory backend: per-key request and token limits over a **sliding
//! window log** — each admitted request (or its tokens) is kept with its
//! time for one window, so no 60-second span ever holds more than the limit
//! (unlike fixed minute buckets, which let twice the limit through across a
//! boundary) — and a count of requests in flight per key, all in this
//! process.
//!
//! One mutex per limiter map, held for the few operations of one check;
//! the log of a key holds at most `limit` entries (requests) or one entry
//! per admitted request (tokens), so memory is bounded by the limits.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_core::async_trait;

use super::{Admission, Ask, BackendError, LimitBackend, ParallelSlot, Refused, Verdict, WINDOW};

/// One key's sliding window.
#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<(Instant, u64)>,
    sum: u64,
}

impl Log {
    fn evict(&mut self, now: Instant) {
        while let Some(&(at, n)) = self.entries.front() {
            if now.saturating_duration_since(at) < WINDOW {
                break;
            }
            self.entries.pop_front();
            self.sum = self.sum.saturating_sub(n);
        }
    }

    fn check(&mut self, now: Instant, limit: u64, weight: u64) -> Verdict {
        self.evict(now);
        if self.sum.saturating_add(weight) <= limit {
            if weight > 0 {
                self.entries.push_back((now, weight));
                self.sum += weight;
            }
            let reset = self.entries.front().map_or(Duration::ZERO, |&(at, _)| {
                (at + WINDOW).saturating_duration_since(now)
            });
            return Verdict {
                admitted: true,
                limit,
                remaining: limit - self.sum,
                reset,
            };
        }
        // The earliest time enough entries leave the window for `weight`.
        let mut freed = 0u64;
        let mut reset = WINDOW;
        for &(at, n) in &self.entries {
            freed += n;
            if self.sum - freed + weight.min(limit) <= limit {
                reset = (at + WINDOW).saturating_duration_since(now);
                break;
            }
        }
        Verdict {
            admitted: false,
            limit,
            remaining: limit.saturating_sub(self.sum),
            reset,
        }
    }

    fn add(&mut self, now: Instant, weight: u64) {
        self.evict(now);
        if weight > 0 {
            self.entries.push_back((now, weight));
            self.sum = self.sum.saturating_add(weight);
        }
    }
}

/// Sliding windows by key id.
#[derive(Debug, Default)]
pub struct Windows {
    logs: Mutex<HashMap<String, Log>>,
}

impl Windows {
    /// Counts `weight` for `key` at `now` if it fits in `limit`.
    pub fn check(&self, key: &str, now: Instant, limit: u64, weight: u64) -> Verdict {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        match logs.get_mut(key) {
            Some(log) => log.check(now, limit, weight),
            None => {
                // A new key: now and then (at 1024, 2048, ... keys) drop the
                // keys whose window has emptied, so the map stays the size
                // of the keys in use (amortised O(1) per new key).
                if logs.len() >= 1024 && logs.len().is_power_of_two() {
                    logs.retain(|_, log| {
                        log.evict(now);
                        !log.entries.is_empty()
                    });
                }
                let mut log = Log::default();
                let v = log.check(now, limit, weight);
                logs.insert(key.to_owned(), log);
                v
            }
        }
    }

    /// Counts `weight` more for `key` (usage reconciled after the answer).
    pub fn add(&self, key: &str, now: Instant, weight: u64) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.entry(key.to_owned()).or_default().add(now, weight);
    }

    /// Forgets keys whose window is empty (also done by `check` as keys are
    /// added).
    pub fn prune(&self, now: Instant) {
        let mut logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        logs.retain(|_, log| {
            log.evict(now);
            !log.entries.is_empty()
        });
    }
}

/// Requests in flight by key id.
#[derive(Debug, Default)]
pub struct InFlight {
    counts: Mutex<HashMap<String, Arc<AtomicU32>>>,
}

/// Held while a request runs; dropping it ends the request's count.
#[derive(Debug)]
pub struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InFlight {
    /// A slot for `key` if fewer than `max` requests of it run.
    pub fn acquire(&self, key: &str, max: u32) -> Option<Slot> {
        let counter = {
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            counts.entry(key.to_owned()).or_default().clone()
        };
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(counter))
    }

    /// How many requests of `key` run now.
    pub fn running(&self, key: &str) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(key).map_or(0, |c| c.load(Ordering::Acquire))
    }
}

/// The limits of every key in this process: what one gateway node admits.
#[derive(Debug, Default)]
pub struct MemoryLimits {
    requests: Windows,
    tokens: Windows,
    in_flight: InFlight,
}

#[async_trait]
impl LimitBackend for MemoryLimits {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn admit(&self, key: &str, ask: &Ask) -> Result<Admission, BackendError> {
        let now = Instant::now();
        let mut admission = Admission::default();
        if let Some(max) = ask.max_parallel {
            match self.in_flight.acquire(key, max) {
                Some(slot) => admission.slot = Some(ParallelSlot::Memory(slot)),
                None => {
                    admission.refused = Some(Refused::Parallel);
                    return Ok(admission);
                }
            }
        }
        if let Some(rpm) = ask.rpm {
            let v = self.requests.check(key, now, rpm, 1);
            admission.requests = Some(v);
            if !v.admitted {
                admission.refuse(Refused::Requests);
                return Ok(admission);
            }
        }
        if let Some(tpm) = ask.tpm {
            let v = self.tokens.check(key, now, tpm, ask.tokens);
            admission.tokens = Some(v);
            if !v.admitted {
                admission.refuse(Refused::Tokens);
            }
        }
        Ok(admission)
    }

    async fn add_tokens(&self, key: &str, tokens: u64) -> Result<(), BackendError> {
        self.tokens.add(key, Instant::now(), tokens);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_whose_window_emptied_are_forgotten_as_new_ones_come() {
        let w = Windows::default();
        let t0 = Instant::now();
        for i in 0..1024 {
            w.check(&format!("old-{i}"), t0, 10, 1);
        }
        // A minute later the old windows are empty: the next new key prunes them.
        w.check("new", t0 + WINDOW, 10, 1);
        let logs = w.logs.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(logs.len(), 1, "only the live key is kept");
    }

    #[test]
    fn a_window_never_holds_more_than_the_limit_even_across_a_minute_boundary() {
        let w = Windows::default();
        let t0 = Instant::now();
        // 10 at 0:59, just before a fixed minute bucket would roll over.
        let late = t0 + Duration::from_secs(59);
        for _ in 0..10 {
            assert!(w.check("k", late, 10, 1).admitted);
        }
        // 1:01: a fixed bucket would admit 10 more; a sliding window none.
        let v = w.check("k", t0 + Duration::from_secs(61), 10, 1);
        assert!(!v.admitted);
        assert_eq!(v.remaining, 0);
        assert_eq!(v.reset, Duration::from_secs(58), "frees at 1:59");
        // 1:59: the first ten leave the window.
        assert!(w.check("k", t0 + Duration::from_secs(119), 10, 1).admitted);
    }

    #[test]
    fn remaining_and_reset_count_down() {
        let w = Windows::default();
        let t0 = Instant::now();
        let v = w.check("k", t0, 3, 1);
        assert_eq!((v.admitted, v.remaining, v.reset), (true, 2, WINDOW));
        let v = w.check("k", t0 + Duration::from_secs(10), 3, 1);
        assert_eq!((v.remaining, v.reset), (1, Duration::from_secs(50)));
        assert_eq!(w.check("other", t0, 3, 1).remaining, 2, "keys are apart");
    }

    #[test]
    fn token_weights_and_reconciliation() {
        let w = Windows::default();
        let t0 = Instant::now();
        assert!(w.check("k", t0, 100, 60).admitted);
        assert!(!w.check("k", t0, 100, 50).admitted, "60 + 50 > 100");
        // The answer used 30 more than estimated.
        w.add("k", t0, 30);
        let v = w.check("k", t0, 100, 10);
        assert!(v.admitted);
        assert_eq!(v.remaining, 0);
        w.prune(t0 + WINDOW);
        assert_eq!(w.check("k", t0 + WINDOW, 100, 0).remaining, 100);
    }

    #[test]
    fn in_flight_slots_are_released_on_drop() {
        let f = InFlight::default();
        let a = f.acquire("k", 2).expect("first");
        let _b = f.acquire("k", 2).expect("second");
        assert!(f.acquire("k", 2).is_none(), "third refused");
        drop(a);
        assert_eq!(f.running("k"), 1);
        assert!(f.acquire("k", 2).is_some());
    }
}
