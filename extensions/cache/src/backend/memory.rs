//! The in-memory backend: moka's concurrent cache, bounded by bytes (each
//! entry weighed), least recently used entries evicted first, each entry
//! expiring after its own TTL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use switchboard_core::{ChatResponse, async_trait};

use super::{Backend, BackendError, BackendStats, Entry};
use crate::key::CacheKey;

/// What an entry weighs besides its answer's JSON: the key, the
/// bookkeeping, the answer's own allocations (an estimate).
pub const ENTRY_OVERHEAD_BYTES: u64 = 256;

/// A stored answer.
#[derive(Debug)]
struct Stored {
    response: ChatResponse,
    weight: u32,
    ttl: Duration,
}

/// Each entry expires after its own TTL (also when replaced).
struct PerEntryTtl;

impl Expiry<CacheKey, Arc<Stored>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &CacheKey,
        value: &Arc<Stored>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &CacheKey,
        value: &Arc<Stored>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Evictions by cause, counted by the cache's listener.
#[derive(Debug, Default)]
struct Removals {
    size: AtomicU64,
    expired: AtomicU64,
}

/// Answers in memory, at most `max_bytes` of them.
pub struct MemoryBackend {
    cache: Cache<CacheKey, Arc<Stored>>,
    removals: Arc<Removals>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("entries", &self.cache.entry_count())
            .field("bytes", &self.cache.weighted_size())
            .finish()
    }
}

impl MemoryBackend {
    /// A backend holding at most `max_bytes` (entries weighed by
    /// [`Entry::bytes`] plus [`ENTRY_OVERHEAD_BYTES`]).
    pub fn new(max_bytes: u64) -> Self {
        let removals = Arc::new(Removals::default());
        let counted = removals.clone();
        let cache = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_key: &CacheKey, value: &Arc<Stored>| value.weight)
            .expire_after(PerEntryTtl)
            .eviction_policy(EvictionPolicy::lru())
            .eviction_listener(move |_key, _value, cause| match cause {
                RemovalCause::Size => {
                    counted.size.fetch_add(1, Ordering::Relaxed);
                }
                RemovalCause::Expired => {
                    counted.expired.fetch_add(1, Ordering::Relaxed);
                }
                RemovalCause::Explicit | RemovalCause::Replaced => {}
            })
            .build();
        MemoryBackend { cache, removals }
    }

    /// Runs the cache's pending evictions now (they otherwise run a little
    /// later, on writes), so the next [`stats`](Backend::stats) is exact.
    pub fn sync(&self) {
        self.cache.run_pending_tasks();
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &CacheKey) -> Result<Option<ChatResponse>, BackendError> {
        Ok(self.cache.get(key).map(|s| s.response.clone()))
    }

    async fn put(&self, key: CacheKey, entry: Entry) -> Result<(), BackendError> {
        let weight = entry.bytes.saturating_add(ENTRY_OVERHEAD_BYTES);
        let weight = u32::try_from(weight).unwrap_or(u32::MAX);
        self.cache.insert(
            key,
            Arc::new(Stored {
                response: entry.response,
                weight,
                ttl: entry.ttl,
            }),
        );
        Ok(())
    }

    async fn clear(&self) -> Result<(), BackendError> {
        self.cache.invalidate_all();
        self.cache.run_pending_tasks();
        Ok(())
    }

    fn stats(&self) -> Option<BackendStats> {
        self.cache.run_pending_tasks();
        Some(BackendStats {
            entries: self.cache.entry_count(),
            bytes: self.cache.weighted_size(),
            evicted: self.removals.size.load(Ordering::Relaxed),
            expired: self.removals.expired.load(Ordering::Relaxed),
        })
    }
}
