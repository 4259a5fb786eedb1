//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod conformance;
mod env;
mod errors;
mod wire;
