//! The live registry: every configured provider instance, its state, its
//! redacted config, its health and its provider behind an `ArcSwap`.
//!
//! The request path only loads `ArcSwap`s (no locks); admin operations
//! (reload, enable, discover, ...) are serialized by one async mutex that is
//! never held by requests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_core::{
    Capabilities, Catalog, Error, HealthReport, ModelInfo, Provider, ProviderContext,
    ProviderDescriptor,
};

use crate::config::types::{HealthConfig, InstanceConfig};
use crate::config::{merge_patch, redact};
use crate::health::{Health, HealthPolicy, HealthSnapshot};

/// How long building one provider may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long listing one instance's models may take while building it.
const MODELS_TIMEOUT: Duration = Duration::from_secs(5);

/// What an instance is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InstanceState {
    /// Serving requests.
    Ready,
    /// Could not be built; `error` says why. Not routed to.
    Failed {
        /// Why it failed.
        error: String,
    },
    /// Turned off by config or an operator. Not routed to.
    Disabled,
}

/// The parts of an instance that change together on reload.
struct Live {
    config: InstanceConfig,
    state: InstanceState,
    provider: Option<Arc<dyn Provider>>,
    models: Vec<ModelInfo>,
    /// The error of the last failed reload while an older provider kept serving.
    last_reload_error: Option<String>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("state", &self.state)
            .field("models", &self.models.len())
            .finish_non_exhaustive()
    }
}

/// One configured provider instance.
pub struct Instance {
    name: Arc<str>,
    kind: String,
    descriptor: Option<&'static ProviderDescriptor>,
    live: ArcSwap<Live>,
    health: Health,
    generation: AtomicU64,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("state", &self.live.load().state)
            .finish_non_exhaustive()
    }
}

impl Instance {
    /// The instance name (`[providers.<name>]`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instance name, shared.
    pub fn name_arc(&self) -> &Arc<str> {
        &self.name
    }

    /// The provider kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The provider's descriptor (absent when the kind is not linked).
    pub fn descriptor(&self) -> Option<&'static ProviderDescriptor> {
        self.descriptor
    }

    /// The current state.
    pub fn state(&self) -> InstanceState {
        self.live.load().state.clone()
    }

    /// The provider, when the instance is ready.
    pub fn provider(&self) -> Option<Arc<dyn Provider>> {
        let live = self.live.load();
        match live.state {
            InstanceState::Ready => live.provider.clone(),
            _ => None,
        }
    }

    /// The models the instance listed when it was built.
    pub fn models(&self) -> Vec<ModelInfo> {
        self.live.load().models.clone()
    }

    /// Whether the instance listed `model`.
    pub fn lists_model(&self, model: &str) -> bool {
        self.live.load().models.iter().any(|m| m.id == model)
    }

    /// The context window of `model`, if the instance reported it.
    pub fn context_length(&self, model: &str) -> Option<u32> {
        self.live
            .load()
            .models
            .iter()
            .find(|m| m.id == model)
            .and_then(|m| m.context_length)
    }

    /// Passive health, updated by every request.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// How many times the instance's provider has been (re)built.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    /// The instance's config with credentials replaced by `***`.
    pub fn redacted_config(&self) -> Value {
        let live = self.live.load();
        let schema = self.descriptor.map(|d| d.config_schema());
        let mut out = Map::new();
        if let Some(kind) = &live.config.kind {
            out.insert("kind".into(), Value::String(kind.clone()));
        }
        out.insert("enabled".into(), Value::Bool(live.config.enabled));
        let settings = Value::Object(live.config.settings.clone());
        if let Value::Object(map) = redact(&settings, schema.as_ref(), schema.as_ref()) {
            out.extend(map);
        }
        Value::Object(out)
    }

    /// Everything an operator wants to see about the instance.
    pub fn status(&self) -> InstanceStatus {
        let live = self.live.load();
        InstanceStatus {
            name: self.name.to_string(),
            kind: self.kind.clone(),
            state: live.state.clone(),
            display_name: self.descriptor.map(|d| d.display_name.to_owned()),
            version: self.descriptor.map(|d| d.version.to_owned()),
            capabilities: self
                .descriptor
                .map(|d| d.capabilities)
                .unwrap_or(Capabilities::NONE)
                .names(),
            models: live.models.iter().map(|m| m.id.clone()).collect(),
            config: self.redacted_config(),
            health: self.health.snapshot(),
            last_reload_error: live.last_reload_error.clone(),
            generation: self.generation(),
        }
    }
}

