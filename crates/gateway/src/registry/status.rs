//! What operators see: [`InstanceStatus`] (an instance, config redacted)
//! and [`ApplyReport`] (what applying a configuration changed).

use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_core::Capabilities;

use super::instance::{Instance, InstanceState};
use crate::config::redact;
use crate::health::HealthSnapshot;

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

impl Instance {
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

/// What [`Registry::apply`](super::Registry::apply) changed.
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
