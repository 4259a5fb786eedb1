//! Switchboard's runtime: layered configuration, the live provider registry
//! (hot reload, health, enable/disable) and the router (fallbacks, retries,
//! load balancing), tied together by [`Switchboard`].
#![deny(missing_docs)]

pub mod config;
mod extensions;
mod health;
pub mod registry;
pub mod router;
mod routes;
mod switchboard;
mod validated;

pub use extensions::ExtensionStatus;
pub use health::{DeploymentSnapshot, Health, HealthSnapshot};
pub use registry::{ApplyReport, Instance, InstanceState, InstanceStatus, Registry};
pub use router::{Forwarded, RouteInfo, Routed, Router, StreamForwarded, Target};
pub use switchboard::{Switchboard, SwitchboardBuilder, WatchHandle};
