//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod conformance;
mod hosted_presets;
mod local_server;
mod presets;
mod rechecked_presets;
