//! [`MemoryStore`]: an in-memory [`Store`] for tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, LedgerRow, LedgerTotal, Store};

/// An in-memory [`Store`] for tests: namespaced JSON values and a usage
/// ledger, gone when dropped. Bounded: at most [`MemoryStore::MAX_VALUES`]
/// values and [`MemoryStore::MAX_LEDGER_ROWS`] ledger rows (past that,
/// writes fail with an `internal` error rather than grow).
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: Mutex<BTreeMap<(String, String), Value>>,
    ledger: Mutex<Vec<LedgerRow>>,
}

/// Locks `m`, recovering the data if a panicking holder poisoned it (every
/// critical section leaves the maps consistent).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryStore {
    /// The most values the store holds.
    pub const MAX_VALUES: usize = 100_000;
    /// The most ledger rows the store holds.
    pub const MAX_LEDGER_ROWS: usize = 100_000;

    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Every ledger row appended so far, in order.
    pub fn ledger(&self) -> Vec<LedgerRow> {
        lock(&self.ledger).clone()
    }

    /// How many values are stored, all namespaces together.
    pub fn len(&self) -> usize {
        lock(&self.values).len()
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        Ok(lock(&self.values)
            .get(&(namespace.to_owned(), key.to_owned()))
            .cloned())
    }

    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        let mut values = lock(&self.values);
        let k = (namespace.to_owned(), key.to_owned());
        if values.len() >= Self::MAX_VALUES && !values.contains_key(&k) {
            return Err(Error::internal(format!(
                "the memory store holds at most {} values",
                Self::MAX_VALUES
            )));
        }
        values.insert(k, value.clone());
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        Ok(lock(&self.values)
            .remove(&(namespace.to_owned(), key.to_owned()))
            .is_some())
    }

    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let start = (namespace.to_owned(), prefix.to_owned());
        Ok(lock(&self.values)
            .range(start..)
            .take_while(|((ns, k), _)| ns == namespace && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error> {
        let mut ledger = lock(&self.ledger);
        if ledger.len() >= Self::MAX_LEDGER_ROWS {
            return Err(Error::internal(format!(
                "the memory store holds at most {} ledger rows",
                Self::MAX_LEDGER_ROWS
            )));
        }
        ledger.push(row.clone());
        Ok(())
    }

    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        let mut totals: BTreeMap<String, LedgerTotal> = BTreeMap::new();
        for row in lock(&self.ledger).iter() {
            let selected = query.from_ms.is_none_or(|from| row.at_ms >= from)
                && query.to_ms.is_none_or(|to| row.at_ms < to)
                && query
                    .key_id
                    .as_ref()
                    .is_none_or(|k| row.key_id.as_ref() == Some(k));
            if selected {
                let group = query.group_by.of(row);
                totals
                    .entry(group.clone())
                    .or_insert_with(|| LedgerTotal {
                        group,
                        ..LedgerTotal::default()
                    })
                    .add(row);
            }
        }
        Ok(totals.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use switchboard_core::extension::LedgerGroup;

    use super::*;

    #[tokio::test]
    async fn values_are_namespaced_and_listed_by_prefix() {
        let s = MemoryStore::new();
        s.put("a", "k1", &json!(1)).await.expect("put");
        s.put("a", "k2", &json!(2)).await.expect("put");
        s.put("a", "x", &json!(3)).await.expect("put");
        s.put("b", "k1", &json!(4)).await.expect("put");
        assert_eq!(s.get("a", "k1").await.expect("get"), Some(json!(1)));
        assert_eq!(s.get("c", "k1").await.expect("get"), None);
        let listed = s.list("a", "k").await.expect("list");
        assert_eq!(
            listed,
            vec![("k1".into(), json!(1)), ("k2".into(), json!(2))]
        );
        assert!(s.delete("a", "k1").await.expect("delete"));
        assert!(!s.delete("a", "k1").await.expect("delete"));
        assert_eq!(s.len(), 3);
        assert_eq!(s.backend(), "memory");
    }

    #[tokio::test]
    async fn ledger_totals_filter_and_group() {
        let s = MemoryStore::new();
        let row = |at_ms, key: Option<&str>, model: &str| LedgerRow {
            at_ms,
            key_id: key.map(str::to_owned),
            model: model.into(),
            input_tokens: 10,
            output_tokens: 1,
            cost_usd: 0.25,
            ..LedgerRow::default()
        };
        s.append_usage(&row(1_000, Some("k1"), "m1"))
            .await
            .expect("append");
        s.append_usage(&row(2_000, Some("k2"), "m1"))
            .await
            .expect("append");
        s.append_usage(&row(3_000, None, "m2"))
            .await
            .expect("append");
        let by_model = s
            .usage_totals(&LedgerQuery {
                group_by: LedgerGroup::Model,
                ..LedgerQuery::default()
            })
            .await
            .expect("totals");
        assert_eq!(by_model.len(), 2);
        assert_eq!(
            (by_model[0].group.as_str(), by_model[0].requests),
            ("m1", 2)
        );
        assert_eq!(by_model[0].input_tokens, 20);
        let windowed = s
            .usage_totals(&LedgerQuery {
                from_ms: Some(2_000),
                to_ms: Some(3_000),
                ..LedgerQuery::default()
            })
            .await
            .expect("totals");
        assert_eq!(windowed.len(), 1);
        assert_eq!(
            (windowed[0].group.as_str(), windowed[0].requests),
            ("all", 1)
        );
        let one_key = s
            .usage_totals(&LedgerQuery {
                key_id: Some("k1".into()),
                group_by: LedgerGroup::Key,
                ..LedgerQuery::default()
            })
            .await
            .expect("totals");
        assert_eq!(one_key.len(), 1);
        assert_eq!(one_key[0].group, "k1");
        assert_eq!(s.ledger().len(), 3);
    }
}
