//! Shared helpers for the criterion benches in `benches/`.
//!
//! Run them with `cargo bench -p switchboard-benches`; add `-- --quick` for a
//! fast pass.

pub mod e2e;

use std::sync::Arc;

use switchboard::{ChatRequest, Message, Provider};

/// A current-thread tokio runtime for async benches.
pub fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => panic!("cannot build a tokio runtime: {err}"),
    }
}

/// A mock provider with no delays, built through the catalog like any provider.
pub async fn mock_provider() -> Arc<dyn Provider> {
    match switchboard::build_provider("mock", serde_json::json!({}), "mock").await {
        Ok(p) => p,
        Err(err) => panic!("cannot build the mock provider: {err}"),
    }
}

/// A typical short chat request: a system prompt and a user question.
pub fn sample_request() -> ChatRequest {
    ChatRequest::new(
        "mock-1",
        vec![
            Message::system("You are a helpful assistant."),
            Message::user("What is the capital of France? Answer in one short sentence."),
        ],
    )
}
