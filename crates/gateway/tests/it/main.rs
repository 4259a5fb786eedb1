//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod config;
mod config_schema;
mod deployment_health;
mod extensions;
mod fallback_policy;
mod life;
mod lifecycle;
mod provider_contract;
mod registry;
mod reload_file;
mod router;
mod router_limits;
mod scripted;
mod secrets;
mod state_config;
