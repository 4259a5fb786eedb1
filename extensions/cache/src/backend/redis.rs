//! The Redis backend: entries shared by every gateway pointed at the same
//! Redis, each a string (the answer's JSON) under `<prefix><key hex>` with
//! Redis's own expiry (`SET .. PX`).
//!
//! Every call is bounded by `timeout` (connecting included), and after a
//! failed call or connection attempt Redis is not tried again for a second:
//! while Redis is down, lookups are misses and stores are skipped at once,
//! never a hung or slowed request. The connection is made on first use (a
//! gateway starts while Redis is down) and re-made on its own after a
//! disconnect. The byte bound is Redis's (`maxmemory` with an LRU
//! `maxmemory-policy`), not the gateway's.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use switchboard_core::{ChatResponse, Error, async_trait};
use tokio::sync::OnceCell;

use super::{Backend, BackendError, BackendStats, Entry};
use crate::key::CacheKey;

/// How long the backend is left alone after a failed connection attempt.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Keys deleted per `UNLINK` by `clear`.
const CLEAR_BATCH: usize = 500;

/// Answers in Redis.
pub struct RedisBackend {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    prefix: String,
    timeout: Duration,
    /// Unix milliseconds before which no connection is attempted.
    retry_at_ms: AtomicU64,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: only the prefix is shown.
        f.debug_struct("RedisBackend")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn unavailable(e: impl std::fmt::Display) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

impl RedisBackend {
    /// A backend for the Redis at `url` (`redis://[:password@]host:port[/db]`),
    /// keys under `prefix`, every call bounded by `timeout`. Does not
    /// connect yet; a malformed URL is a `config` error.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::config(format!("`redis_url` is not a Redis URL ({:?})", e.kind()))
                .with_param("redis_url")
        })?;
        Ok(RedisBackend {
            client,
            conn: OnceCell::new(),
            prefix: prefix.to_owned(),
            timeout,
            retry_at_ms: AtomicU64::new(0),
        })
    }

    fn redis_key(&self, key: &CacheKey) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The connection, made on first use (bounded; not retried for a
    /// second after a failure).
    async fn conn(&self) -> Result<ConnectionManager, BackendError> {
        if now_ms() < self.retry_at_ms.load(Ordering::Relaxed) {
            return Err(unavailable("Redis unreachable (retrying shortly)"));
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
            .map_err(|_| unavailable("connecting to Redis timed out"))?
            .map_err(unavailable)
        };
        match self.conn.get_or_try_init(|| connect).await {
            Ok(c) => Ok(c.clone()),
            Err(e) => Err(self.trip(e)),
        }
    }

    /// Leaves Redis alone for [`RETRY_AFTER`] after a failure (once logged).
    fn trip(&self, e: BackendError) -> BackendError {
        let now = now_ms();
        let previous = self.retry_at_ms.swap(
            now.saturating_add(RETRY_AFTER.as_millis() as u64),
            Ordering::Relaxed,
        );
        if previous <= now {
            tracing::warn!(error = %e, "cache: Redis unreachable; going on without the cache for a second");
        }
        e
    }

    /// Runs `call` on the connection within the timeout.
    async fn run<T, F, Fut>(&self, call: F) -> Result<T, BackendError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.conn().await?;
        let result = tokio::time::timeout(self.timeout, call(conn))
            .await
            .map_err(|_| unavailable("Redis did not answer in time"))
            .and_then(|r| r.map_err(unavailable));
        result.map_err(|e| self.trip(e))
    }
}

#[async_trait]
impl Backend for RedisBackend {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &CacheKey) -> Result<Option<ChatResponse>, BackendError> {
        let k = self.redis_key(key);
        let value: Option<Vec<u8>> = self
            .run(|mut c| async move { redis::cmd("GET").arg(k).query_async(&mut c).await })
            .await?;
        match value {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    async fn put(&self, key: CacheKey, entry: Entry) -> Result<(), BackendError> {
        let k = self.redis_key(&key);
        let json = serde_json::to_vec(&entry.response)?;
        let ttl_ms = u64::try_from(entry.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(|mut c| async move {
            redis::cmd("SET")
                .arg(k)
                .arg(json)
                .arg("PX")
                .arg(ttl_ms)
                .query_async::<()>(&mut c)
                .await
        })
        .await
    }

    async fn clear(&self) -> Result<(), BackendError> {
        let pattern = format!("{}*", self.prefix);
        let mut cursor: u64 = 0;
        // Bounded: each round trip has the timeout, and a keyspace is
        // scanned in a finite number of rounds.
        loop {
            let p = pattern.clone();
            let (next, keys): (u64, Vec<String>) = self
                .run(|mut c| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(p)
                        .arg("COUNT")
                        .arg(CLEAR_BATCH)
                        .query_async(&mut c)
                        .await
                })
                .await?;
            if !keys.is_empty() {
                self.run(|mut c| async move {
                    redis::cmd("UNLINK")
                        .arg(keys)
                        .query_async::<()>(&mut c)
                        .await
                })
                .await?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Not known without asking Redis (entries are shared, and Redis
    /// evicts them): Redis's `INFO keyspace` and `INFO memory` tell.
    fn stats(&self) -> Option<BackendStats> {
        None
    }
}