/// A serializable view of an instance, with its config redacted.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    /// The instance name.
    pub name: String,
    /// The provider kind.
    pub kind: String,
    /// Ready, failed or disabled.
    #[serde(flatten)]
    pub state: InstanceState,
    /// The provider's display name.
    pub display_name: Option<String>,
    /// The provider crate's version.
    pub version: Option<String>,
    /// The provider's capabilities.
    pub capabilities: Vec<&'static str>,
    /// Model ids the instance listed.
    pub models: Vec<String>,
    /// The config, credentials redacted.
    pub config: Value,
    /// Passive health.
    pub health: HealthSnapshot,
    /// Why the last reload failed, while the previous provider kept serving.
    pub last_reload_error: Option<String>,
    /// How many times the provider has been (re)built.
    pub generation: u64,
}

/// What [`Registry::apply`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApplyReport {
    /// Instances created.
    pub added: Vec<String>,
    /// Instances removed.
    pub removed: Vec<String>,
    /// Instances rebuilt because their config changed.
    pub reloaded: Vec<String>,
    /// Instances left untouched.
    pub unchanged: Vec<String>,
    /// Instances whose (re)build failed, with the error.
    pub failed: Vec<(String, String)>,
}

type Instances = BTreeMap<Arc<str>, Arc<Instance>>;

/// Every provider instance, live.
pub struct Registry {
    catalog: &'static Catalog,
    base_ctx: ProviderContext,
    instances: ArcSwap<Instances>,
    policy: ArcSwap<HealthPolicy>,
    health_config: ArcSwap<HealthConfig>,
    /// Runtime config patches (`update_config`), re-applied over the file on discover.
    overrides: Mutex<BTreeMap<String, Value>>,
    admin: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field(
                "instances",
                &self.instances.load().keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry building providers from `catalog`, sharing
    /// `base_ctx`'s HTTP client.
    pub fn new(
        catalog: &'static Catalog,
        base_ctx: ProviderContext,
        health: &HealthConfig,
    ) -> Self {
        Registry {
            catalog,
            base_ctx,
            instances: ArcSwap::from_pointee(BTreeMap::new()),
            policy: ArcSwap::from_pointee(HealthPolicy::from(health)),
            health_config: ArcSwap::from_pointee(health.clone()),
            overrides: Mutex::new(BTreeMap::new()),
            admin: tokio::sync::Mutex::new(()),
        }
    }

    /// The catalog providers are built from.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Instance>> {
        self.instances.load().get(name).cloned()
    }

    /// Every instance, sorted by name.
    pub fn instances(&self) -> Vec<Arc<Instance>> {
        self.instances.load().values().cloned().collect()
    }

    /// Instance names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.instances
            .load()
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    pub(crate) fn policy(&self) -> arc_swap::Guard<Arc<HealthPolicy>> {
        self.policy.load()
    }

    /// Replaces the health thresholds.
    pub fn set_health_config(&self, health: &HealthConfig) {
        self.policy.store(Arc::new(HealthPolicy::from(health)));
        self.health_config.store(Arc::new(health.clone()));
    }

    fn ctx(&self, instance: &str) -> ProviderContext {
        let mut ctx = self.base_ctx.clone();
        ctx.instance = Arc::from(instance);
        ctx.cancel = self.base_ctx.cancel.child_token();
        ctx
    }

