//! A tiny in-memory [`Store`] for tests (the real SQLite store lives in
//! `switchboard-state`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{LedgerQuery, LedgerRow, LedgerTotal, Store};

/// Values and ledger rows in memory; `fail_appends` makes every append fail.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    pub(crate) values: Mutex<BTreeMap<(String, String), Value>>,
    pub(crate) rows: Mutex<Vec<LedgerRow>>,
    pub(crate) fail_appends: bool,
}

impl MemoryStore {
    pub(crate) fn rows(&self) -> Vec<LedgerRow> {
        self.rows.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        let v = self.values.lock().expect("not poisoned");
        Ok(v.get(&(namespace.to_owned(), key.to_owned())).cloned())
    }

    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        let mut v = self.values.lock().expect("not poisoned");
        v.insert((namespace.to_owned(), key.to_owned()), value.clone());
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        let mut v = self.values.lock().expect("not poisoned");
        Ok(v.remove(&(namespace.to_owned(), key.to_owned())).is_some())
    }

    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let v = self.values.lock().expect("not poisoned");
        Ok(v.iter()
            .filter(|((n, k), _)| n == namespace && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error> {
        if self.fail_appends {
            return Err(Error::unavailable("the test store refuses appends"));
        }
        self.rows.lock().expect("not poisoned").push(row.clone());
        Ok(())
    }

    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        let rows = self.rows.lock().expect("not poisoned");
        let mut groups: BTreeMap<String, LedgerTotal> = BTreeMap::new();
        for row in rows.iter().filter(|r| {
            query.from_ms.is_none_or(|f| r.at_ms >= f)
                && query.to_ms.is_none_or(|t| r.at_ms < t)
                && query
                    .key_id
                    .as_ref()
                    .is_none_or(|k| r.key_id.as_ref() == Some(k))
        }) {
            let group = query.group_by.of(row);
            let total = groups.entry(group.clone()).or_insert_with(|| LedgerTotal {
                group,
                ..LedgerTotal::default()
            });
            total.add(row);
        }
        Ok(groups.into_values().collect())
    }
}
