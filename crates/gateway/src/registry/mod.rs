//! The live registry: every configured provider instance, its state, its
//! redacted config, its health and its provider behind an `ArcSwap`.
//!
//! The request path only loads `ArcSwap`s (no locks); admin operations
//! (reload, update, enable, discover, ...) are serialized by one async mutex
//! that is never held by requests.
//!
//! `instance` holds an [`Instance`] and its state, `lifecycle` builds,
//! swaps and retires instances ([`Registry::apply`], [`Registry::reload`],
//! ...), `tracked` counts the calls in flight on a provider and retires it
//! (drain, `shutdown`, cancel), `credentials` keeps stored credentials from
//! following a new host, `probe` runs the periodic health checks, and
//! `status` the operator's views ([`InstanceStatus`], [`ApplyReport`]).

mod credentials;
mod generation;
mod instance;
mod lifecycle;
mod probe;
mod status;
mod tracked;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::Value;
use switchboard_core::{Catalog, Error, HealthReport, ProviderContext};

pub use generation::Generation;
pub use instance::{Instance, InstanceState};
pub use status::{ApplyReport, InstanceStatus};

use crate::config::types::{Config, HealthConfig};
use crate::health::HealthPolicy;
use crate::routes::Settings;

type Instances = BTreeMap<Arc<str>, Arc<Instance>>;

/// Every provider instance, live.
pub struct Registry {
    catalog: &'static Catalog,
    base_ctx: ProviderContext,
    /// What requests read: instances, health policy, config and routes, as one.
    state: ArcSwap<Generation>,
    /// Runtime config patches (`update_config`), re-applied over the file on discover.
    overrides: Mutex<BTreeMap<String, Value>>,
    admin: tokio::sync::Mutex<()>,
    /// Retirements in progress (drain, then shutdown and cancel).
    retiring: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// How long a retired provider may take to drain, in milliseconds.
    drain_grace_ms: AtomicU64,
    /// Wakes the periodic probe when the health config changes.
    probe_changed: Arc<tokio::sync::Notify>,
}

/// The default drain grace (the server's default shutdown grace).
const DEFAULT_DRAIN_GRACE: Duration = Duration::from_secs(30);

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field(
                "instances",
                &self.state.load().instances.keys().collect::<Vec<_>>(),
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
            state: ArcSwap::from_pointee(Generation {
                instances: BTreeMap::new(),
                policy: HealthPolicy::from(health),
                health: Arc::new(health.clone()),
                config: Arc::new(Config::default()),
                routes: Arc::new(Settings::new(Default::default(), &BTreeMap::new())),
            }),
            overrides: Mutex::new(BTreeMap::new()),
            admin: tokio::sync::Mutex::new(()),
            retiring: Mutex::new(Vec::new()),
            drain_grace_ms: AtomicU64::new(DEFAULT_DRAIN_GRACE.as_millis() as u64),
            probe_changed: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The catalog providers are built from.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Instance>> {
        self.state.load().get(name)
    }

    /// Every instance, sorted by name.
    pub fn instances(&self) -> Vec<Arc<Instance>> {
        self.state.load().instances()
    }

    /// Instance names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.state
            .load()
            .instances
            .keys()
            .map(|k| k.to_string())
            .collect()
    }

    /// The generation requests read now: load it once per request.
    pub fn generation(&self) -> Arc<Generation> {
        self.state.load_full()
    }

    /// The provider kind of instance `name` in the current generation (no
    /// allocation: the generation is only borrowed).
    pub fn provider_kind(&self, name: &str) -> Option<&'static str> {
        self.state
            .load()
            .instances
            .get(name)
            .and_then(|i| i.descriptor())
            .map(|d| d.name)
    }

    pub(crate) fn policy(&self) -> HealthPolicy {
        self.state.load().policy
    }

    pub(super) fn health_config(&self) -> Arc<HealthConfig> {
        self.state.load().health.clone()
    }

    /// Replaces the health thresholds and the probe interval.
    pub fn set_health_config(&self, health: &HealthConfig) {
        self.state.rcu(|g| {
            let mut next = g.with_instances(g.instances.clone());
            next.policy = HealthPolicy::from(health);
            next.health = Arc::new(health.clone());
            next
        });
        self.probe_changed.notify_one();
    }

    /// Publishes a configuration and its routing table (and the health
    /// policy it sets) with the current instances, as one step.
    pub(crate) fn publish_config(&self, config: Arc<Config>, routes: Arc<Settings>) {
        self.state.rcu(|g| Generation {
            instances: g.instances.clone(),
            policy: HealthPolicy::from(&config.health),
            health: Arc::new(config.health.clone()),
            config: config.clone(),
            routes: routes.clone(),
        });
        self.probe_changed.notify_one();
    }

    /// Replaces the routing table only (library users' [`Router::update`](crate::Router::update)).
    pub(crate) fn publish_routes(&self, routes: Arc<Settings>) {
        self.state.rcu(|g| {
            let mut next = g.with_instances(g.instances.clone());
            next.routes = routes.clone();
            next
        });
    }

    /// How long a replaced, disabled or removed provider may take to finish
    /// its calls and streams before it is shut down and cancelled anyway
    /// (default 30 s; the server sets `server.shutdown_grace_ms`).
    pub fn set_drain_grace(&self, grace: Duration) {
        let ms = u64::try_from(grace.min(crate::config::MAX_DURATION).as_millis()).unwrap_or(0);
        self.drain_grace_ms.store(ms, Ordering::Relaxed);
    }

    fn drain_grace(&self) -> Duration {
        Duration::from_millis(self.drain_grace_ms.load(Ordering::Relaxed))
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
        let timeout = Duration::from_millis(self.health_config().check_timeout_ms)
            .min(crate::config::MAX_DURATION);
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

    /// Stops every provider: cancels their context (and the periodic
    /// probe), finishes the retirements in progress at once, and calls
    /// every provider's `shutdown`.
    pub async fn shutdown(&self) {
        self.base_ctx.cancel.cancel();
        let retiring = self
            .retiring
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        futures::future::join_all(retiring).await;
        let instances = self.instances();
        let providers: Vec<_> = instances
            .iter()
            .filter_map(|i| i.live.load().provider.clone())
            .collect();
        futures::future::join_all(providers.iter().map(|p| p.stop())).await;
    }
}
