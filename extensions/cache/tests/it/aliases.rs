//! The cache keys on the model a request routes to: an alias and the model
//! it points to share entries, and re-pointing the alias stops serving the
//! old model's answers.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::extension::{InboundApi, MethodCall, RequestContext};
use switchboard_core::{ChatRequest, Message};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::{Config, ModelAlias};

// The mock provider, linked so its registration is in the catalog.
use switchboard_mock as _;

async fn stats(sb: &Switchboard) -> Value {
    let call = MethodCall {
        method: "stats".into(),
        arguments: json!({}),
        client_key: None,
        admin: true,
        request_id: "test".into(),
    };
    sb.call_extension("cache", call).await.expect("stats")
}

/// Asks `model` the same question; the cache's hit count after it.
async fn ask(sb: &Switchboard, model: &str) -> u64 {
    let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
    sb.chat_with(
        &mut ctx,
        ChatRequest::new(model, vec![Message::user("same question")]),
    )
    .await
    .expect("answered");
    stats(sb).await["hits"].as_u64().expect("hits")
}

/// Waits until the cache has stored `n` answers (stored off the request path).
async fn stored(sb: &Switchboard, n: u64) {
    for _ in 0..250 {
        if stats(sb).await["stores"].as_u64() == Some(n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never stored {n}: {}", stats(sb).await);
}

#[tokio::test]
async fn an_alias_and_its_target_share_entries_until_the_alias_moves() {
    let config: Config = serde_json::from_value(json!({
        "state": {"path": ":memory:"},
        "providers": {"m": {"kind": "mock"}, "n": {"kind": "mock"}},
        "models": {"fast": {"targets": ["m/mock-1"]}},
        "extensions": {"cache": {"enabled": true}}
    }))
    .expect("valid config");
    let sb = Arc::new(Switchboard::from_config(config).await.expect("builds"));

    assert_eq!(ask(&sb, "fast").await, 0, "the first is a miss");
    stored(&sb, 1).await;
    assert_eq!(ask(&sb, "m/mock-1").await, 1, "the alias's target hits");
    assert_eq!(ask(&sb, "fast").await, 2, "and the alias again");

    // The alias now points elsewhere: its old answers are not served.
    let current = sb.config();
    let moved: ModelAlias =
        serde_json::from_value(json!({"targets": ["n/mock-1"]})).expect("alias");
    let models = [("fast".to_owned(), moved)].into_iter().collect();
    sb.router().update(current.router.clone(), &models);
    assert_eq!(ask(&sb, "fast").await, 2, "a miss after the move");
    stored(&sb, 2).await;
    assert_eq!(ask(&sb, "n/mock-1").await, 3, "the new target shares it");
    assert_eq!(
        ask(&sb, "m/mock-1").await,
        4,
        "the old target keeps its own"
    );
}