    fn not_found(&self, name: &str) -> Error {
        Error::not_found(format!(
            "no provider instance named `{name}`; configured instances: {}",
            self.names().join(", ")
        ))
    }

    /// Builds the provider and lists its models; never panics, never hangs
    /// longer than the build and listing timeouts.
    async fn build_live(&self, name: &str, config: InstanceConfig) -> Live {
        let kind = config.kind_or(name).to_owned();
        if !config.enabled {
            return Live {
                config,
                state: InstanceState::Disabled,
                provider: None,
                models: Vec::new(),
                last_reload_error: None,
            };
        }
        match self.build_provider(name, &kind, &config).await {
            Ok((provider, models)) => Live {
                config,
                state: InstanceState::Ready,
                provider: Some(provider),
                models,
                last_reload_error: None,
            },
            Err(err) => Live {
                config,
                state: InstanceState::Failed {
                    error: err.to_string(),
                },
                provider: None,
                models: Vec::new(),
                last_reload_error: None,
            },
        }
    }

    async fn build_provider(
        &self,
        name: &str,
        kind: &str,
        config: &InstanceConfig,
    ) -> Result<(Arc<dyn Provider>, Vec<ModelInfo>), Error> {
        let descriptor = self.catalog.get(kind).ok_or_else(|| {
            Error::config(format!(
                "unknown provider kind `{kind}`; this build links: {}",
                self.catalog.names().join(", ")
            ))
            .with_instance(name)
        })?;
        let settings = Value::Object(config.settings.clone());
        let provider =
            tokio::time::timeout(BUILD_TIMEOUT, descriptor.build(settings, self.ctx(name)))
                .await
                .map_err(|_| {
                    Error::timeout(format!(
                        "building the provider took longer than {}s",
                        BUILD_TIMEOUT.as_secs()
                    ))
                    .with_instance(name)
                })??;
        let mut models = match tokio::time::timeout(MODELS_TIMEOUT, provider.models()).await {
            Ok(Ok(models)) => models,
            Ok(Err(err)) => {
                tracing::warn!(instance = name, error = %err, "listing models failed");
                Vec::new()
            }
            Err(_) => {
                tracing::warn!(instance = name, "listing models timed out");
                Vec::new()
            }
        };
        for m in &mut models {
            if m.provider.is_empty() {
                m.provider = name.to_owned();
            }
        }
        Ok((provider, models))
    }

    fn new_instance(&self, name: &str, config: &InstanceConfig, live: Live) -> Arc<Instance> {
        let kind = config.kind_or(name).to_owned();
        Arc::new(Instance {
            name: Arc::from(name),
            descriptor: self.catalog.get(&kind),
            kind,
            live: ArcSwap::from_pointee(live),
            health: Health::new(),
            generation: AtomicU64::new(1),
        })
    }

    fn store(&self, f: impl FnOnce(&mut Instances)) {
        let mut next = (**self.instances.load()).clone();
        f(&mut next);
        self.instances.store(Arc::new(next));
    }

