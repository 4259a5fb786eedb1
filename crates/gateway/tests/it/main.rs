//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod config;
mod config_schema;
mod life;
mod lifecycle;
mod provider_contract;
mod registry;
mod reload_file;
mod router;
mod secrets;
