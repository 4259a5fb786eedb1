//! The integration tests of this crate, as one test binary.

mod auth;
mod common;
mod conformance_claude;
mod conformance_gemini;
mod requests;
