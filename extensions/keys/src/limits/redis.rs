//! The Redis backend: each API key's limits shared by every gateway node
//! pointed at the same Redis.
//!
//! - **One round trip per request**: `lua/admit.lua` (run with `EVALSHA`;
//!   on `NOSCRIPT` the crate's `Script` loads it and runs it again) checks
//!   and counts `max_parallel`, `rpm` and `tpm` atomically, with Redis's
//!   clock (`TIME`), so nodes with skewed clocks agree.
//! - **Token buckets** as in memory (GCRA): a hash per key and limit with
//!   its level and when it was measured, expiring once drained, so a check
//!   costs a few hash reads and writes whatever the limit.
//! - **`max_parallel`** is a sorted set of leases: a running request holds a
//!   member scored with its lease's end; finishing removes it (`ZREM`, from
//!   a bounded task spawned when its [`RedisSlot`] drops). A node that dies
//!   mid-request cannot hold a slot past its lease.
//! - Keys are `<prefix>{<key id>}:slots|rpm|tpm`: the hash tag puts
//!   one API key's structures in one Redis Cluster slot.
//!
//! Every call is bounded by `timeout` (connecting included), and after a
//! failed or timed-out call Redis is left alone for a second: while it is
//! down or hung, a request costs at most one bounded wait a second. The
//! connection is made on first use and re-made on its own after a
//! disconnect. The URL (which may hold a password) is never shown.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ring::rand::{SecureRandom, SystemRandom};
use switchboard_core::{Error, async_trait};
use tokio::sync::OnceCell;

use super::{Admission, Ask, BackendError, LimitBackend, ParallelSlot, Refused, Verdict, WINDOW};

/// How long Redis is left alone after a failed call.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How many times a slot's release is tried (a second apart) before its
/// lease is left to free it.
const RELEASE_ATTEMPTS: u32 = 3;

const PRELUDE: &str = include_str!("lua/prelude.lua");
const ADMIT: &str = include_str!("lua/admit.lua");
const ADD_TOKENS: &str = include_str!("lua/add_tokens.lua");

/// Per-key limits in Redis.
#[derive(Clone)]
pub struct RedisLimits {
    shared: Arc<Shared>,
}

struct Shared {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    timeout: Duration,
    lease: Duration,
    admit: redis::Script,
    add_tokens: redis::Script,
    /// This process's part of every member it writes (random, so nodes
    /// never collide), and a counter for the rest.
    node: String,
    seq: AtomicU64,
    /// Unix milliseconds before which Redis is not tried.
    retry_at_ms: AtomicU64,
    failures: AtomicU64,
}

impl std::fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: it is left out.
        f.debug_struct("RedisLimits")
            .field("prefix", &self.shared.prefix)
            .field("timeout", &self.shared.timeout)
            .field("lease", &self.shared.lease)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn failed(e: impl std::fmt::Display) -> BackendError {
    BackendError(e.to_string())
}

