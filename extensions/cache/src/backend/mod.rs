//! Where entries live, behind one small trait so a shared backend (Redis)
//! can join the in-memory one without touching the hooks.

mod memory;
mod redis;

use std::fmt;
use std::time::Duration;

use switchboard_core::{ChatResponse, Error, async_trait};

use crate::key::CacheKey;

pub use memory::{ENTRY_OVERHEAD_BYTES, MemoryBackend};
pub use redis::RedisBackend;

/// An answer to store.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The answer, as the client received it.
    pub response: ChatResponse,
    /// Its size: the answer's JSON length (the memory backend adds its
    /// per-entry overhead).
    pub bytes: u64,
    /// How long it stays.
    pub ttl: Duration,
}

/// How much a backend holds now (approximate while evictions are pending).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackendStats {
    /// Entries held.
    pub entries: u64,
    /// Bytes held, as the byte bound counts them.
    pub bytes: u64,
    /// Entries evicted to stay within the byte bound.
    pub evicted: u64,
    /// Entries dropped because their TTL passed.
    pub expired: u64,
}

/// A backend failed (a shared backend unreachable, an entry that does not
/// decode). The cache then passes the request through: a failed lookup is
/// a miss and a failed store is skipped, never an error for the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The backend could not be reached or refused the operation.
    #[error("cache backend unavailable: {0}")]
    Unavailable(String),
    /// A stored entry could not be encoded or decoded.
    #[error("cache entry encoding: {0}")]
    Encoding(#[from] serde_json::Error),
}

impl From<BackendError> for Error {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Unavailable(m) => Error::unavailable(m),
            BackendError::Encoding(e) => Error::internal(format!("cache entry encoding: {e}")),
        }
    }
}

/// A store of answers by key, each with its own TTL.
#[async_trait]
pub trait Backend: fmt::Debug + Send + Sync + 'static {
    /// A short name (`memory`, `redis`) for the status view.
    fn name(&self) -> &'static str;

    /// The answer stored under `key`, if it is there and not expired.
    async fn get(&self, key: &CacheKey) -> Result<Option<ChatResponse>, BackendError>;

    /// Stores `entry` under `key` for `entry.ttl`, replacing what was there.
    async fn put(&self, key: CacheKey, entry: Entry) -> Result<(), BackendError>;

    /// Drops every entry.
    async fn clear(&self) -> Result<(), BackendError>;

    /// What it holds now, when it can tell without a round trip (`None`
    /// for a shared backend). Called at scrape time and by the status
    /// view, never on the request path.
    fn stats(&self) -> Option<BackendStats>;
}
