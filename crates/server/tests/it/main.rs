//! The integration tests of this crate, as one test binary (one link instead
//! of one per file).

mod access_log;
mod admin;
mod anthropic_api;
mod browser_safety;
mod common;
mod connections;
mod console;
mod extensions;
mod forward;
mod forward_stream;
mod gemini_api;
mod h2_stall;
mod health_metrics;
mod in_flight;
mod openai_api;
mod overhead_metric;
mod responses_api;
mod responses_store;
mod robustness;
mod slow_clients;
mod stream_fidelity;
mod upstream_cancel;
