//! Keys in the extension store, and a short-lived cache in front of it so
//! a request does not read the store each time. A revoke on this node
//! takes effect at once; on another node sharing the store, within the
//! cache's TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, Store};

use crate::record::{BudgetPeriod, KeyRecord};

/// Records by id.
const BY_ID: &str = "keys";
/// Key ids by key hash.
const BY_HASH: &str = "keys.hash";

/// Key hash → the key (`None`: not a key) and when it was read.
type HashCache = HashMap<String, (Option<Arc<KeyRecord>>, Instant)>;

/// The keys, in the store, with a cache.
pub struct Registry {
    store: Arc<dyn Store>,
    ttl: Duration,
    capacity: usize,
    by_hash: Mutex<HashCache>,
    /// The keys last authenticated, by id (for their limits).
    by_id: Mutex<HashMap<String, Arc<KeyRecord>>>,
    spent: Mutex<HashMap<String, (f64, Instant)>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("store", &self.store.backend())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Keys in `store`, cached for `ttl` (at most `capacity` entries).
    pub fn new(store: Arc<dyn Store>, ttl: Duration, capacity: usize) -> Self {
        Registry {
            store,
            ttl,
            capacity: capacity.max(1),
            by_hash: Mutex::new(HashMap::new()),
            by_id: Mutex::new(HashMap::new()),
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// Stores a new or changed key.
    pub async fn save(&self, record: &KeyRecord) -> Result<(), Error> {
        let value = serde_json::to_value(record)
            .map_err(|e| Error::internal(format!("cannot encode key `{}`: {e}", record.id)))?;
        self.store.put(BY_ID, &record.id, &value).await?;
        self.store
            .put(BY_HASH, &record.key_hash, &Value::String(record.id.clone()))
            .await?;
        self.forget(&record.key_hash);
        Ok(())
    }

    /// The key with id `id`.
    pub async fn get(&self, id: &str) -> Result<Option<KeyRecord>, Error> {
        match self.store.get(BY_ID, id).await? {
            None => Ok(None),
            Some(v) => serde_json::from_value(v)
                .map(Some)
                .map_err(|e| Error::internal(format!("key `{id}` in the store is damaged: {e}"))),
        }
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyRecord>, Error> {
        let mut keys: Vec<KeyRecord> = self
            .store
            .list(BY_ID, "")
            .await?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_value(v).ok())
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    /// The key whose hash is `hash`, from the cache when fresh.
    pub async fn by_hash(&self, hash: &str) -> Result<Option<Arc<KeyRecord>>, Error> {
        let now = Instant::now();
        if let Some((found, at)) = self.lock_cache().get(hash)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(found.clone());
        }
        let found = match self.store.get(BY_HASH, hash).await? {
            Some(Value::String(id)) => self.get(&id).await?.map(Arc::new),
            _ => None,
        };
        let mut cache = self.lock_cache();
        if cache.len() >= self.capacity {
            cache.retain(|_, (_, at)| now.duration_since(*at) < self.ttl);
            if cache.len() >= self.capacity {
                cache.clear();
            }
        }
        cache.insert(hash.to_owned(), (found.clone(), now));
        drop(cache);
        if let Some(record) = &found {
            let mut by_id = self.lock_by_id();
            if by_id.len() >= self.capacity {
                by_id.clear();
            }
            by_id.insert(record.id.clone(), record.clone());
        }
        Ok(found)
    }

    /// The key with id `id` as it was last authenticated (no store read).
    pub fn cached(&self, id: &str) -> Option<Arc<KeyRecord>> {
        self.lock_by_id().get(id).cloned()
    }

    /// What key `id` spent in the budget period that holds `now_secs`, from
    /// the usage ledger (cached like keys).
    pub async fn spent(&self, id: &str, period: BudgetPeriod, now_secs: i64) -> Result<f64, Error> {
        let now = Instant::now();
        if let Some((usd, at)) = self.lock_spent().get(id)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(*usd);
        }
        let query = LedgerQuery {
            key_id: Some(id.to_owned()),
            from_ms: period_start(period, now_secs).map(|s| s.saturating_mul(1000)),
            ..LedgerQuery::default()
        };
        let usd: f64 = self
            .store
            .usage_totals(&query)
            .await?
            .iter()
            .map(|t| t.cost_usd)
            .sum();
        let mut spent = self.lock_spent();
        if spent.len() >= self.capacity {
            spent.clear();
        }
        spent.insert(id.to_owned(), (usd, now));
        Ok(usd)
    }

    fn forget(&self, hash: &str) {
        let removed = self.lock_cache().remove(hash);
        if let Some((Some(record), _)) = removed {
            self.lock_by_id().remove(&record.id);
        }
    }

    fn lock_by_id(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<KeyRecord>>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashCache> {
        self.by_hash.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_spent(&self) -> std::sync::MutexGuard<'_, HashMap<String, (f64, Instant)>> {
        self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The Unix second a budget period began (UTC), `None` for a key's whole life.
pub fn period_start(period: BudgetPeriod, now_secs: i64) -> Option<i64> {
    let now = time::OffsetDateTime::from_unix_timestamp(now_secs).ok()?;
    let day = now.replace_time(time::Time::MIDNIGHT);
    match period {
        BudgetPeriod::Total => None,
        BudgetPeriod::Day => Some(day.unix_timestamp()),
        BudgetPeriod::Month => day.replace_day(1).ok().map(|d| d.unix_timestamp()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_at_utc_midnight_and_the_first_of_the_month() {
        // 2026-12-03T14:30:00Z
        let now = 1_796_308_200;
        assert_eq!(period_start(BudgetPeriod::Day, now), Some(1_796_256_000));
        assert_eq!(period_start(BudgetPeriod::Month, now), Some(1_796_083_200));
        assert_eq!(period_start(BudgetPeriod::Total, now), None);
    }
}
