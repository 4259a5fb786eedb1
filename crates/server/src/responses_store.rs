//! Where finished Responses API responses are kept, for `GET`/`DELETE
//! /v1/responses/{id}` and `previous_response_id`.
//!
//! With an extension store open (see
//! [`Switchboard::store`](switchboard_gateway::Switchboard::store)) records go
//! to its `responses` namespace; otherwise to a bounded in-memory map of the
//! [`MAX_IN_MEMORY`] newest. Records older than [`RETENTION_SECS`] are
//! treated as gone (and deleted when read).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use switchboard_core::Error;

use crate::response::unix_now;
use crate::state::SharedState;

/// The store namespace of response records.
pub(crate) const NAMESPACE: &str = "responses";
/// The most responses kept in memory when no extension store is open; the
/// oldest goes first.
pub(crate) const MAX_IN_MEMORY: usize = 1000;
/// How long a response is kept: 30 days, as OpenAI keeps them.
pub(crate) const RETENTION_SECS: u64 = 30 * 24 * 3600;

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
    fn to_value(&self) -> Value {
        json!({"owner": self.owner, "created_at": self.created_at, "items": self.items, "response": self.response})
    }

    fn from_value(v: &Value) -> Option<Self> {
        Some(StoredResponse {
            owner: v.get("owner")?.as_str()?.to_owned(),
            created_at: v.get("created_at")?.as_u64()?,
            items: v.get("items")?.as_array()?.clone(),
            response: v.get("response")?.clone(),
        })
    }

    fn expired(&self) -> bool {
        unix_now().saturating_sub(self.created_at) > RETENTION_SECS
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

/// The in-memory fallback: the [`MAX_IN_MEMORY`] newest responses.
#[derive(Debug, Default)]
pub(crate) struct MemoryResponses {
    inner: Mutex<Records>,
}

impl MemoryResponses {
    fn put(&self, id: String, record: StoredResponse) {
        let Ok(mut guard) = self.inner.lock() else {
            return;
        };
        let (map, order) = &mut *guard;
        if map.insert(id.clone(), Arc::new(record)).is_none() {
            order.push_back(id);
        }
        while map.len() > MAX_IN_MEMORY {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    fn get(&self, id: &str) -> Option<Arc<StoredResponse>> {
        self.inner.lock().ok()?.0.get(id).cloned()
    }

    fn delete(&self, id: &str) -> bool {
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
}

/// Keeps `record` under `id`.
pub(crate) async fn put(
    state: &SharedState,
    id: String,
    record: StoredResponse,
) -> Result<(), Error> {
    match state.sb.store() {
        Some(store) => store.put(NAMESPACE, &id, &record.to_value()).await,
        None => {
            state.responses.put(id, record);
            Ok(())
        }
    }
}

/// The record under `id` if `owner` made it and it has not expired.
pub(crate) async fn get(
    state: &SharedState,
    id: &str,
    owner: &str,
) -> Result<Option<Arc<StoredResponse>>, Error> {
    let record = match state.sb.store() {
        Some(store) => store
            .get(NAMESPACE, id)
            .await?
            .and_then(|v| StoredResponse::from_value(&v))
            .map(Arc::new),
        None => state.responses.get(id),
    };
    match record {
        Some(r) if r.expired() => {
            delete(state, id).await?;
            Ok(None)
        }
        Some(r) if r.owner == owner => Ok(Some(r)),
        _ => Ok(None),
    }
}

/// Removes `id`; whether it was there.
pub(crate) async fn delete(state: &SharedState, id: &str) -> Result<bool, Error> {
    match state.sb.store() {
        Some(store) => store.delete(NAMESPACE, id).await,
        None => Ok(state.responses.delete(id)),
    }
}

#[cfg(test)]
mod tests {
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
        for i in 0..=MAX_IN_MEMORY {
            memory.put(format!("resp_{i}"), record(""));
        }
        assert!(memory.get("resp_0").is_none(), "the oldest went first");
        assert!(memory.get("resp_1").is_some());
        assert!(memory.get(&format!("resp_{MAX_IN_MEMORY}")).is_some());
        assert!(memory.delete("resp_1"));
        assert!(!memory.delete("resp_1"));
        let inner = memory.inner.lock().expect("not poisoned");
        assert_eq!(inner.0.len(), inner.1.len(), "map and order agree");
    }

    #[test]
    fn records_round_trip_and_expire() {
        let r = record("key-1");
        let back = StoredResponse::from_value(&r.to_value()).expect("reads back");
        assert_eq!(back.owner, "key-1");
        assert_eq!(back.conversation().len(), 2, "input then output");
        assert!(!back.expired());
        let old = StoredResponse {
            created_at: unix_now() - RETENTION_SECS - 1,
            ..back
        };
        assert!(old.expired());
    }
}
