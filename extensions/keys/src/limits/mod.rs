//! Per-key rate limits — requests per minute, tokens per minute (token
//! buckets: GCRA) and requests at once — behind one small trait, so they are
//! counted in this process ([`MemoryLimits`]) or shared by every gateway
//! node through Redis ([`RedisLimits`]). [`Limits`] is what the extension
//! holds: the chosen backend and what to do when it fails.

mod memory;
mod redis;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use switchboard_core::{Error, async_trait};

pub use memory::{InFlight, MemoryLimits, Slot, Windows};
pub use redis::{RedisLimits, RedisSlot};

use crate::config::{KeysConfig, LimitsBackend, OnRedisError};

/// The period of RPM and TPM limits: a bucket of the limit drains in it.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What a window says about one more request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether it is admitted (and counted).
    pub admitted: bool,
    /// The limit.
    pub limit: u64,
    /// What is left after it (or now, when refused).
    pub remaining: u64,
    /// When enough of the bucket drains for it (refused) or the bucket is
    /// empty again (admitted).
    pub reset: Duration,
}

/// What one request asks of its key's limits (each `None` is unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ask {
    /// At most this many requests of the key at once.
    pub max_parallel: Option<u32>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens per minute.
    pub tpm: Option<u64>,
    /// The tokens this request counts against `tpm` (its estimate).
    pub tokens: u64,
}

impl Ask {
    /// Whether it asks nothing of any limit (no `max_parallel`, `rpm` or
    /// `tpm`): then no backend need be asked.
    pub fn is_unlimited(&self) -> bool {
        self.max_parallel.is_none() && self.rpm.is_none() && self.tpm.is_none()
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `max_parallel` requests of the key are running.
    Parallel,
    /// The requests-per-minute window is full.
    Requests,
    /// The tokens-per-minute window has no room for the estimate.
    Tokens,
}

/// A request's `max_parallel` slot, held while it runs: dropping it frees
/// the slot (in memory at once; in Redis by a bounded task).
#[derive(Debug)]
pub enum ParallelSlot {
    /// A slot of [`MemoryLimits`].
    Memory(Slot),
    /// A slot of [`RedisLimits`].
    Redis(RedisSlot),
}

/// What the limits say about one request. The checks run in order —
/// `max_parallel`, then `rpm`, then `tpm` — and stop at the first refusal;
/// a request refused by `tpm` stays counted in `rpm` (on both backends).
#[derive(Debug, Default)]
pub struct Admission {
    /// Which limit refused it (`None`: admitted).
    pub refused: Option<Refused>,
    /// The requests window's verdict, when `rpm` was checked.
    pub requests: Option<Verdict>,
    /// The tokens window's verdict, when `tpm` was checked.
    pub tokens: Option<Verdict>,
    /// Its `max_parallel` slot, when it is admitted and the key has one.
    pub slot: Option<ParallelSlot>,
}

impl Admission {
    /// Marks it refused by `why`, freeing any slot it took.
    pub fn refuse(&mut self, why: Refused) {
        self.refused = Some(why);
        self.slot = None;
    }
}

/// A limits backend failed (unreachable, too slow, an unexpected answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError(pub String);

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rate limit backend unavailable: {}", self.0)
    }
}

impl From<BackendError> for Error {
    fn from(e: BackendError) -> Self {
        Error::unavailable(e.to_string())
    }
}

/// Where the per-key limits are counted.
#[async_trait]
pub trait LimitBackend: fmt::Debug + Send + Sync + 'static {
    /// A short name (`memory`, `redis`) for the status view.
    fn name(&self) -> &'static str;

    /// Checks and counts one request of `key` against `ask` (one round trip
    /// for a shared backend).
    async fn admit(&self, key: &str, ask: &Ask) -> Result<Admission, BackendError>;

    /// Counts `tokens` more against `key`'s tokens bucket of `tpm` (what an
    /// answer used beyond its estimate), off the request path.
    async fn add_tokens(&self, key: &str, tpm: u64, tokens: u64) -> Result<(), BackendError>;

    /// Calls that failed so far (a shared backend; also releases and
    /// reconciliations, which no request waits for).
    fn failures(&self) -> u64 {
        0
    }
}

/// The limits the extension holds: a backend and the failure policy.
#[derive(Debug)]
pub struct Limits {
    backend: Arc<dyn LimitBackend>,
    on_error: OnRedisError,
    /// Requests admitted without their limits checked (fail open).
    unchecked: AtomicU64,
    /// Requests refused because the limits could not be checked.
    refused_unavailable: AtomicU64,
}

impl Limits {
    /// The limits `config` chooses (a validated config; Redis is not
    /// contacted yet).
    pub fn from_config(config: &KeysConfig) -> Result<Self, Error> {
        let backend: Arc<dyn LimitBackend> = match config.limits_backend {
            LimitsBackend::Memory => Arc::new(MemoryLimits::default()),
            LimitsBackend::Redis => Arc::new(RedisLimits::new(
                &config.redis_url,
                &config.redis_prefix,
                Duration::from_millis(config.redis_timeout_ms),
                Duration::from_secs(config.redis_slot_lease_secs),
            )?),
        };
        Ok(Limits::new(backend, config.on_redis_error))
    }

    /// `backend`, failing open or closed as `on_error` says.
    pub fn new(backend: Arc<dyn LimitBackend>, on_error: OnRedisError) -> Self {
        Limits {
            backend,
            on_error,
            unchecked: AtomicU64::new(0),
            refused_unavailable: AtomicU64::new(0),
        }
    }

    /// Checks one request of `key`: `Ok(None)` when the backend failed and
    /// the policy is to fail open (admitted unchecked, counted); a 503
    /// `unavailable` error when it is to fail closed.
    pub async fn admit(&self, key: &str, ask: &Ask) -> Result<Option<Admission>, Error> {
        match self.backend.admit(key, ask).await {
            Ok(admission) => Ok(Some(admission)),
            Err(e) => match self.on_error {
                OnRedisError::Open => {
                    self.unchecked.fetch_add(1, Ordering::Relaxed);
                    Ok(None)
                }
                OnRedisError::Closed => {
                    self.refused_unavailable.fetch_add(1, Ordering::Relaxed);
                    Err(Error::unavailable(format!(
                        "the rate limits of API key `{key}` cannot be checked ({e}); \
                         refused (on_redis_error = \"closed\")"
                    )))
                }
            },
        }
    }

    /// Counts `tokens` more for `key`'s bucket of `tpm` (off the request
    /// path; a failure is counted by the backend and otherwise ignored).
    pub async fn add_tokens(&self, key: &str, tpm: u64, tokens: u64) {
        if tokens > 0 {
            let _ = self.backend.add_tokens(key, tpm, tokens).await;
        }
    }

    /// The backend's name.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Requests admitted unchecked (fail open) so far.
    pub fn unchecked(&self) -> u64 {
        self.unchecked.load(Ordering::Relaxed)
    }

    /// Requests refused because the limits could not be checked so far.
    pub fn refused_unavailable(&self) -> u64 {
        self.refused_unavailable.load(Ordering::Relaxed)
    }

    /// Failed backend calls so far.
    pub fn failures(&self) -> u64 {
        self.backend.failures()
    }
}
