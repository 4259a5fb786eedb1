//! [`Generation`]: one published state of the gateway — the configuration,
//! the instances, the health policy and the routing table — swapped as one
//! `ArcSwap`, so a request that loads it once never sees half a reload.

use std::sync::Arc;

use super::{Instance, Instances};
use crate::config::types::{Config, HealthConfig};
use crate::health::HealthPolicy;
use crate::routes::Settings;

/// Everything a request reads, published together.
#[derive(Debug)]
pub struct Generation {
    pub(crate) instances: Instances,
    pub(crate) policy: HealthPolicy,
    pub(crate) health: Arc<HealthConfig>,
    pub(crate) config: Arc<Config>,
    pub(crate) routes: Arc<Settings>,
}

impl Generation {
    /// The configuration of this generation.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// The instance named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Instance>> {
        self.instances.get(name).cloned()
    }

    /// Every instance, sorted by name.
    pub fn instances(&self) -> Vec<Arc<Instance>> {
        self.instances.values().cloned().collect()
    }

    /// A copy with other instances (the rest shared).
    pub(crate) fn with_instances(&self, instances: Instances) -> Generation {
        Generation {
            instances,
            policy: self.policy,
            health: self.health.clone(),
            config: self.config.clone(),
            routes: self.routes.clone(),
        }
    }
}
