//! The live registry: every configured provider instance, its state, its
//! redacted config, its health and its provider behind an `ArcSwap`.
//!
//! The request path only loads `ArcSwap`s (no locks); admin operations
//! (reload, enable, discover, ...) are serialized by one async mutex that is
//! never held by requests.
//!
//! `instance` holds an [`Instance`] and its state, `lifecycle` builds and
//! swaps instances ([`Registry::apply`], [`Registry::reload`], ...), and
//! `status` the operator's views ([`InstanceStatus`], [`ApplyReport`]).

mod instance;
mod lifecycle;
mod status;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::Value;
use switchboard_core::{Catalog, Error, HealthReport, ProviderContext};

pub use instance::{Instance, InstanceState};
pub use status::{ApplyReport, InstanceStatus};

use crate::config::types::HealthConfig;
use crate::health::HealthPolicy;

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
        // Like the router, the registry tags every error of a provider call.
        result.map_err(|e| e.with_instance(inst.name.clone()))
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
