//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod bounds;
mod chat;
mod common;
mod faults;
mod setup;