    /// Makes the instances match `providers` (runtime overrides re-applied
    /// on top): adds new ones, removes missing ones, rebuilds changed ones,
    /// leaves unchanged ones untouched. A failed rebuild of a ready instance
    /// keeps the old provider serving.
    pub async fn apply(&self, providers: &BTreeMap<String, InstanceConfig>) -> ApplyReport {
        let _admin = self.admin.lock().await;
        let mut wanted = providers.clone();
        if let Ok(overrides) = self.overrides.lock() {
            for (name, patch) in overrides.iter() {
                if let Some(cfg) = wanted.get_mut(name)
                    && let Ok(patched) = patch_instance(cfg, patch)
                {
                    *cfg = patched;
                }
            }
        }
        let current = self.instances.load_full();
        let mut report = ApplyReport::default();
        for name in current.keys() {
            if !wanted.contains_key(&**name) {
                report.removed.push(name.to_string());
            }
        }
        let mut to_build = Vec::new();
        for (name, cfg) in &wanted {
            match current.get(name.as_str()) {
                None => {
                    report.added.push(name.clone());
                    to_build.push((name.clone(), cfg.clone(), None));
                }
                Some(inst) if inst.live.load().config != *cfg => {
                    report.reloaded.push(name.clone());
                    to_build.push((name.clone(), cfg.clone(), Some(inst.clone())));
                }
                Some(_) => report.unchanged.push(name.clone()),
            }
        }
        let built = futures::future::join_all(to_build.into_iter().map(|(name, cfg, old)| async {
            let live = self.build_live(&name, cfg.clone()).await;
            (name, cfg, old, live)
        }))
        .await;
        let mut replacements = Vec::new();
        for (name, cfg, old, live) in built {
            if let InstanceState::Failed { error } = &live.state {
                report.failed.push((name.clone(), error.clone()));
            }
            match old {
                Some(old) if old.kind == cfg.kind_or(&name) => {
                    let _ = self.swap_live(&old, live);
                }
                _ => replacements.push((name.clone(), self.new_instance(&name, &cfg, live))),
            }
        }
        let removed = report.removed.clone();
        self.store(|map| {
            for name in &removed {
                map.remove(name.as_str());
            }
            for (name, inst) in replacements {
                map.insert(Arc::from(name.as_str()), inst);
            }
        });
        if let Ok(mut overrides) = self.overrides.lock() {
            overrides.retain(|name, _| wanted.contains_key(name));
        }
        report
    }

    /// Installs a freshly built `live`, unless it failed while the old one is
    /// ready: then the old provider keeps serving and the error is recorded.
    fn swap_live(&self, inst: &Instance, mut live: Live) -> Result<(), Error> {
        let old = inst.live.load();
        if let InstanceState::Failed { error } = &live.state
            && old.state == InstanceState::Ready
            && old.provider.is_some()
        {
            let kept = Live {
                config: old.config.clone(),
                state: InstanceState::Ready,
                provider: old.provider.clone(),
                models: old.models.clone(),
                last_reload_error: Some(error.clone()),
            };
            let error = error.clone();
            inst.live.store(Arc::new(kept));
            return Err(Error::config(format!(
                "reload failed, the previous configuration keeps serving: {error}"
            ))
            .with_instance(inst.name.clone()));
        }
        let failed = match &live.state {
            InstanceState::Failed { error } => Some(error.clone()),
            _ => None,
        };
        live.last_reload_error = None;
        inst.live.store(Arc::new(live));
        inst.generation.fetch_add(1, Ordering::Relaxed);
        inst.health.reset();
        match failed {
            Some(error) => Err(Error::config(error).with_instance(inst.name.clone())),
            None => Ok(()),
        }
    }

    /// Rebuilds `name` with `new_config` (or its current one). The new
    /// provider is built first and swapped in only on success; in-flight
    /// requests finish on the old one.
    pub async fn reload(
        &self,
        name: &str,
        new_config: Option<InstanceConfig>,
    ) -> Result<(), Error> {
        let _admin = self.admin.lock().await;
        let inst = self.get(name).ok_or_else(|| self.not_found(name))?;
        let config = new_config.unwrap_or_else(|| inst.live.load().config.clone());
        if config.kind_or(name) != inst.kind {
            return Err(Error::invalid_param(
                "kind",
                format!(
                    "cannot change the kind of `{name}` from `{}` to `{}` by reload; \
                     change the config file and rediscover instead",
                    inst.kind,
                    config.kind_or(name)
                ),
            ));
        }
        if let Some(d) = inst.descriptor {
            d.validate(&Value::Object(config.settings.clone()))
                .map_err(|e| e.with_instance(name.to_owned()))?;
        }
        let live = self.build_live(name, config).await;
        self.swap_live(&inst, live)
    }

