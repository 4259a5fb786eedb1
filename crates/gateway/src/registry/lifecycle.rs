//! Building, swapping, retiring and removing instances: [`Registry::apply`]
//! (a whole config), [`Registry::reload`], runtime config updates,
//! enable/disable.
//!
//! Every change runs under the registry's admin lock (never taken by
//! requests), so two updates of one instance are applied one after the
//! other, each on the result of the previous one. New providers are built
//! first and made visible in one step; replaced, disabled and removed
//! providers are then retired in the background: drained (calls and streams
//! in flight finish, up to the drain grace), `shutdown()`, and their own
//! cancellation token fired.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use switchboard_core::{Error, ModelInfo, Provider};

use super::credentials::check_host_change;
use super::instance::{Instance, InstanceState, Live};
use super::status::ApplyReport;
use super::tracked::Tracked;
use super::{Instances, Registry};
use crate::config::types::{Config, InstanceConfig};
use crate::config::{check_instance_durations, merge_patch, redact_text, secret_values};
use crate::health::{Health, HealthPolicy};
use crate::routes::Settings;

/// How long building one provider may take.
const BUILD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long listing one instance's models may take while building it.
const MODELS_TIMEOUT: Duration = Duration::from_secs(5);

/// Proof that the registry's admin lock is held.
pub(crate) struct AdminGuard<'a>(#[allow(dead_code)] tokio::sync::MutexGuard<'a, ()>);

/// A configuration built but not yet visible ([`Registry::prepare`]).
pub(crate) struct Prepared {
    report: ApplyReport,
    /// Existing instances and their new state.
    swaps: Vec<(Arc<Instance>, Live)>,
    /// New instances, and instances whose kind changed.
    inserts: Vec<(String, Arc<Instance>)>,
    wanted: BTreeSet<String>,
}

