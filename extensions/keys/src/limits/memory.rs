//! The memory backend: per-key request and token limits as **token
//! buckets** (GCRA, a leaky bucket used as a meter), and a count of
//! requests in flight per key, all in this process.
//!
//! A limit of `L` per minute is a bucket of `L` that drains at `L` per
//! minute: a request (or its tokens) pours in if it fits, else it waits
//! until enough has drained. A full burst of `L` is admitted at once; after
//! that, one more every `60 s / L` — so a client that spent its limit just
//! before a minute's edge gets nothing back at the edge (fixed minute
//! buckets would admit `L` more there: twice the limit in two seconds).
//! Each key's state is two numbers (its level and when it was last
//! measured), so memory and time per check do not grow with the limit; a
//! sliding log, which this replaced, kept one entry per request and cost
//! its entries' reallocations on busy keys.
//!
//! One mutex per limiter map, held for the few arithmetic steps of one
//! check.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard_core::async_trait;

use super::{Admission, Ask, BackendError, LimitBackend, ParallelSlot, Refused, Verdict, WINDOW};

/// One key's bucket: how full it was at `at`, and the limit it was last
/// checked against (what it drains at while nobody asks).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
    limit: u64,
}

impl Bucket {
    fn new(now: Instant, limit: u64) -> Self {
        Bucket {
            level: 0.0,
            at: now,
            limit,
        }
    }

    /// Drains what flowed out since it was last measured (at `limit` per
    /// window). A `now` before the last measure (a racing caller's older
    /// clock reading) drains nothing.
    fn drain(&mut self, now: Instant, limit: u64) {
        if now > self.at {
            let elapsed = (now - self.at).as_secs_f64();
            self.level = (self.level - elapsed * rate(limit)).max(0.0);
            self.at = now;
        }
    }

    fn check(&mut self, now: Instant, limit: u64, weight: u64) -> Verdict {
        self.drain(now, limit);
        self.limit = limit;
        let weight = weight.min(limit) as f64;
        let cap = limit as f64;
        // The small slack absorbs the rounding of the drain's arithmetic.
        if self.level + weight <= cap + 1e-6 {
            self.level += weight;
            return Verdict {
                admitted: true,
                limit,
                remaining: left(cap, self.level),
                reset: secs(self.level / rate(limit)),
            };
        }
        Verdict {
            admitted: false,
            limit,
            remaining: left(cap, self.level),
            reset: secs((self.level + weight - cap) / rate(limit)),
        }
    }

    fn add(&mut self, now: Instant, limit: u64, weight: u64) {
        self.drain(now, limit);
        self.limit = limit;
        self.level += weight as f64;
    }

    /// Whether it has drained empty by `now` (nothing to remember).
    fn is_empty_at(&self, now: Instant) -> bool {
        let mut b = *self;
        b.drain(now, self.limit);
        b.level <= 0.0
    }
}

/// A bucket's drain per second.
fn rate(limit: u64) -> f64 {
    limit as f64 / WINDOW.as_secs_f64()
}

/// What is left of `cap` at `level`, whole units.
fn left(cap: f64, level: f64) -> u64 {
    (cap - level).max(0.0).floor() as u64
}

/// `s` seconds, rounded up to the millisecond (a client told to wait never
/// comes back a little early). The drain's float arithmetic leaves noise
/// below a microsecond (2.1 - 2 is 0.10000000000000009): it is not rounded
/// up to a whole millisecond more.
fn secs(s: f64) -> Duration {
    Duration::from_millis((s.max(0.0) * 1000.0 - 1e-6).ceil().max(0.0) as u64)
}

/// Token buckets by key id.
#[derive(Debug, Default)]
pub struct Windows {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Windows {
    /// Counts `weight` for `key` at `now` if it fits in `limit`.
    pub fn check(&self, key: &str, now: Instant, limit: u64, weight: u64) -> Verdict {
        self.with_bucket(key, now, limit, |b| b.check(now, limit, weight))
    }

    /// Counts `weight` more for `key` (usage reconciled after the answer),
    /// even past its limit: later requests wait for it to drain.
    pub fn add(&self, key: &str, now: Instant, limit: u64, weight: u64) {
        self.with_bucket(key, now, limit, |b| b.add(now, limit, weight));
    }

    /// Forgets keys whose bucket has drained (also done as keys are added).
    pub fn prune(&self, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.retain(|_, b| !b.is_empty_at(now));
    }

    /// Runs `f` on `key`'s bucket, made empty if it is new (the key is only
    /// copied then).
    fn with_bucket<R>(
        &self,
        key: &str,
        now: Instant,
        limit: u64,
        f: impl FnOnce(&mut Bucket) -> R,
    ) -> R {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            return f(bucket);
        }
        // A new key: now and then (at 1024, 2048, ... keys) drop the keys
        // whose bucket has drained, so the map stays the size of the keys in
        // use (amortised O(1) per new key).
        if buckets.len() >= 1024 && buckets.len().is_power_of_two() {
            buckets.retain(|_, b| !b.is_empty_at(now));
        }
        let mut bucket = Bucket::new(now, limit);
        let answer = f(&mut bucket);
        buckets.insert(key.to_owned(), bucket);
        answer
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