    /// Merges `patch` (JSON merge patch, RFC 7386) into `name`'s config and
    /// reloads. The patch is kept and re-applied over the file on discover.
    pub async fn update_config(&self, name: &str, patch: &Value) -> Result<(), Error> {
        let inst = self.get(name).ok_or_else(|| self.not_found(name))?;
        let current = inst.live.load().config.clone();
        let patched = patch_instance(&current, patch)?;
        self.reload(name, Some(patched)).await?;
        if let Ok(mut overrides) = self.overrides.lock() {
            let entry = overrides
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            merge_patch(entry, patch);
        }
        Ok(())
    }

    /// Turns an instance on, building its provider.
    pub async fn enable(&self, name: &str) -> Result<(), Error> {
        self.set_enabled(name, true).await
    }

    /// Turns an instance off; the router stops using it at once.
    pub async fn disable(&self, name: &str) -> Result<(), Error> {
        self.set_enabled(name, false).await
    }

    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        let patch = serde_json::json!({ "enabled": enabled });
        self.update_config(name, &patch).await
    }

    /// Runs `name`'s health check now, with the configured timeout, and
    /// records the outcome.
    pub async fn health_check(&self, name: &str) -> Result<HealthReport, Error> {
        let inst = self.get(name).ok_or_else(|| self.not_found(name))?;
        self.check(&inst).await
    }

    async fn check(&self, inst: &Instance) -> Result<HealthReport, Error> {
        let provider = inst.provider().ok_or_else(|| {
            Error::unavailable(format!("instance is {:?}", inst.state()))
                .with_instance(inst.name.clone())
        })?;
        let timeout = Duration::from_millis(self.health_config.load().check_timeout_ms);
        let started = tokio::time::Instant::now();
        let result = match tokio::time::timeout(timeout, provider.health()).await {
            Ok(r) => r,
            Err(_) => Err(Error::timeout(format!(
                "health check took longer than {} ms",
                timeout.as_millis()
            ))),
        };
        let policy = self.policy();
        match &result {
            Ok(_) => inst.health.record_success(started.elapsed(), &policy),
            Err(e) => inst.health.record_error(e, started.elapsed(), &policy),
        }
        result.map_err(|e| match e.instance() {
            Some(_) => e,
            None => e.with_instance(inst.name.clone()),
        })
    }

    /// Checks every ready instance concurrently.
    pub async fn health_check_all(&self) -> Vec<(String, Result<HealthReport, Error>)> {
        let instances = self.instances();
        futures::future::join_all(instances.iter().map(|inst| async move {
            let result = match inst.state() {
                InstanceState::Ready => self.check(inst).await,
                state => Err(Error::unavailable(format!("instance is {state:?}"))),
            };
            (inst.name.to_string(), result)
        }))
        .await
    }

    /// Every instance's status.
    pub fn statuses(&self) -> Vec<InstanceStatus> {
        self.instances().iter().map(|i| i.status()).collect()
    }

    /// Stops every provider: cancels their context and calls `shutdown`.
    pub async fn shutdown(&self) {
        self.base_ctx.cancel.cancel();
        let instances = self.instances();
        futures::future::join_all(instances.iter().filter_map(|i| i.provider()).map(
            |p| async move {
                p.shutdown().await;
            },
        ))
        .await;
    }
}

/// Applies a JSON merge patch to an instance config (its `kind`, `enabled`
/// and settings as one object).
fn patch_instance(config: &InstanceConfig, patch: &Value) -> Result<InstanceConfig, Error> {
    if !patch.is_object() {
        return Err(Error::invalid_request(
            "a config update must be a JSON object",
        ));
    }
    let mut value = serde_json::to_value(config)
        .map_err(|e| Error::config(format!("cannot serialize the config: {e}")))?;
    merge_patch(&mut value, patch);
    serde_json::from_value(value).map_err(|e| Error::invalid_request(e.to_string()))
}
