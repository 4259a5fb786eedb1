//! Passive health, lock-free: every routed request updates the health of
//! its deployment (an instance and one of its models); health checks update
//! the instance's as a whole.
//!
//! A deployment that keeps failing is cooled down (skipped) for
//! `cooldown_ms`; a rate limit cools only its deployment, for its
//! `Retry-After` (at most `cooldown_ms`). Errors that are the request's
//! fault never count ([`blame`]). Deployment entries are created on their
//! first failure only, so healthy traffic allocates nothing here.

mod breaker;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::Serialize;
use switchboard_core::{Error, ErrorKind};
use tokio::time::Instant;

use crate::config::types::HealthConfig;
use breaker::Breaker;

/// Most deployments tracked per instance: clients can name any model of a
/// single instance, so the map is bounded. Idle entries make room.
const MAX_DEPLOYMENTS: usize = 256;

/// The thresholds [`Health`] applies, copied out of [`HealthConfig`] so the
/// hot path reads plain integers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HealthPolicy {
    consecutive_failures: u32,
    /// Error ratio threshold in parts per million (integer math on the hot path).
    error_ratio_ppm: u64,
    window: u32,
    min_requests: u32,
    cooldown_ms: u64,
}

impl From<&HealthConfig> for HealthPolicy {
    fn from(c: &HealthConfig) -> Self {
        HealthPolicy {
            consecutive_failures: c.consecutive_failures.max(1),
            error_ratio_ppm: (c.error_ratio.clamp(0.0, 1.0) * 1_000_000.0) as u64,
            window: c.window.clamp(1, 64),
            min_requests: c.min_requests.max(1),
            cooldown_ms: c.cooldown_ms,
        }
    }
}

/// Whose fault an error is: what the router may do next and whether it
/// counts against health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blame {
    /// The request's: the same request fails on every target (invalid
    /// request, content filtered, context too long, cancelled). Never
    /// falls back (context length has its own rule), never counts.
    Request,
    /// The target's: this deployment cannot serve this request, another
    /// may (model not found, unsupported, a client-error status). Falls
    /// back; says nothing about health.
    Target,
    /// The deployment's (auth, permission, rate limited, unavailable,
    /// timeout, malformed answers, 5xx and other statuses): falls back and
    /// counts against its health.
    Instance,
}

/// Classifies `err`; see [`Blame`].
pub(crate) fn blame(err: &Error) -> Blame {
    match err.kind() {
        ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded | ErrorKind::Cancelled => {
            Blame::Request
        }
        ErrorKind::NotFound | ErrorKind::Unsupported => Blame::Target,
        // Credentials, payment and timeouts are the instance's; other 4xx
        // statuses are about this request at this upstream.
        ErrorKind::Upstream { status } => match status {
            401..=403 | 407 | 408 | 429 => Blame::Instance,
            400..=499 => Blame::Target,
            _ => Blame::Instance,
        },
        _ => Blame::Instance,
    }
}

/// One instance's health, updated by every request without locks.
#[derive(Debug)]
pub struct Health {
    epoch: Instant,
    /// The instance as a whole: every outcome is counted here, but only
    /// health checks open it.
    instance: Breaker,
    /// Per model, created on a deployment's first failure.
    deployments: ArcSwap<HashMap<Box<str>, Arc<Breaker>>>,
    last_latency_us: AtomicU64,
    /// Exponentially weighted latency (alpha = 1/8), for `least-latency`.
    ewma_latency_us: AtomicU64,
    /// Milliseconds since `epoch` of the last request or check; 0 = never.
    last_check_ms: AtomicU64,
    total_requests: AtomicU64,
    total_failures: AtomicU64,
}

/// A point-in-time view of an instance's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthSnapshot {
    /// Whether the instance as a whole takes requests now: false while
    /// failed health checks cool it down. Each deployment has its own
    /// cooldown in `deployments`.
    pub available: bool,
    /// Latency of the last request or check, in milliseconds.
    pub last_latency_ms: Option<f64>,
    /// Smoothed latency, in milliseconds.
    pub avg_latency_ms: Option<f64>,
    /// How long ago the last request or check finished, in milliseconds.
    pub last_check_ago_ms: Option<u64>,
    /// Failures in a row, over all the instance's models.
    pub consecutive_failures: u32,
    /// Failures over the recent window, over all models (0 to 1).
    pub error_ratio: f64,
    /// Requests in the recent window.
    pub window_requests: u32,
    /// Remaining cooldown of the instance as a whole, in milliseconds (0 when available).
    pub cooldown_remaining_ms: u64,
    /// Requests since the instance was created.
    pub total_requests: u64,
    /// Failed requests since the instance was created.
    pub total_failures: u64,
    /// The deployments (models) that failed since the instance was created
    /// or reset, by model id.
    pub deployments: Vec<DeploymentSnapshot>,
}

