//! The candidates ([`Target`]) and the retry plan: which target is tried
//! next, with what backoff, within the attempt and time budgets.
//!
//! After a failed attempt, by whose fault it was ([`blame`]):
//!
//! | error | same target again | next target (`fallback_on`) |
//! |---|---|---|
//! | invalid request, cancelled | no | never |
//! | context length exceeded | no | only one with a larger window (not with `never`) |
//! | rate limited, timeout, unavailable, 5xx, 408 | yes, with backoff; a `Retry-After` over `max_retry_after_ms` or the budget: no | `instance`, `retryable` |
//! | auth, permission, protocol (malformed answer), config, other statuses | no | `instance` |
//! | not found, unsupported, other 4xx | no | `instance` |

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::{Error, ErrorKind};

use crate::config::types::{FallbackOn, RouterConfig};
use crate::health::{Blame, blame};
use crate::registry::Instance;

/// One candidate: an instance and the model to ask it for.
#[derive(Debug, Clone)]
pub struct Target {
    /// The instance.
    pub instance: Arc<Instance>,
    /// The model id at that instance.
    pub model: String,
}

/// Where the retry loop is: which target, how many tries, and the budgets.
pub(super) struct Plan<'a> {
    config: &'a RouterConfig,
    fallback_on: FallbackOn,
    /// The target being tried.
    pub(super) index: usize,
    len: usize,
    tries_on_target: u32,
    /// Attempts made so far, over all targets.
    pub(super) attempts: u32,
    /// Moves to another target so far.
    pub(super) fallbacks: u32,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        targets: &[Target],
        config: &'a RouterConfig,
        fallback_on: FallbackOn,
    ) -> Self {
        Plan {
            config,
            fallback_on,
            index: 0,
            len: targets.len(),
            tries_on_target: 0,
            attempts: 0,
            fallbacks: 0,
        }
    }

    pub(super) fn next_target(&mut self) -> bool {
        if self.index + 1 < self.len {
            self.index += 1;
            self.tries_on_target = 0;
            self.fallbacks += 1;
            true
        } else {
            false
        }
    }

    /// Decides what follows a failed attempt: `Some(delay)` to try again
    /// (the same or the next target, as now set in `index`), `None` to give up.
    pub(super) fn after_error(
        &mut self,
        err: &Error,
        targets: &[Target],
        remaining: Duration,
    ) -> Option<Duration> {
        if self.attempts >= self.config.max_attempts.max(1) || remaining.is_zero() {
            return None;
        }
        if err.kind() == &ErrorKind::ContextLengthExceeded {
            if self.fallback_on == FallbackOn::Never {
                return None;
            }
            // Only a target with a larger context window can help.
            let current = &targets[self.index];
            let have = current.instance.context_length(&current.model);
            let bigger = targets
                .iter()
                .enumerate()
                .skip(self.index + 1)
                .find(|(_, t)| match (have, t.instance.context_length(&t.model)) {
                    (Some(have), Some(other)) => other > have,
                    _ => false,
                })
                .map(|(i, _)| i)?;
            self.fallbacks += 1;
            self.index = bigger;
            self.tries_on_target = 0;
            return Some(Duration::ZERO);
        }
        if blame(err) == Blame::Request {
            return None;
        }
        if err.is_retryable() && self.tries_on_target < self.config.retries_per_target {
            // A rate limit asking for longer than the cap is not waited for:
            // the next target, or the client, gets it at once.
            let cap = Duration::from_millis(self.config.max_retry_after_ms);
            if err.retry_after().is_none_or(|ra| ra <= cap) {
                self.tries_on_target += 1;
                let delay = backoff(self.config, self.tries_on_target, err.retry_after());
                if delay < remaining {
                    return Some(delay);
                }
                // Waiting would exceed the budget: move on at once instead.
            }
        }
        let may_fall_back = match self.fallback_on {
            FallbackOn::Instance => true,
            FallbackOn::Retryable => err.is_retryable(),
            FallbackOn::Never => false,
        };
        if may_fall_back && self.next_target() {
            Some(Duration::ZERO)
        } else {
            None
        }
    }
}

/// Exponential backoff with equal jitter, at least `retry_after`.
fn backoff(config: &RouterConfig, retry: u32, retry_after: Option<Duration>) -> Duration {
    let exp = config
        .backoff_base_ms
        .saturating_mul(1u64 << retry.saturating_sub(1).min(20))
        .min(config.backoff_max_ms);
    let half = exp / 2;
    let jittered = half + fastrand::u64(0..=half);
    let delay = Duration::from_millis(jittered);
    match retry_after {
        Some(ra) if ra > delay => ra,
        _ => delay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let c = RouterConfig {
            backoff_base_ms: 100,
            backoff_max_ms: 1_000,
            ..RouterConfig::default()
        };
        for _ in 0..50 {
            let d1 = backoff(&c, 1, None);
            assert!((50..=100).contains(&(d1.as_millis() as u64)), "{d1:?}");
            let d3 = backoff(&c, 3, None);
            assert!((200..=400).contains(&(d3.as_millis() as u64)), "{d3:?}");
            let d9 = backoff(&c, 9, None);
            assert!((500..=1_000).contains(&(d9.as_millis() as u64)), "{d9:?}");
        }
        assert_eq!(
            backoff(&c, 1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}