impl RedisLimits {
    /// Limits in the Redis at `url` (`redis://[:password@]host:port[/db]`),
    /// keys under `prefix`, every call bounded by `timeout`, `max_parallel`
    /// slots leased for `lease`. Does not connect yet; a malformed URL is a
    /// `config` error (without the URL).
    pub fn new(url: &str, prefix: &str, timeout: Duration, lease: Duration) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::config(format!("`redis_url` is not a Redis URL ({:?})", e.kind()))
                .with_param("redis_url")
        })?;
        let mut node = [0u8; 8];
        SystemRandom::new()
            .fill(&mut node)
            .map_err(|_| Error::internal("the system's random generator failed"))?;
        Ok(RedisLimits {
            shared: Arc::new(Shared {
                client,
                conn: OnceCell::new(),
                prefix: prefix.to_owned(),
                timeout,
                lease: lease.max(Duration::from_millis(1)),
                admit: redis::Script::new(&format!("{PRELUDE}\n{ADMIT}")),
                add_tokens: redis::Script::new(&format!("{PRELUDE}\n{ADD_TOKENS}")),
                node: node.iter().map(|b| format!("{b:02x}")).collect(),
                seq: AtomicU64::new(0),
                retry_at_ms: AtomicU64::new(0),
                failures: AtomicU64::new(0),
            }),
        })
    }

    /// The Redis key of `what` (`slots`, `rpm`, `tpm`) for API
    /// key `key`: `<prefix>{<key>}:<what>`.
    pub fn redis_key(&self, key: &str, what: &str) -> String {
        format!("{}{{{key}}}:{what}", self.shared.prefix)
    }

    /// Like [`LimitBackend::admit`], at `now_ms` on the windows' clock
    /// instead of Redis's `TIME`: for tests that place requests at a
    /// minute's edge. Production never passes a time.
    #[doc(hidden)]
    pub async fn admit_at(
        &self,
        key: &str,
        ask: &Ask,
        now_ms: Option<u64>,
    ) -> Result<Admission, BackendError> {
        // Only a `max_parallel` slot needs a member of its own.
        let member = if ask.max_parallel.is_some() {
            self.shared.member()
        } else {
            String::new()
        };
        let keys = [
            self.redis_key(key, "slots"),
            self.redis_key(key, "rpm"),
            self.redis_key(key, "tpm"),
        ];
        let slot_key = keys[0].clone();
        let mut call = self.shared.admit.prepare_invoke();
        for k in &keys {
            call.key(k);
        }
        call.arg(millis(WINDOW))
            .arg(&member)
            .arg(ask.max_parallel.unwrap_or(0))
            .arg(millis(self.shared.lease))
            .arg(ask.rpm.unwrap_or(0))
            .arg(ask.tpm.unwrap_or(0))
            .arg(ask.tokens)
            .arg(now_ms.map(|t| t.to_string()).unwrap_or_default());
        let answer: Result<Vec<i64>, _> = self
            .shared
            .run_sent(|mut c| async move { call.invoke_async(&mut c).await })
            .await;
        let answer = match answer {
            Ok(a) => a,
            Err((e, sent)) => {
                // A call sent but unanswered may still have taken its slot.
                if sent && ask.max_parallel.is_some() {
                    drop(RedisSlot::new(self.shared.clone(), slot_key, member));
                }
                return Err(e);
            }
        };
        let [status, r_left, r_reset, t_left, t_reset] = answer[..] else {
            return Err(failed(format!(
                "unexpected answer from the script: {answer:?}"
            )));
        };
        let verdict = |admitted, limit, left: i64, reset: i64| Verdict {
            admitted,
            limit,
            remaining: u64::try_from(left).unwrap_or(0),
            reset: Duration::from_millis(u64::try_from(reset).unwrap_or(0)),
        };
        let mut admission = Admission::default();
        match status {
            0 => {
                admission.slot = ask.max_parallel.map(|_| {
                    ParallelSlot::Redis(RedisSlot::new(self.shared.clone(), slot_key, member))
                });
            }
            1 => admission.refused = Some(Refused::Parallel),
            2 => admission.refused = Some(Refused::Requests),
            3 => admission.refused = Some(Refused::Tokens),
            other => {
                return Err(failed(format!(
                    "unexpected status from the script: {other}"
                )));
            }
        }
        if let Some(rpm) = ask.rpm
            && status != 1
        {
            admission.requests = Some(verdict(status != 2, rpm, r_left, r_reset));
        }
        if let Some(tpm) = ask.tpm
            && (status == 0 || status == 3)
        {
            admission.tokens = Some(verdict(status == 0, tpm, t_left, t_reset));
        }
        Ok(admission)
    }

    /// Like [`LimitBackend::add_tokens`], at `now_ms` instead of Redis's
    /// `TIME` (tests only).
    #[doc(hidden)]
    pub async fn add_tokens_at(
        &self,
        key: &str,
        tpm: u64,
        tokens: u64,
        now_ms: Option<u64>,
    ) -> Result<(), BackendError> {
        let mut call = self.shared.add_tokens.prepare_invoke();
        call.key(self.redis_key(key, "tpm"))
            .arg(millis(WINDOW))
            .arg(tpm)
            .arg(tokens)
            .arg(now_ms.map(|t| t.to_string()).unwrap_or_default());
        self.shared
            .run(|mut c| async move { call.invoke_async::<i64>(&mut c).await })
            .await
            .map(|_| ())
    }
}

impl Shared {
    fn member(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{}:{seq}", self.node)
    }