/// A point-in-time view of one deployment: an instance's model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentSnapshot {
    /// The model id at the instance.
    pub model: String,
    /// Whether the router sends requests to this deployment now.
    pub available: bool,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// Failures over the recent window (0 to 1).
    pub error_ratio: f64,
    /// Requests in the recent window.
    pub window_requests: u32,
    /// Remaining cooldown, in milliseconds (0 when available).
    pub cooldown_remaining_ms: u64,
    /// How long ago the last failure was, in milliseconds.
    pub last_failure_ago_ms: Option<u64>,
}

impl Health {
    pub(crate) fn new() -> Self {
        Health {
            epoch: Instant::now(),
            instance: Breaker::default(),
            deployments: ArcSwap::from_pointee(HashMap::new()),
            last_latency_us: AtomicU64::new(0),
            ewma_latency_us: AtomicU64::new(0),
            last_check_ms: AtomicU64::new(0),
            total_requests: AtomicU64::new(0),
            total_failures: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        // +1 so that 0 can mean "never".
        u64::try_from(self.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Updates the instance-wide counters; returns `now`.
    fn count(&self, failed: bool, latency: Duration) -> u64 {
        self.total_requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.total_failures.fetch_add(1, Ordering::Relaxed);
        }
        let now = self.now_ms();
        self.last_check_ms.store(now, Ordering::Relaxed);
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.last_latency_us.store(us, Ordering::Relaxed);
        let old = self.ewma_latency_us.load(Ordering::Relaxed);
        let new = if old == 0 { us } else { old - old / 8 + us / 8 };
        self.ewma_latency_us.store(new.max(1), Ordering::Relaxed);
        now
    }

    /// Records a successful health check that took `latency`.
    pub(crate) fn record_success(&self, latency: Duration, policy: &HealthPolicy) {
        let now = self.count(false, latency);
        self.instance
            .record(false, now, policy, true, policy.cooldown_ms);
    }

    /// Records a failed health check; errors that are not the instance's
    /// fault are ignored. Enough of them cool the whole instance down.
    pub(crate) fn record_error(&self, err: &Error, latency: Duration, policy: &HealthPolicy) {
        if blame(err) == Blame::Instance {
            let now = self.count(true, latency);
            self.instance
                .record(true, now, policy, true, cooldown_for(err, policy));
        }
    }

    /// Records a routed request to `model` that succeeded.
    pub(crate) fn record_routed_success(
        &self,
        model: &str,
        latency: Duration,
        policy: &HealthPolicy,
    ) {
        let now = self.count(false, latency);
        self.instance
            .record(false, now, policy, false, policy.cooldown_ms);
        if let Some(d) = self.deployments.load().get(model) {
            d.record(false, now, policy, true, policy.cooldown_ms);
        }
    }

    /// Records a routed request to `model` that failed with `err`. Only
    /// errors that are the deployment's fault count; they cool down the
    /// deployment, never the instance as a whole. A rate limit with a
    /// `Retry-After` cools its deployment at once, for that long (at most
    /// `cooldown_ms`).
    pub(crate) fn record_routed_error(
        &self,
        model: &str,
        err: &Error,
        latency: Duration,
        policy: &HealthPolicy,
    ) {
        if blame(err) != Blame::Instance {
            return;
        }
        let now = self.count(true, latency);
        self.instance
            .record(true, now, policy, false, policy.cooldown_ms);
        let Some(d) = self.deployment(model, now) else {
            return;
        };
        let cooldown = cooldown_for(err, policy);
        d.record(true, now, policy, true, cooldown);
        if err.retry_after().is_some() {
            d.cool_until(now.saturating_add(cooldown));
        }
    }

    /// `model`'s entry, created if there is room.
    fn deployment(&self, model: &str, now: u64) -> Option<Arc<Breaker>> {
        if let Some(d) = self.deployments.load().get(model) {
            return Some(d.clone());
        }
        self.deployments.rcu(|map| {
            if map.contains_key(model) {
                return Arc::clone(map);
            }
            let mut next: HashMap<Box<str>, Arc<Breaker>> = if map.len() >= MAX_DEPLOYMENTS {
                map.iter()
                    .filter(|(_, d)| !d.idle(now))
                    .map(|(k, d)| (k.clone(), d.clone()))
                    .collect()
            } else {
                HashMap::clone(map)
            };
            if next.len() < MAX_DEPLOYMENTS {
                next.insert(model.into(), Arc::new(Breaker::default()));
            }
            Arc::new(next)
        });
        self.deployments.load().get(model).cloned()
    }

    /// Whether the instance as a whole is in cooldown now.
    pub fn is_cooling_down(&self) -> bool {
        self.instance.cooling(self.now_ms())
    }

    /// Whether `model` at this instance is skipped now (it or the instance
    /// as a whole is cooling down): `Some` with how long ago it last failed,
    /// in milliseconds (for "least recently failed"); `None` when usable.
    pub(crate) fn cooling(&self, model: &str) -> Option<u64> {
        let now = self.now_ms();
        let deployments = self.deployments.load();
        let d = deployments.get(model).filter(|d| d.cooling(now));
        if d.is_none() && !self.instance.cooling(now) {
            return None;
        }
        let last = d
            .map_or(0, |d| d.last_failure_ms())
            .max(self.instance.last_failure_ms());
        Some(if last == 0 {
            u64::MAX
        } else {
            now.saturating_sub(last)
        })
    }

    /// Clears failures and cooldowns (after a successful reload or a manual check).
    pub(crate) fn reset(&self) {
        self.instance.reset();
        self.deployments.store(Arc::new(HashMap::new()));
    }

    /// Smoothed latency in microseconds; 0 when nothing is known yet.
    pub(crate) fn ewma_latency_us(&self) -> u64 {
        self.ewma_latency_us.load(Ordering::Relaxed)
    }

    /// The current view.
    pub fn snapshot(&self) -> HealthSnapshot {
        let now = self.now_ms();
        let inst = self.instance.view(now);
        let last = self.last_check_ms.load(Ordering::Relaxed);
        let lat = self.last_latency_us.load(Ordering::Relaxed);
        let avg = self.ewma_latency_us.load(Ordering::Relaxed);
        let mut deployments: Vec<DeploymentSnapshot> = self
            .deployments
            .load()
            .iter()
            .map(|(model, d)| {
                let v = d.view(now);
                DeploymentSnapshot {
                    model: model.to_string(),
                    available: v.cooldown_remaining_ms == 0,
                    consecutive_failures: v.consecutive_failures,
                    error_ratio: v.error_ratio,
                    window_requests: v.window_requests,
                    cooldown_remaining_ms: v.cooldown_remaining_ms,
                    last_failure_ago_ms: v.last_failure_ago_ms,
                }
            })
            .collect();
        deployments.sort_by(|a, b| a.model.cmp(&b.model));
        HealthSnapshot {
            available: inst.cooldown_remaining_ms == 0,
            last_latency_ms: (last != 0).then(|| lat as f64 / 1000.0),
            avg_latency_ms: (avg != 0).then(|| avg as f64 / 1000.0),
            last_check_ago_ms: (last != 0).then(|| now.saturating_sub(last)),
            consecutive_failures: inst.consecutive_failures,
            error_ratio: inst.error_ratio,
            window_requests: inst.window_requests,
            cooldown_remaining_ms: inst.cooldown_remaining_ms,
            total_requests: self.total_requests.load(Ordering::Relaxed),
            total_failures: self.total_failures.load(Ordering::Relaxed),
            deployments,
        }
    }
}

/// How long `err` cools its deployment when it trips: a rate limit's
/// `Retry-After`, at most the policy's cooldown; else the cooldown.
fn cooldown_for(err: &Error, policy: &HealthPolicy) -> u64 {
    match err.retry_after() {
        Some(ra) => u64::try_from(ra.as_millis())
            .unwrap_or(u64::MAX)
            .min(policy.cooldown_ms),
        None => policy.cooldown_ms,
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

    #[tokio::test(start_paused = true)]
    async fn deployments_cool_alone_and_saturate() {
        let h = Health::new();
        let p = HealthPolicy::from(&HealthConfig {
            consecutive_failures: 1,
            cooldown_ms: u64::MAX,
            ..HealthConfig::default()
        });
        h.record_routed_error("a", &Error::unavailable("down"), MS, &p);
        assert!(h.cooling("a").is_some());
        assert!(h.cooling("b").is_none());
        assert!(!h.is_cooling_down(), "the instance as a whole is fine");
        let huge = Error::rate_limited(Some(Duration::MAX), "later");
        h.record_routed_error("c", &huge, MS, &p);
        assert!(h.cooling("c").is_some());
        // Request-level errors create nothing.
        h.record_routed_error("d", &Error::invalid_request("bad"), MS, &p);
        let models: Vec<String> = h
            .snapshot()
            .deployments
            .into_iter()
            .map(|d| d.model)
            .collect();
        assert_eq!(models, ["a", "c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deployment_map_is_bounded() {
        let h = Health::new();
        let p = policy();
        for i in 0..(MAX_DEPLOYMENTS + 10) {
            h.record_routed_error(&format!("m{i}"), &Error::unavailable("x"), MS, &p);
        }
        assert_eq!(h.snapshot().deployments.len(), MAX_DEPLOYMENTS);
        // A success makes an entry idle: room for new ones.
        h.record_routed_success("m0", MS, &p);
        h.record_routed_error("new", &Error::unavailable("x"), MS, &p);
        assert!(h.snapshot().deployments.iter().any(|d| d.model == "new"));
    }
}