    async fn add_tokens(&self, key: &str, tpm: u64, tokens: u64) -> Result<(), BackendError> {
        self.tokens.add(key, Instant::now(), tpm, tokens);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `d` is `secs` seconds, give or take the rounding of a
    /// millisecond.
    fn about(d: Duration, secs: u64) -> bool {
        d.as_millis().abs_diff(u128::from(secs) * 1000) <= 1
    }

    #[test]
    fn keys_whose_bucket_drained_are_forgotten_as_new_ones_come() {
        let w = Windows::default();
        let t0 = Instant::now();
        for i in 0..1024 {
            w.check(&format!("old-{i}"), t0, 10, 1);
        }
        // A minute later the old buckets are empty: the next new key prunes them.
        w.check("new", t0 + WINDOW, 10, 1);
        let buckets = w.buckets.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(buckets.len(), 1, "only the live key is kept");
    }

    #[test]
    fn a_burst_just_before_a_minute_boundary_is_not_followed_by_another() {
        let w = Windows::default();
        let t0 = Instant::now();
        // 10 at 0:59, just before a fixed minute bucket would roll over.
        let late = t0 + Duration::from_secs(59);
        for _ in 0..10 {
            assert!(w.check("k", late, 10, 1).admitted);
        }
        assert!(!w.check("k", late, 10, 1).admitted, "the 11th");
        // 1:01: a fixed bucket would admit 10 more; the bucket has drained
        // two seconds' worth (a third of a request).
        let v = w.check("k", t0 + Duration::from_secs(61), 10, 1);
        assert!(!v.admitted);
        assert_eq!(v.remaining, 0);
        assert!(
            about(v.reset, 4),
            "one request drains in 6 s: {:?}",
            v.reset
        );
        // 1:05: one request's room, and only one.
        let at = t0 + Duration::from_secs(65);
        assert!(w.check("k", at, 10, 1).admitted);
        assert!(!w.check("k", at, 10, 1).admitted);
        // A full minute after the burst the bucket is empty again.
        let v = w.check("k", t0 + Duration::from_secs(125), 10, 1);
        assert_eq!((v.admitted, v.remaining), (true, 9));
    }

    #[test]
    fn at_most_the_limit_plus_the_drain_in_any_minute() {
        // Hammer a key every 100 ms for three minutes: every 60-second span
        // admits at most the limit plus what drains in it (the token
        // bucket's bound), never twice the limit.
        let w = Windows::default();
        let t0 = Instant::now();
        let mut admitted = Vec::new();
        for i in 0..1800u64 {
            let at = Duration::from_millis(i * 100);
            if w.check("k", t0 + at, 30, 1).admitted {
                admitted.push(at);
            }
        }
        for (i, start) in admitted.iter().enumerate() {
            let in_span = admitted[i..]
                .iter()
                .take_while(|t| **t < *start + WINDOW)
                .count();
            assert!(in_span <= 60, "{in_span} in the minute from {start:?}");
        }
        // The burst, then one every 2 s for the rest of the three minutes.
        assert!((118..=120).contains(&admitted.len()), "{}", admitted.len());
    }

    #[test]
    fn a_wait_is_exact_to_the_millisecond_not_one_more() {
        // 3 rpm, full at 0:00; at 0:18 the bucket holds 2.1 (0.9 drained),
        // so the next request fits in exactly 2 s. Float arithmetic makes
        // that 2000.0000000000002 ms; rounding it up gave 2001.
        let w = Windows::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(w.check("k", t0, 3, 1).admitted);
        }
        let v = w.check("k", t0 + Duration::from_secs(18), 3, 1);
        assert!(!v.admitted);
        assert_eq!(v.reset, Duration::from_secs(2));
        // A wait a fraction of a millisecond over a whole one still rounds up.
        assert_eq!(secs(0.0021), Duration::from_millis(3));
        assert_eq!(secs(-1.0), Duration::ZERO);
    }

    #[test]
    fn remaining_and_reset_count_down() {
        let w = Windows::default();
        let t0 = Instant::now();
        let v = w.check("k", t0, 3, 1);
        assert_eq!((v.admitted, v.remaining), (true, 2));
        assert!(about(v.reset, 20), "empty again in 20 s: {:?}", v.reset);
        let v = w.check("k", t0 + Duration::from_secs(10), 3, 1);
        assert_eq!(v.remaining, 1);
        assert!(about(v.reset, 30), "{:?}", v.reset);
        assert_eq!(w.check("other", t0, 3, 1).remaining, 2, "keys are apart");
    }

    #[test]
    fn token_weights_and_reconciliation() {
        let w = Windows::default();
        let t0 = Instant::now();
        assert!(w.check("k", t0, 100, 60).admitted);
        assert!(!w.check("k", t0, 100, 50).admitted, "60 + 50 > 100");
        // The answer used 30 more than estimated.
        w.add("k", t0, 100, 30);
        let v = w.check("k", t0, 100, 10);
        assert!(v.admitted);
        assert_eq!(v.remaining, 0);
        // Overspent answers count past the limit: the next waits longer.
        w.add("k", t0, 100, 50);
        let v = w.check("k", t0, 100, 10);
        assert!(!v.admitted);
        assert!(
            about(v.reset, 36),
            "60 tokens over at 100/min: {:?}",
            v.reset
        );
        w.prune(t0 + Duration::from_secs(90));
        assert_eq!(w.check("k", t0 + WINDOW * 2, 100, 0).remaining, 100);
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