impl Registry {
    /// Takes the admin lock: one configuration change at a time.
    pub(crate) async fn lock_admin(&self) -> AdminGuard<'_> {
        AdminGuard(self.admin.lock().await)
    }

    /// The secret values of `configs` (for scrubbing errors by value).
    fn secrets_of(&self, kind: &str, configs: &[&InstanceConfig]) -> Vec<String> {
        let schema = self.catalog.get(kind).map(|d| d.config_schema());
        configs
            .iter()
            .flat_map(|c| {
                secret_values(
                    &Value::Object(c.settings.clone()),
                    schema.as_ref(),
                    schema.as_ref(),
                )
            })
            .collect()
    }

    /// Builds the provider and lists its models; never panics, never hangs
    /// longer than the build and listing timeouts. Errors are scrubbed of
    /// the config's secrets and URL credentials.
    async fn build_live(&self, name: &str, config: InstanceConfig) -> Live {
        let kind = config.kind_or(name).to_owned();
        if !config.enabled {
            let mut live = Live::gone(config);
            live.state = InstanceState::Disabled;
            return live;
        }
        match self.build_provider(name, &kind, &config).await {
            Ok((provider, models)) => Live {
                config,
                state: InstanceState::Ready,
                provider: Some(provider),
                models,
                last_reload_error: None,
            },
            Err(err) => {
                let secrets = self.secrets_of(&kind, &[&config]);
                let error = redact_text(&err.to_string(), &secrets);
                Live {
                    config,
                    state: InstanceState::Failed { error },
                    provider: None,
                    models: Vec::new(),
                    last_reload_error: None,
                }
            }
        }
    }

    async fn build_provider(
        &self,
        name: &str,
        kind: &str,
        config: &InstanceConfig,
    ) -> Result<(Arc<Tracked>, Vec<ModelInfo>), Error> {
        let descriptor = self.catalog.get(kind).ok_or_else(|| {
            Error::config(format!(
                "unknown provider kind `{kind}`; this build links: {}",
                self.catalog.names().join(", ")
            ))
            .with_instance(name)
        })?;
        check_instance_durations(name, &config.settings)?;
        let settings = Value::Object(config.settings.clone());
        let ctx = self.ctx(name);
        let cancel = ctx.cancel.clone();
        let built = tokio::time::timeout(BUILD_TIMEOUT, descriptor.build(settings, ctx)).await;
        let provider = match built {
            Ok(Ok(p)) => Arc::new(Tracked::new(p, cancel)),
            Ok(Err(e)) => {
                cancel.cancel();
                return Err(e);
            }
            Err(_) => {
                cancel.cancel();
                return Err(Error::timeout(format!(
                    "building the provider took longer than {}s",
                    BUILD_TIMEOUT.as_secs()
                ))
                .with_instance(name));
            }
        };
        let secrets = || self.secrets_of(kind, &[config]);
        let mut models = match tokio::time::timeout(MODELS_TIMEOUT, provider.models()).await {
            Ok(Ok(models)) => models,
            Ok(Err(err)) => {
                let error = redact_text(&err.to_string(), &secrets());
                tracing::warn!(instance = name, %error, "listing models failed");
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

    /// Publishes a new instance map made by `f` from the current one (and,
    /// for a reload, the new configuration and routes with it: one step).
    fn store(&self, publish: Option<(Arc<Config>, Arc<Settings>)>, f: impl FnOnce(&mut Instances)) {
        let current = self.state.load_full();
        let mut instances = current.instances.clone();
        f(&mut instances);
        let mut next = current.with_instances(instances);
        if let Some((config, routes)) = publish {
            next.policy = HealthPolicy::from(&config.health);
            next.health = Arc::new(config.health.clone());
            next.config = config;
            next.routes = routes;
            self.probe_changed.notify_one();
        }
        // Admin operations are serialized (one lock), so no update is lost
        // between the load above and this store.
        self.state.store(Arc::new(next));
    }

    /// Drains and stops the provider `old` held, in the background: up to
    /// the drain grace for its calls and streams to finish, then
    /// `shutdown()` and its cancellation token.
    fn retire(&self, old: Arc<Live>) {
        let Some(provider) = old.provider.clone() else {
            return;
        };
        drop(old);
        let grace = self.drain_grace();
        let abort = self.base_ctx.cancel.clone();
        let task = tokio::spawn(provider.retire(grace, abort));
        if let Ok(mut tasks) = self.retiring.lock() {
            tasks.retain(|t| !t.is_finished());
            tasks.push(task);
        }
    }

    /// Makes the instances match `providers` (runtime overrides re-applied
    /// on top): adds new ones, removes missing ones, rebuilds changed ones,
    /// leaves unchanged ones untouched. A failed rebuild of a ready instance
    /// keeps the old provider serving. Replaced and removed providers are
    /// drained, shut down and cancelled.
    pub async fn apply(&self, providers: &BTreeMap<String, InstanceConfig>) -> ApplyReport {
        let admin = self.lock_admin().await;
        let prepared = self.prepare(&admin, providers).await;
        self.commit(&admin, prepared)
    }

    /// Builds what [`apply`](Self::apply) would change, without making any
    /// of it visible.
    pub(crate) async fn prepare(
        &self,
        _admin: &AdminGuard<'_>,
        providers: &BTreeMap<String, InstanceConfig>,
    ) -> Prepared {
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
        let current = self.state.load_full();
        let mut report = ApplyReport::default();
        for name in current.instances.keys() {
            if !wanted.contains_key(&**name) {
                report.removed.push(name.to_string());
            }
        }
        let mut to_build = Vec::new();
        for (name, cfg) in &wanted {
            match current.instances.get(name.as_str()) {
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
        let mut swaps = Vec::new();
        let mut inserts = Vec::new();
        for (name, cfg, old, live) in built {
            if let InstanceState::Failed { error } = &live.state {
                report.failed.push((name.clone(), error.clone()));
            }
            match old {
                Some(old) if old.kind == cfg.kind_or(&name) => swaps.push((old, live)),
                _ => inserts.push((name.clone(), self.new_instance(&name, &cfg, live))),
            }
        }
        Prepared {
            report,
            swaps,
            inserts,
            wanted: wanted.into_keys().collect(),
        }
    }

    /// Makes a prepared configuration visible, then retires what it
    /// replaced.
    pub(crate) fn commit(&self, admin: &AdminGuard<'_>, prepared: Prepared) -> ApplyReport {
        self.commit_with(admin, prepared, None)
    }

    /// Makes a prepared configuration visible — with `publish`, the new
    /// configuration and routing table in the same
    /// [`Generation`](super::Generation) — then
    /// retires what it replaced.
    pub(crate) fn commit_with(
        &self,
        _admin: &AdminGuard<'_>,
        prepared: Prepared,
        publish: Option<(Arc<Config>, Arc<Settings>)>,
    ) -> ApplyReport {
        let Prepared {
            report,
            swaps,
            inserts,
            wanted,
        } = prepared;
        let mut retired = Vec::new();
        for (inst, live) in swaps {
            let (_, old) = self.swap_live(&inst, live);
            retired.extend(old);
        }
        let current = self.state.load_full();
        for name in report.removed.iter().chain(inserts.iter().map(|(n, _)| n)) {
            if let Some(inst) = current.instances.get(name.as_str()) {
                let config = inst.live.load().config.clone();
                retired.push(inst.live.swap(Arc::new(Live::gone(config))));
            }
        }
        self.store(publish, |map| {
            for name in &report.removed {
                map.remove(name.as_str());
            }
            for (name, inst) in inserts {
                map.insert(Arc::from(name.as_str()), inst);
            }
        });
        if let Ok(mut overrides) = self.overrides.lock() {
            overrides.retain(|name, _| wanted.contains(name));
        }
        for old in retired {
            self.retire(old);
        }
        report
    }

    /// Installs a freshly built `live`, unless it failed while the old one is
    /// ready: then the old provider keeps serving and the error is recorded.
    /// Returns the outcome and the replaced state, to retire.
    fn swap_live(&self, inst: &Instance, mut live: Live) -> (Result<(), Error>, Option<Arc<Live>>) {
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
            let err = Error::config(format!(
                "reload failed, the previous configuration keeps serving: {error}"
            ))
            .with_instance(inst.name.clone());
            return (Err(err), None);
        }
        let failed = match &live.state {
            InstanceState::Failed { error } => Some(error.clone()),
            _ => None,
        };
        live.last_reload_error = None;
        let old = inst.live.swap(Arc::new(live));
        inst.generation.fetch_add(1, Ordering::Relaxed);
        inst.health.reset();
        let result = match failed {
            Some(error) => Err(Error::config(error).with_instance(inst.name.clone())),
            None => Ok(()),
        };
        (result, Some(old))
    }

    /// Rebuilds `name` with `new_config` (or its current one). The new
    /// provider is built first and swapped in only on success; in-flight
    /// requests finish on the old one, which is then shut down.
    ///
    /// A new config that changes where the instance connects must carry
    /// its credentials (see [`update_config`](Self::update_config)).
    pub async fn reload(
        &self,
        name: &str,
        new_config: Option<InstanceConfig>,
    ) -> Result<(), Error> {
        let admin = self.lock_admin().await;
        self.reload_locked(&admin, name, new_config, None).await
    }

    async fn reload_locked(
        &self,
        _admin: &AdminGuard<'_>,
        name: &str,
        new_config: Option<InstanceConfig>,
        patch: Option<&Map<String, Value>>,
    ) -> Result<(), Error> {
        let inst = self.get(name).ok_or_else(|| self.not_found(name))?;
        let current = inst.live.load().config.clone();
        let checked = new_config.is_some();
        let config = new_config.unwrap_or_else(|| current.clone());
        let secrets = self.secrets_of(&inst.kind, &[&current, &config]);
        let scrub = |e: Error| scrub_error(e, &secrets);
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
        if checked {
            let schema = inst.descriptor.map(|d| d.config_schema());
            check_host_change(
                name,
                &current.settings,
                &config.settings,
                patch,
                schema.as_ref(),
            )?;
        }
        check_instance_durations(name, &config.settings).map_err(scrub)?;
        if let Some(d) = inst.descriptor {
            d.validate(&Value::Object(config.settings.clone()))
                .map_err(|e| scrub(e.with_instance(name.to_owned())))?;
        }
        let live = self.build_live(name, config).await;
        let (result, old) = self.swap_live(&inst, live);
        if let Some(old) = old {
            self.retire(old);
        }
        result
    }

    /// Merges `patch` (JSON merge patch, RFC 7386) into `name`'s config and
    /// reloads. The patch is kept and re-applied over the file on discover.
    ///
    /// Updates are serialized: each reads the config the previous one left.
    /// A patch that changes where the instance connects (a URL, host,
    /// endpoint, proxy, region or preset) while credentials are configured
    /// must re-send those credentials (or remove them with `null`), and
    /// supply a credential value, else it fails with `invalid_request` and
    /// changes nothing: a stored key never follows a new host.
    pub async fn update_config(&self, name: &str, patch: &Value) -> Result<(), Error> {
        let admin = self.lock_admin().await;
        let inst = self.get(name).ok_or_else(|| self.not_found(name))?;
        let current = inst.live.load().config.clone();
        let Value::Object(patch_map) = patch else {
            return Err(Error::invalid_request(
                "a config update must be a JSON object",
            ));
        };
        let patched = patch_instance(&current, patch).map_err(|e| {
            let mut secrets = self.secrets_of(&inst.kind, &[&current]);
            secrets.extend(secret_values(patch, None, None));
            scrub_error(e, &secrets)
        })?;
        self.reload_locked(&admin, name, Some(patched), Some(patch_map))
            .await?;
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

    /// Turns an instance off; the router stops using it at once, and its
    /// provider is drained and shut down.
    pub async fn disable(&self, name: &str) -> Result<(), Error> {
        self.set_enabled(name, false).await
    }

    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        let patch = serde_json::json!({ "enabled": enabled });
        self.update_config(name, &patch).await
    }
}

/// `err` with `secrets` and URL credentials removed from its message (kind,
/// param and instance kept).
fn scrub_error(err: Error, secrets: &[String]) -> Error {
    let message = redact_text(err.message(), secrets);
    if message == err.message() {
        return err;
    }
    let mut out = Error::new(err.kind().clone(), message);
    if let Some(p) = err.param() {
        out = out.with_param(p.to_owned());
    }
    if let Some(i) = err.instance() {
        out = out.with_instance(i.to_owned());
    }
    out
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
