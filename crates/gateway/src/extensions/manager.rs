//! Building the enabled extensions from `[extensions.*]` and keeping them in
//! step with the configuration: changed settings rebuild an extension (the
//! new one is swapped in only when every build succeeded), removed or
//! disabled ones are shut down and cancelled. The store (SQLite, or
//! PostgreSQL with the `postgres` feature) is opened when the first
//! extension is enabled, and kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{ExtensionContext, Gateway, Hooks, Store, extension_catalog};
use tokio_util::sync::CancellationToken;

use super::Hub;
use super::handle::GatewayHandle;
use super::set::{ExtensionSet, LoadedExtension};
use super::status::ExtensionStatus;
use crate::config::types::{Config, StateBackend, StateConfig};

/// Builds and retires extensions; one per switchboard.
pub(crate) struct ExtensionManager {
    /// The store, once opened (or the one the builder was given).
    store: tokio::sync::Mutex<Option<Arc<dyn Store>>>,
    /// The config file's directory (relative store paths and the default file).
    config_dir: Option<PathBuf>,
    /// Parent of every extension's cancellation token.
    cancel: CancellationToken,
}

/// A new set, and the extensions it no longer holds.
pub(crate) struct PreparedSet {
    set: ExtensionSet,
    retired: Vec<Arc<LoadedExtension>>,
}

impl ExtensionManager {
    /// A manager; `store` replaces the configured one when given.
    pub(crate) fn new(store: Option<Arc<dyn Store>>, config_path: Option<&Path>) -> Self {
        ExtensionManager {
            store: tokio::sync::Mutex::new(store),
            config_dir: config_path.map(|p| {
                p.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."))
            }),
            cancel: CancellationToken::new(),
        }
    }

    /// The store if it is open (never opens it; `None` while it is being opened).
    pub(crate) fn opened_store(&self) -> Option<Arc<dyn Store>> {
        self.store.try_lock().ok().and_then(|slot| slot.clone())
    }

