//! Building, swapping and removing instances: [`Registry::apply`] (a whole
//! config), [`Registry::reload`], runtime config updates, enable/disable.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use switchboard_core::{Error, ModelInfo, Provider};

use super::instance::{Instance, InstanceState, Live};
use super::status::ApplyReport;
use super::{Instances, Registry};
use crate::config::merge_patch;
use crate::config::types::InstanceConfig;
use crate::health::Health;

/// How long building one provider may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long listing one instance's models may take while building it.
const MODELS_TIMEOUT: Duration = Duration::from_secs(5);

impl Registry {
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
