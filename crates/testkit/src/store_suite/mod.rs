//! The store conformance suite: what every [`Store`] backend must do alike
//! (the in-memory [`MemoryStore`](crate::MemoryStore), SQLite and
//! PostgreSQL in `switchboard-state`), so the backends are interchangeable.
//!
//! ```rust,ignore
//! #[tokio::test]
//! async fn sqlite_conforms() {
//!     switchboard_testkit::assert_store_conforms(
//!         || async { Arc::new(switchboard_state::open(":memory:").await.unwrap()) as Arc<dyn Store> },
//!         StoreLimits { max_value_bytes: Some(1 << 20), max_list_rows: Some(10_000) },
//!     )
//!     .await;
//! }
//! ```

mod kv;
mod ledger;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use switchboard_core::extension::Store;

/// What a backend promises beyond the trait, for the suite to check. A
/// `None` limit is not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreLimits {
    /// The largest serialized JSON value `put` accepts; a larger one is an
    /// `invalid_request` error that leaves the old value in place.
    pub max_value_bytes: Option<usize>,
    /// The most rows one `list` answers: the first keys in byte order.
    pub max_list_rows: Option<usize>,
}

type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One case: a name and a check run on a fresh, empty store.
struct StoreCase {
    name: &'static str,
    run: fn(Arc<dyn Store>, StoreLimits) -> CaseFuture,
}

/// Every case, in the order they run.
fn cases() -> Vec<StoreCase> {
    let mut all = kv::cases();
    all.extend(ledger::cases());
    all
}

/// The names of the suite's cases, in order.
pub fn store_case_names() -> Vec<&'static str> {
    cases().into_iter().map(|c| c.name).collect()
}

/// Runs every case of the store suite, each on a fresh empty store made by
/// `fresh`, one after another; panics listing every case that failed, with
/// its message. Needs a Tokio runtime (cases run as tasks).
pub async fn assert_store_conforms<F, Fut>(mut fresh: F, limits: StoreLimits)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    let mut failures = Vec::new();
    let mut backend = "";
    for case in cases() {
        let store = fresh().await;
        backend = store.backend();
        if let Err(e) = tokio::spawn((case.run)(store, limits)).await {
            let why = if e.is_panic() {
                let payload = e.into_panic();
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic".to_owned())
            } else {
                e.to_string()
            };
            failures.push(format!("- {}: {why}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "the `{backend}` store fails {} of the store suite's cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Boxes a case's future.
fn boxed(fut: impl Future<Output = ()> + Send + 'static) -> CaseFuture {
    Box::pin(fut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[tokio::test]
    async fn the_memory_store_conforms() {
        assert_store_conforms(
            || async { Arc::new(MemoryStore::new()) as Arc<dyn Store> },
            StoreLimits::default(),
        )
        .await;
    }

    #[test]
    fn case_names_are_unique() {
        let mut names = store_case_names();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }
}
