//! The cache key: what changes it and what does not.

use std::sync::Arc;

use serde_json::json;
use switchboard_core::extension::{ClientKeyInfo, InboundApi, RequestContext};
use switchboard_core::{ChatRequest, Message, ResponseFormat, Tool, ToolChoice};
use switchboard_ext_cache::{Cache, CacheConfig, CacheKey, cache_key};

fn base() -> ChatRequest {
    let mut r = ChatRequest::new(
        "fast",
        vec![Message::system("be brief"), Message::user("hello there")],
    )
    .temperature(0.2)
    .max_tokens(64);
    r.tools.push(Tool::new(
        "lookup",
        "Looks a word up.",
        json!({"type": "object", "properties": {"q": {"type": "string"}}}),
    ));
    r
}

/// A named change to a request.
type Change = (&'static str, Box<dyn Fn(&mut ChatRequest)>);

fn key(r: &ChatRequest) -> CacheKey {
    cache_key(r, None).expect("a key")
}

#[test]
fn the_same_request_has_the_same_key() {
    assert_eq!(key(&base()), key(&base()));
    assert_eq!(key(&base()).to_string().len(), 64, "hex SHA-256");
}

#[test]
fn user_and_metadata_do_not_change_the_key() {
    let mut r = base();
    r.user = Some("alice".into());
    r.metadata.insert("trace".into(), "abc".into());
    assert_eq!(key(&r), key(&base()));
}

#[test]
fn every_field_that_shapes_the_answer_changes_the_key() {
    let original = key(&base());
    let changes: Vec<Change> = vec![
        ("model", Box::new(|r| r.model = "smart".into())),
        (
            "message text",
            Box::new(|r| r.messages[1] = Message::user("hello there!")),
        ),
        (
            "message added",
            Box::new(|r| r.messages.push(Message::user("and?"))),
        ),
        (
            "message role",
            Box::new(|r| r.messages[0] = Message::user("be brief")),
        ),
        ("temperature", Box::new(|r| r.temperature = Some(0.3))),
        ("temperature unset", Box::new(|r| r.temperature = None)),
        ("top_p", Box::new(|r| r.top_p = Some(0.9))),
        ("max_tokens", Box::new(|r| r.max_tokens = Some(65))),
        ("stop", Box::new(|r| r.stop = vec!["END".into()])),
        ("seed", Box::new(|r| r.seed = Some(7))),
        (
            "presence_penalty",
            Box::new(|r| r.presence_penalty = Some(0.5)),
        ),
        (
            "frequency_penalty",
            Box::new(|r| r.frequency_penalty = Some(0.5)),
        ),
        ("tools", Box::new(|r| r.tools.clear())),
        (
            "tool schema",
            Box::new(|r| r.tools[0].parameters = json!({"type": "object"})),
        ),
        (
            "tool_choice",
            Box::new(|r| r.tool_choice = Some(ToolChoice::Required)),
        ),
        (
            "parallel_tool_calls",
            Box::new(|r| r.parallel_tool_calls = Some(false)),
        ),
        (
            "response_format",
            Box::new(|r| r.response_format = Some(ResponseFormat::JsonObject)),
        ),
        (
            "extra",
            Box::new(|r| {
                r.extra.insert("logprobs".into(), json!(true));
            }),
        ),
    ];
    for (what, change) in changes {
        let mut r = base();
        change(&mut r);
        assert_ne!(key(&r), original, "{what} must change the key");
    }
}

#[test]
fn keys_are_per_client_key_only_when_configured() {
    let ctx = |id: &str| {
        let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
        ctx.client_key = Some(ClientKeyInfo {
            id: Arc::from(id),
            ..Default::default()
        });
        ctx
    };
    let shared = Cache::new(&CacheConfig::default()).expect("builds");
    assert_eq!(
        shared.key_for(&ctx("a"), &base()),
        shared.key_for(&ctx("b"), &base())
    );
    let per_key = Cache::new(&CacheConfig {
        per_key: true,
        ..CacheConfig::default()
    })
    .expect("builds");
    assert_ne!(
        per_key.key_for(&ctx("a"), &base()),
        per_key.key_for(&ctx("b"), &base())
    );
    assert_eq!(
        per_key.key_for(&ctx("a"), &base()),
        per_key.key_for(&ctx("a"), &base())
    );
}

#[test]
fn a_model_that_is_not_cached_has_no_key() {
    let config: CacheConfig =
        serde_json::from_value(json!({"models": {"fast": {"enabled": false}}})).expect("config");
    let cache = Cache::new(&config).expect("builds");
    let ctx = RequestContext::new("r", InboundApi::OpenAi);
    assert!(cache.key_for(&ctx, &base()).is_none());
    let mut other = base();
    other.model = "smart".into();
    assert!(cache.key_for(&ctx, &other).is_some());
}