    /// The connection, made on first use (bounded; not retried for a
    /// second after a failure).
    async fn conn(&self) -> Result<ConnectionManager, BackendError> {
        if now_ms() < self.retry_at_ms.load(Ordering::Relaxed) {
            return Err(failed("Redis unreachable (retrying shortly)"));
        }
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connect = async {
            tokio::time::timeout(
                self.timeout.saturating_mul(2),
                ConnectionManager::new_with_config(self.client.clone(), config),
            )
            .await
            .map_err(|_| failed("connecting to Redis timed out"))?
            .map_err(failed)
        };
        self.conn
            .get_or_try_init(|| connect)
            .await
            .cloned()
            .map_err(|e| self.trip(e))
    }

    /// Leaves Redis alone for [`RETRY_AFTER`] after a failure (the first
    /// failure of an outage is logged).
    fn trip(&self, e: BackendError) -> BackendError {
        let now = now_ms();
        let previous = self
            .retry_at_ms
            .swap(now.saturating_add(millis(RETRY_AFTER)), Ordering::Relaxed);
        if previous <= now {
            tracing::warn!(error = %e, "keys: the rate limits' Redis failed; not tried again for a second");
        }
        e
    }

    /// Runs `call` on the connection within the timeout; every failed
    /// call (Redis skipped while it is left alone included) is counted.
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, BackendError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        self.run_sent(call).await.map_err(|(e, _)| e)
    }

    /// [`Shared::run`], also telling on failure whether the command was
    /// sent (it may then have run, its answer lost).
    async fn run_sent<T, F, Fut>(&self, call: F) -> Result<T, (BackendError, bool)>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let result = match self.conn().await {
            Ok(conn) => tokio::time::timeout(self.timeout, call(conn))
                .await
                .map_err(|_| failed("Redis did not answer in time"))
                .and_then(|r| r.map_err(failed))
                .map_err(|e| (self.trip(e), true)),
            Err(e) => Err((e, false)),
        };
        if result.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

#[async_trait]
impl LimitBackend for RedisLimits {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn admit(&self, key: &str, ask: &Ask) -> Result<Admission, BackendError> {
        self.admit_at(key, ask, None).await
    }

    async fn add_tokens(&self, key: &str, tpm: u64, tokens: u64) -> Result<(), BackendError> {
        self.add_tokens_at(key, tpm, tokens, None).await
    }

    fn failures(&self) -> u64 {
        self.shared.failures.load(Ordering::Relaxed)
    }
}

/// A `max_parallel` slot in Redis: dropping it removes its lease from the
/// key's set in a task of its own (bounded, tried again a second later
/// while Redis fails; past that, or outside a Tokio runtime, the lease
/// ends on its own after `redis_slot_lease_secs`).
pub struct RedisSlot {
    shared: Arc<Shared>,
    key: String,
    member: String,
}

impl std::fmt::Debug for RedisSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSlot")
            .field("key", &self.key)
            .field("member", &self.member)
            .finish()
    }
}

impl RedisSlot {
    fn new(shared: Arc<Shared>, key: String, member: String) -> Self {
        RedisSlot {
            shared,
            key,
            member,
        }
    }
}

impl Drop for RedisSlot {
    fn drop(&mut self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!(key = %self.key, "keys: no runtime to release a slot; its lease will end it");
            return;
        };
        let shared = self.shared.clone();
        let key = std::mem::take(&mut self.key);
        let member = std::mem::take(&mut self.member);
        runtime.spawn(async move {
            for attempt in 1..=RELEASE_ATTEMPTS {
                let (k, m) = (key.clone(), member.clone());
                let released = shared
                    .run(|mut c| async move {
                        redis::cmd("ZREM")
                            .arg(k)
                            .arg(m)
                            .query_async::<i64>(&mut c)
                            .await
                    })
                    .await;
                if released.is_ok() || attempt == RELEASE_ATTEMPTS {
                    return;
                }
                // Redis is left alone for a second after a failure.
                let wait = shared
                    .retry_at_ms
                    .load(Ordering::Relaxed)
                    .saturating_sub(now_ms());
                tokio::time::sleep(Duration::from_millis(wait.clamp(10, 1_100))).await;
            }
        });
    }
}
