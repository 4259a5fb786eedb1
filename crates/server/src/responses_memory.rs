//! The in-memory side of the Responses store: one stored response
//! ([`StoredResponse`]) and the bounded map of the newest
//! ([`MemoryResponses`]), which also notes when the extension store was last
//! swept. `responses_store.rs` decides where a record goes.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::response::unix_now;

/// The least time between two sweeps of expired records from the extension
/// store: an hour.
pub(crate) const SWEEP_EVERY_SECS: u64 = 3600;

/// One stored response: who made it, the conversation it answered (earlier
/// turns and its own input, as items) and the response object.
#[derive(Debug, Clone)]
pub(crate) struct StoredResponse {
    /// The client key id that created it ("" without keys).
    pub(crate) owner: String,
    /// Unix seconds.
    pub(crate) created_at: u64,
    /// The conversation before the output, as input items.
    pub(crate) items: Vec<Value>,
    /// The response object.
    pub(crate) response: Value,
}

impl StoredResponse {
    pub(crate) fn to_value(&self) -> Value {
        json!({"owner": self.owner, "created_at": self.created_at, "items": self.items, "response": self.response})
    }

    pub(crate) fn from_value(v: &Value) -> Option<Self> {
        Some(StoredResponse {
            owner: v.get("owner")?.as_str()?.to_owned(),
            created_at: v.get("created_at")?.as_u64()?,
            items: v.get("items")?.as_array()?.clone(),
            response: v.get("response")?.clone(),
        })
    }

    /// Whether it is older than `retention_secs`.
    pub(crate) fn expired(&self, retention_secs: u64) -> bool {
        unix_now().saturating_sub(self.created_at) > retention_secs
    }

    /// The whole conversation including this response's output items.
    pub(crate) fn conversation(&self) -> Vec<Value> {
        let mut items = self.items.clone();
        if let Some(output) = self.response.get("output").and_then(Value::as_array) {
            items.extend(output.iter().cloned());
        }
        items
    }
}

/// The records by id, and the ids oldest first.
type Records = (HashMap<String, Arc<StoredResponse>>, VecDeque<String>);

/// The in-memory fallback (the newest responses, up to a bound), and when
/// the extension store was last swept.
#[derive(Debug, Default)]
pub(crate) struct MemoryResponses {
    inner: Mutex<Records>,
    /// Unix seconds of the last sweep of the extension store (0: never).
    last_sweep: AtomicU64,
}

impl MemoryResponses {
    /// Keeps `record`, then evicts the oldest until at most `max` are left.
    pub(crate) fn put(&self, id: String, record: StoredResponse, max: usize) {
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let (map, order) = &mut *guard;
        if map.insert(id.clone(), Arc::new(record)).is_none() {
            order.push_back(id);
        }
        while map.len() > max {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<StoredResponse>> {
        self.inner.lock().ok()?.0.get(id).cloned()
    }

    pub(crate) fn delete(&self, id: &str) -> bool {
        let Ok(mut guard) = self.inner.lock() else {
            return false;
        };
        let (map, order) = &mut *guard;
        let removed = map.remove(id).is_some();
        if removed {
            order.retain(|k| k != id);
        }
        removed
    }

    /// Whether a sweep is due at `now` (none in the last
    /// [`SWEEP_EVERY_SECS`]); if so, marks it done, so only one caller sweeps.
    pub(crate) fn sweep_due(&self, now: u64) -> bool {
        let last = self.last_sweep.load(Ordering::Relaxed);
        now.saturating_sub(last) >= SWEEP_EVERY_SECS
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use switchboard_gateway::config::types::ResponsesConfig;

    use super::*;

    fn record(owner: &str) -> StoredResponse {
        StoredResponse {
            owner: owner.into(),
            created_at: unix_now(),
            items: vec![json!({"role": "user", "content": "hi"})],
            response: json!({"output": [{"type": "message"}]}),
        }
    }

    #[test]
    fn memory_keeps_the_newest_up_to_the_bound() {
        let memory = MemoryResponses::default();
        let max = ResponsesConfig::DEFAULT_MAX_IN_MEMORY;
        for i in 0..=max {
            memory.put(format!("resp_{i}"), record(""), max);
        }
        assert!(memory.get("resp_0").is_none(), "the oldest went first");
        assert!(memory.get("resp_1").is_some());
        assert!(memory.get(&format!("resp_{max}")).is_some());
        assert!(memory.delete("resp_1"));
        assert!(!memory.delete("resp_1"));
        let inner = memory.inner.lock().expect("not poisoned");
        assert_eq!(inner.0.len(), inner.1.len(), "map and order agree");
    }

    #[test]
    fn a_smaller_bound_evicts_down_to_it_on_the_next_put() {
        let memory = MemoryResponses::default();
        for i in 0..10 {
            memory.put(format!("resp_{i}"), record(""), 10);
        }
        memory.put("resp_10".into(), record(""), 3);
        let kept: Vec<_> = (0..=10)
            .filter(|i| memory.get(&format!("resp_{i}")).is_some())
            .collect();
        assert_eq!(kept, [8, 9, 10]);
        let inner = memory.inner.lock().expect("not poisoned");
        assert_eq!((inner.0.len(), inner.1.len()), (3, 3));
    }

    #[test]
    fn records_round_trip_and_expire_after_the_retention() {
        let r = record("key-1");
        let back = StoredResponse::from_value(&r.to_value()).expect("reads back");
        assert_eq!(back.owner, "key-1");
        assert_eq!(back.conversation().len(), 2, "input then output");
        assert!(!back.expired(ResponsesConfig::DEFAULT_RETENTION_SECS));
        let hour_old = StoredResponse {
            created_at: unix_now() - 3601,
            ..back
        };
        assert!(!hour_old.expired(ResponsesConfig::DEFAULT_RETENTION_SECS));
        assert!(hour_old.expired(3600));
        assert!(!hour_old.expired(7200));
    }

    #[test]
    fn one_sweep_per_period() {
        let memory = MemoryResponses::default();
        let now = unix_now();
        assert!(memory.sweep_due(now), "never swept: due");
        assert!(!memory.sweep_due(now), "just swept");
        assert!(!memory.sweep_due(now + SWEEP_EVERY_SECS - 1));
        assert!(memory.sweep_due(now + SWEEP_EVERY_SECS));
    }
}
