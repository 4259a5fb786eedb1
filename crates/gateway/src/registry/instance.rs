//! One provider instance: its state and the parts that change together on
//! reload, read lock-free by the request path.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use serde::Serialize;
use switchboard_core::{ModelInfo, Provider, ProviderDescriptor};

use super::tracked::Tracked;
use crate::config::types::InstanceConfig;
use crate::health::Health;

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
pub(super) struct Live {
    pub(super) config: InstanceConfig,
    pub(super) state: InstanceState,
    /// The provider, counted in flight and retired through its wrapper.
    pub(super) provider: Option<Arc<Tracked>>,
    pub(super) models: Vec<ModelInfo>,
    /// The error of the last failed reload while an older provider kept serving.
    pub(super) last_reload_error: Option<String>,
}

impl Live {
    /// No provider: what a removed instance keeps, so that a request that
    /// resolved it just before it went away finds nothing to call.
    pub(super) fn gone(config: InstanceConfig) -> Self {
        Live {
            config,
            state: InstanceState::Disabled,
            provider: None,
            models: Vec::new(),
            last_reload_error: None,
        }
    }
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
    pub(super) name: Arc<str>,
    pub(super) kind: String,
    pub(super) descriptor: Option<&'static ProviderDescriptor>,
    pub(super) live: ArcSwap<Live>,
    pub(super) health: Health,
    pub(super) generation: AtomicU64,
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
            InstanceState::Ready => live.provider.clone().map(|p| p as Arc<dyn Provider>),
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

    /// Calls and streams in flight on the instance's current provider.
    pub fn in_flight(&self) -> usize {
        self.live
            .load()
            .provider
            .as_ref()
            .map_or(0, |p| p.in_flight())
    }

    /// How many times the instance's provider has been (re)built.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}