    /// The store, opened on first use.
    async fn store(&self, state: &StateConfig) -> Result<Arc<dyn Store>, Error> {
        let mut slot = self.store.lock().await;
        if let Some(s) = &*slot {
            return Ok(s.clone());
        }
        let store = match state.backend() {
            StateBackend::Sqlite => {
                let path = match (&state.path, &self.config_dir) {
                    (Some(p), _) if p == ":memory:" => ":memory:".to_owned(),
                    (Some(p), Some(dir)) => dir.join(p).to_string_lossy().into_owned(),
                    (Some(p), None) => p.clone(),
                    (None, Some(dir)) => dir.join("switchboard.db").to_string_lossy().into_owned(),
                    (None, None) => ":memory:".to_owned(),
                };
                open_sqlite(&path).await?
            }
            StateBackend::Postgres => open_postgres(state).await?,
        };
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Builds what `config` enables and is not running with the same
    /// settings already. Fails (changing nothing) when a build fails.
    pub(crate) async fn prepare(
        &self,
        hub: &Weak<Hub>,
        current: &ExtensionSet,
        config: &Config,
    ) -> Result<PreparedSet, Error> {
        let mut wanted: Vec<(i32, &String, &crate::config::types::ExtensionConfig)> = config
            .extensions
            .iter()
            .filter(|(_, c)| c.enabled)
            .map(|(n, c)| (c.order, n, c))
            .collect();
        wanted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut entries = Vec::with_capacity(wanted.len());
        if !wanted.is_empty() {
            let catalog = extension_catalog()?;
            let store = self.store(&config.state).await?;
            for (order, name, ext_config) in wanted {
                if let Some(running) = current.get(name)
                    && running.settings == ext_config.settings
                {
                    entries.push((order, running.clone()));
                    continue;
                }
                let descriptor = catalog.get(name).ok_or_else(|| {
                    Error::config(format!(
                        "unknown extension `{name}`; linked extensions: {}",
                        catalog.names().join(", ")
                    ))
                })?;
                let cancel = self.cancel.child_token();
                let gateway: Arc<dyn Gateway> = Arc::new(GatewayHandle(hub.clone()));
                let ctx = ExtensionContext {
                    name: Arc::from(name.as_str()),
                    store: store.clone(),
                    gateway,
                    cancel: cancel.clone(),
                };
                let settings = Value::Object(ext_config.settings.clone());
                let ext = descriptor.build(settings, ctx).await.map_err(|e| {
                    Error::config(format!("extension `{name}` failed to start: {e}"))
                })?;
                entries.push((
                    order,
                    Arc::new(LoadedExtension::new(
                        Arc::from(name.as_str()),
                        descriptor,
                        ext,
                        ext_config.settings.clone(),
                        cancel,
                    )),
                ));
            }
        }
        let retired = current
            .entries
            .iter()
            .filter(|(_, old)| !entries.iter().any(|(_, new)| Arc::ptr_eq(old, new)))
            .map(|(_, old)| old.clone())
            .collect();
        let mut by_alias = HashMap::new();
        let mut by_key = HashMap::new();
        if !entries.is_empty() {
            for (alias, a) in &config.models {
                if let Some(names) = &a.extensions {
                    by_alias.insert(alias.clone(), names.clone());
                }
            }
            for (i, k) in config.server.api_keys.iter().enumerate() {
                if let Some(names) = &k.extensions {
                    by_key.insert(k.id_or(i), names.clone());
                }
            }
        }
        Ok(PreparedSet {
            set: ExtensionSet {
                entries,
                by_alias,
                by_key,
            },
            retired,
        })
    }

    /// Makes `prepared` the running set (no await), returning the retired
    /// extensions for [`retire`](Self::retire).
    pub(crate) fn commit(hub: &Hub, prepared: PreparedSet) -> Vec<Arc<LoadedExtension>> {
        hub.set.store(Arc::new(prepared.set));
        prepared.retired
    }

    /// Shuts down and cancels retired extensions.
    pub(crate) async fn retire(retired: Vec<Arc<LoadedExtension>>) {
        for e in retired {
            e.ext.shutdown().await;
            e.cancel.cancel();
        }
    }

    /// Shuts down every running extension.
    pub(crate) async fn shutdown(&self, hub: &Hub) {
        let set = hub.set.swap(Arc::new(ExtensionSet::default()));
        Self::retire(set.entries.iter().map(|(_, e)| e.clone()).collect()).await;
        self.cancel.cancel();
    }
}

/// Opens the SQLite store at `path` (`:memory:` for one in memory).
async fn open_sqlite(path: &str) -> Result<Arc<dyn Store>, Error> {
    let store = switchboard_state::SqliteStore::open(path).await?;
    Ok(Arc::new(store))
}

/// The PostgreSQL settings of `[state]`, defaults filled in.
fn postgres_config(state: &StateConfig) -> Result<switchboard_state::PostgresConfig, Error> {
    use switchboard_state::PostgresConfig;
    let url = state.url.clone().ok_or_else(|| {
        Error::config("`[state] url` is required with `backend = \"postgres\"`")
            .with_param("state.url")
    })?;
    let mut config = PostgresConfig::new(url);
    if let Some(schema) = &state.schema {
        config = config.with_schema(schema.clone());
    }
    if let Some(size) = state.pool_size {
        config = config.with_pool_size(size);
    }
    if let Some(ms) = state.timeout_ms {
        config = config.with_timeout(std::time::Duration::from_millis(ms));
    }
    Ok(config)
}

/// Connects to the PostgreSQL store `[state]` names and migrates it.
#[cfg(feature = "postgres")]
async fn open_postgres(state: &StateConfig) -> Result<Arc<dyn Store>, Error> {
    let config = postgres_config(state)?;
    let store = switchboard_state::PostgresStore::open(&config).await?;
    tracing::info!(
        url = %config.redacted_url(),
        schema = %config.schema,
        pool_size = config.pool_size,
        timeout_ms = config.timeout.as_millis() as u64,
        "state store: PostgreSQL"
    );
    Ok(Arc::new(store))
}

/// Without the `postgres` feature: a clear `config` error (the loader
/// already refuses such a configuration; this covers a `Config` built in code).
#[cfg(not(feature = "postgres"))]
async fn open_postgres(state: &StateConfig) -> Result<Arc<dyn Store>, Error> {
    postgres_config(state)?;
    Err(Error::config(
        "`[state] backend = \"postgres\"` needs switchboard built with the `postgres` feature \
         (the default `switchboard` binary has it)",
    )
    .with_param("state.backend"))
}

/// Every linked or configured extension's status.
pub(crate) fn statuses(hub: &Hub, config: &Config) -> Vec<ExtensionStatus> {
    let set = hub.set.load();
    let mut names: Vec<String> = config.extensions.keys().cloned().collect();
    if let Ok(catalog) = extension_catalog() {
        names.extend(catalog.names().into_iter().map(str::to_owned));
    }
    names.sort();
    names.dedup();
    let catalog = extension_catalog().ok();
    names
        .into_iter()
        .map(|name| {
            let cfg = config.extensions.get(&name);
            let descriptor = catalog.and_then(|c| c.get(&name));
            let running = set.get(&name);
            let enabled = cfg.is_some_and(|c| c.enabled);
            ExtensionStatus {
                state: match (running, cfg) {
                    (Some(_), _) => "running",
                    (None, Some(_)) => "disabled",
                    (None, None) => "not_configured",
                },
                enabled,
                order: cfg.map(|c| c.order).unwrap_or(0),
                hooks: descriptor.map(|d| d.hooks.names()).unwrap_or_default(),
                methods: running
                    .filter(|e| e.has(Hooks::METHODS))
                    .map(|e| e.ext.methods())
                    .unwrap_or_default(),
                mount: descriptor.map(|d| d.mount).filter(|m| !m.is_empty()),
                dropped_records: running
                    .map(|e| e.dropped.load(Ordering::Relaxed))
                    .unwrap_or(0),
                detail: running.map(|e| e.ext.status()).unwrap_or(Value::Null),
                name,
            }
        })
        .collect()
}

/// The extensions' metrics: the dropped-records counter, then each running
/// extension's own.
pub(crate) fn metrics(hub: &Hub, out: &mut String) {
    let set = hub.set.load();
    if set.is_empty() {
        return;
    }
    out.push_str(
        "# HELP switchboard_extension_records_dropped_total Completion records dropped because an extension's queue was full.\n\
         # TYPE switchboard_extension_records_dropped_total counter\n",
    );
    for (_, e) in &set.entries {
        out.push_str(&format!(
            "switchboard_extension_records_dropped_total{{extension=\"{}\"}} {}\n",
            e.name,
            e.dropped.load(Ordering::Relaxed)
        ));
    }
    for (_, e) in &set.entries {
        e.ext.metrics(out);
    }
}
