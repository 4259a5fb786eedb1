//! Integration tests of the Bedrock provider (one test binary).

mod conformance;
mod credentials;
mod errors;
mod fixtures;
mod provider;
mod sigv4;
mod support;
