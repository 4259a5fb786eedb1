//! Which requests write an access-log line (`server.access_log`): the
//! policy read from the configuration for one request, and the sampler.
//!
//! Sampling is a counter, not a random draw: request `n` (counted among the
//! successful ones) is logged when `n × rate` crosses a whole number, so
//! exactly `rate` of them are logged, evenly spread, with one relaxed atomic
//! add per sampled-mode request, no lock and no allocation.

use std::sync::atomic::{AtomicU64, Ordering};

use switchboard_gateway::config::types::{AccessLog, ServerConfig};

/// The tracing target of access-log lines, for filters
/// (`SWITCHBOARD_LOG=info,switchboard::access=off`).
pub(crate) const TARGET: &str = "switchboard::access";

/// One in 2³² is the unit of a rate in fixed point.
const ONE: u64 = 1 << 32;

/// The access-log policy for one request, copied out of the configuration
/// so that no configuration is held while the request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    mode: AccessLog,
    /// The sampled fraction of successful requests, in 2⁻³² units (0 to 2³²).
    rate: u64,
}

impl Policy {
    /// The policy `server` sets.
    pub(crate) fn of(server: &ServerConfig) -> Self {
        Policy {
            mode: server.access_log,
            rate: fixed_rate(server.access_log_sample),
        }
    }

    /// Whether any request may be logged (nothing needs keeping otherwise).
    pub(crate) fn is_on(self) -> bool {
        self.mode != AccessLog::Off
    }
}

/// `fraction` (0 to 1; out of range and NaN are clamped) in 2⁻³² units.
fn fixed_rate(fraction: f64) -> u64 {
    if fraction.is_nan() || fraction <= 0.0 {
        0
    } else if fraction >= 1.0 {
        ONE
    } else {
        // In (0, 2³²): the cast cannot truncate.
        (fraction * ONE as f64).round() as u64
    }
}

/// Counts the successful requests of sampled mode; shared by every request
/// of a server.
#[derive(Debug, Default)]
pub(crate) struct Sampler {
    seen: AtomicU64,
}

impl Sampler {
    /// Whether the request answered with `status` writes a line under
    /// `policy`. An error status (4xx, 5xx) is logged unless the log is off;
    /// a successful one per the mode, and in sampled mode per the counter.
    pub(crate) fn should_log(&self, policy: Policy, status: u16) -> bool {
        let error = status >= 400;
        match policy.mode {
            AccessLog::Off => false,
            AccessLog::All => true,
            AccessLog::Errors => error,
            AccessLog::Sampled => error || self.sample(policy.rate),
        }
    }

    /// Whether this successful request is one of the sampled ones: the
    /// `n`-th is when the fractional part of `n × rate` is below `rate`,
    /// that is when `n × rate` passed a whole number (`n = 0` is logged, so
    /// the first request shows that the log works). Wrapping is exact:
    /// 2³² divides 2⁶⁴.
    fn sample(&self, rate: u64) -> bool {
        if rate == 0 {
            return false;
        }
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        n.wrapping_mul(rate) % ONE < rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: AccessLog, sample: f64) -> Policy {
        let server = ServerConfig {
            access_log: mode,
            access_log_sample: sample,
            ..ServerConfig::default()
        };
        Policy::of(&server)
    }

    fn logged(policy: Policy, status: u16, requests: u64) -> u64 {
        let sampler = Sampler::default();
        (0..requests)
            .filter(|_| sampler.should_log(policy, status))
            .count() as u64
    }

    #[test]
    fn modes() {
        for status in [200, 404, 502] {
            assert_eq!(logged(policy(AccessLog::Off, 1.0), status, 100), 0);
            assert_eq!(logged(policy(AccessLog::All, 0.0), status, 100), 100);
        }
        assert_eq!(logged(policy(AccessLog::Errors, 1.0), 200, 100), 0);
        assert_eq!(logged(policy(AccessLog::Errors, 0.0), 404, 100), 100);
        assert_eq!(logged(policy(AccessLog::Sampled, 0.0), 200, 100), 0);
        assert_eq!(logged(policy(AccessLog::Sampled, 0.0), 500, 100), 100);
    }

    #[test]
    fn sampling_logs_the_fraction_evenly() {
        for (sample, requests, expected) in [
            (0.01, 10_000, 100),
            (0.25, 1_000, 250),
            (1.0 / 3.0, 3_000, 1_000),
            (0.5, 7, 4),
            (1.0, 50, 50),
            (1e-9, 1_000, 1),
        ] {
            let got = logged(policy(AccessLog::Sampled, sample), 200, requests);
            assert_eq!(got, expected, "sample {sample} over {requests}");
        }
        // Evenly: at 0.1, exactly one in every run of ten.
        let sampler = Sampler::default();
        let p = policy(AccessLog::Sampled, 0.1);
        for run in 0..50 {
            let hits = (0..10).filter(|_| sampler.should_log(p, 200)).count();
            assert_eq!(hits, 1, "run {run}");
        }
    }

    #[test]
    fn errors_do_not_use_up_samples() {
        let sampler = Sampler::default();
        let p = policy(AccessLog::Sampled, 0.5);
        assert!(sampler.should_log(p, 500));
        assert!(sampler.should_log(p, 200), "the first success is logged");
        assert!(!sampler.should_log(p, 200));
        assert!(sampler.should_log(p, 200));
    }

    #[test]
    fn odd_rates_are_clamped() {
        assert_eq!(fixed_rate(f64::NAN), 0);
        assert_eq!(fixed_rate(-1.0), 0);
        assert_eq!(fixed_rate(7.0), ONE);
        assert_eq!(fixed_rate(0.5), ONE / 2);
        assert!(!policy(AccessLog::Off, 1.0).is_on());
        assert!(policy(AccessLog::Errors, 0.0).is_on());
    }
}
