//! The defined functions: durable in the store (namespace `functions`, one
//! JSON definition per name), with an in-memory cache of compiled functions
//! so [`methods`](switchboard_core::Extension::methods), which is sync, can
//! list them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::Store;

use crate::config::FunctionsConfig;
use crate::definition::{CompiledFunction, FunctionDefinition};

/// The store namespace definitions live in.
pub const NAMESPACE: &str = "functions";

/// How old the cache may get before listing methods reloads it in the
/// background (definitions made by another process sharing the store).
const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// Compiled functions by name.
type Cache = BTreeMap<String, Arc<CompiledFunction>>;

/// The store and the cache in front of it.
pub(crate) struct Registry {
    store: Arc<dyn Store>,
    config: FunctionsConfig,
    cache: RwLock<Cache>,
    loaded_at: Mutex<Instant>,
    refreshing: AtomicBool,
    /// Serializes reloads with defines and removes, so a reload that read
    /// the store before a define cannot drop it from the cache afterwards.
    writes: tokio::sync::Mutex<()>,
}

impl Registry {
    /// A registry with an empty cache; call [`load`](Self::load) to fill it.
    pub(crate) fn new(store: Arc<dyn Store>, config: FunctionsConfig) -> Registry {
        Registry {
            store,
            config,
            cache: RwLock::new(BTreeMap::new()),
            loaded_at: Mutex::new(Instant::now()),
            refreshing: AtomicBool::new(false),
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &FunctionsConfig {
        &self.config
    }

    /// Compiles a stored value. Limits that apply when defining (template
    /// size) are not applied again: another process may use other limits.
    fn compile_stored(key: &str, value: Value) -> Option<CompiledFunction> {
        let compiled = serde_json::from_value::<FunctionDefinition>(value)
            .map_err(|e| Error::invalid_request(e.to_string()))
            .and_then(|d| CompiledFunction::new(d, usize::MAX));
        match compiled {
            Ok(f) if f.definition.name == key => Some(f),
            Ok(f) => {
                tracing::warn!(key, name = %f.definition.name, "functions: a stored definition's name does not match its key; skipped");
                None
            }
            Err(e) => {
                tracing::warn!(key, error = %e, "functions: a stored definition is invalid; skipped");
                None
            }
        }
    }

    /// Replaces the cache with every definition in the store (at most
    /// `max_functions`; invalid ones are logged and skipped).
    pub(crate) async fn load(&self) -> Result<(), Error> {
        let _writes = self.writes.lock().await;
        let rows = self.store.list(NAMESPACE, "").await?;
        let mut fresh: Cache = BTreeMap::new();
        {
            let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            for (key, value) in rows {
                if fresh.len() >= self.config.max_functions {
                    tracing::warn!(
                        max_functions = self.config.max_functions,
                        "functions: the store holds more definitions than max_functions; the rest are not loaded"
                    );
                    break;
                }
                // Keep the compiled form when the definition did not change.
                if let Some(cached) = cache.get(&key)
                    && serde_json::to_value(&cached.definition).ok().as_ref() == Some(&value)
                {
                    fresh.insert(key, Arc::clone(cached));
                } else if let Some(f) = Self::compile_stored(&key, value) {
                    fresh.insert(key, Arc::new(f));
                }
            }
        }
        *self.cache.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        *self
            .loaded_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        Ok(())
    }

    /// Whether the cache is old enough to reload, claiming the reload if so
    /// (the caller must call [`load`](Self::load) then [`refreshed`](Self::refreshed)).
    pub(crate) fn claim_refresh(&self) -> bool {
        let stale = self
            .loaded_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
            >= REFRESH_AFTER;
        stale
            && self
                .refreshing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    /// Ends a reload claimed with [`claim_refresh`](Self::claim_refresh).
    pub(crate) fn refreshed(&self) {
        self.refreshing.store(false, Ordering::Release);
    }

    /// The cached definitions, sorted by name.
    pub(crate) fn cached_definitions(&self) -> Vec<Arc<CompiledFunction>> {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The function `name` as the store has it now (the cache is updated to
    /// match: a definition made or removed by another process is seen).
    pub(crate) async fn lookup(&self, name: &str) -> Result<Option<Arc<CompiledFunction>>, Error> {
        let Some(value) = self.store.get(NAMESPACE, name).await? else {
            self.evict(name);
            return Ok(None);
        };
        let cached = self
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned();
        if let Some(cached) = cached
            && serde_json::to_value(&cached.definition).ok().as_ref() == Some(&value)
        {
            return Ok(Some(cached));
        }
        let Some(compiled) = Self::compile_stored(name, value) else {
            return Err(Error::internal(format!(
                "the stored definition of function `{name}` is invalid; define it again"
            )));
        };
        let compiled = Arc::new(compiled);
        self.insert(name, &compiled, false);
        Ok(Some(compiled))
    }

    /// Caches `function` under `name` (a new name only while under
    /// `max_functions`, unless `force`).
    fn insert(&self, name: &str, function: &Arc<CompiledFunction>, force: bool) {
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        if force || cache.contains_key(name) || cache.len() < self.config.max_functions {
            cache.insert(name.to_owned(), Arc::clone(function));
        }
    }

    fn evict(&self, name: &str) {
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }

    /// Stores `function`, replacing a definition of the same name; whether
    /// one was replaced. A new name beyond `max_functions` is refused.
    pub(crate) async fn define(
        &self,
        function: CompiledFunction,
    ) -> Result<(Arc<CompiledFunction>, bool), Error> {
        let name = function.definition.name.clone();
        let _writes = self.writes.lock().await;
        let replaced = self.store.get(NAMESPACE, &name).await?.is_some();
        if !replaced {
            let count = self
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .len();
            if count >= self.config.max_functions {
                return Err(Error::invalid_param(
                    "name",
                    format!(
                        "{count} functions are defined, the most max_functions allows; \
                         remove one before defining `{name}`"
                    ),
                ));
            }
        }
        let value = serde_json::to_value(&function.definition)
            .map_err(|e| Error::internal(format!("cannot serialize function `{name}`: {e}")))?;
        self.store.put(NAMESPACE, &name, &value).await?;
        let function = Arc::new(function);
        self.insert(&name, &function, true);
        Ok((function, replaced))
    }

    /// Removes function `name` from the store and the cache; whether it existed.
    pub(crate) async fn remove(&self, name: &str) -> Result<bool, Error> {
        let _writes = self.writes.lock().await;
        let existed = self.store.delete(NAMESPACE, name).await?;
        self.evict(name);
        Ok(existed)
    }
}
