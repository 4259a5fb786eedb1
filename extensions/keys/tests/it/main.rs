//! Tests of the `keys` extension: the testkit's conformance check, the
//! methods that manage keys, authentication, limits and budgets.

mod groups;
mod redis_failures;
mod redis_nodes;
mod test_redis;

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::extension::{
    ClientKeyInfo, ExtensionContext, InboundApi, LedgerRow, MethodCall, RequestContext, Store,
};
use switchboard_core::{ChatRequest, ErrorKind, Message};
use switchboard_ext_keys::Keys;
use switchboard_testkit::MemoryStore;
use switchboard_testkit::test_extension_context;

/// The contract every extension keeps (config schema, hooks on awkward
/// inputs, refusal statuses, method schemas, unknown methods).
#[test]
fn conformance() {
    switchboard_testkit::assert_extension_conforms(Keys::DESCRIPTOR, json!({}));
}

async fn keys_with(store: Arc<MemoryStore>, config: Value) -> Arc<dyn switchboard_core::Extension> {
    let mut ctx: ExtensionContext = test_extension_context("keys");
    ctx.store = store;
    Keys::DESCRIPTOR.build(config, ctx).await.expect("builds")
}

async fn call(
    ext: &Arc<dyn switchboard_core::Extension>,
    method: &str,
    args: Value,
) -> Result<Value, switchboard_core::Error> {
    ext.call(MethodCall {
        method: method.into(),
        arguments: args,
        client_key: None,
        admin: true,
        request_id: "test".into(),
    })
    .await
}

fn context_for(id: &str) -> RequestContext {
    let mut ctx = RequestContext::new("r", InboundApi::OpenAi);
    ctx.client_key = Some(ClientKeyInfo {
        id: Arc::from(id),
        ..Default::default()
    });
    ctx
}

fn request() -> ChatRequest {
    ChatRequest::new("mock/mock-1", vec![Message::user("hello there")])
}

fn header<'a>(ctx: &'a RequestContext, name: &str) -> Option<&'a str> {
    ctx.response_headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_refused_once_revoked() {
    let store = Arc::new(MemoryStore::new());
    let ext = keys_with(store.clone(), json!({})).await;
    let made = call(
        &ext,
        "create",
        json!({"name": "ci", "models": ["mock/mock-1"], "team": "web"}),
    )
    .await
    .expect("created");
    let secret = made["key"].as_str().expect("the key, once").to_owned();
    let id = made["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with("sk-sb-"), "{secret}");
    assert!(secret.starts_with(made["prefix"].as_str().expect("prefix")));

    // Neither the store nor any later answer holds the key.
    let stored = store.list("keys", "").await.expect("list");
    assert!(
        !serde_json::to_string(&stored)
            .expect("json")
            .contains(&secret[6..])
    );
    let listed = call(&ext, "list", json!({})).await.expect("list");
    assert_eq!(listed["data"][0]["id"], json!(id));
    assert!(listed["data"][0].get("key").is_none() && listed["data"][0].get("hash").is_none());
    let got = call(&ext, "get", json!({"id": id})).await.expect("get");
    assert_eq!(got["name"], "ci");
    assert!(got.get("key").is_none());

    let grant = ext
        .authenticate(&secret)
        .await
        .expect("valid")
        .expect("known");
    assert_eq!(&*grant.key.id, id.as_str());
    assert_eq!(grant.key.team.as_deref(), Some("web"));
    assert_eq!(grant.models, Some(vec!["mock/mock-1".to_owned()]));
    assert!(
        ext.authenticate("sk-sb-unknown")
            .await
            .expect("fine")
            .is_none()
    );
    assert!(
        ext.authenticate("sk-openai-key")
            .await
            .expect("fine")
            .is_none()
    );

    let updated = call(&ext, "update", json!({"id": id, "models": [], "rpm": 5}))
        .await
        .expect("updated");
    assert_eq!(updated["rpm"], 5);
    let grant = ext
        .authenticate(&secret)
        .await
        .expect("valid")
        .expect("known");
    assert_eq!(grant.models, None, "an update takes effect at once");

    call(&ext, "revoke", json!({"id": id}))
        .await
        .expect("revoked");
    let err = ext.authenticate(&secret).await.expect_err("revoked");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    assert!(err.to_string().contains("revoked"), "{err}");
    assert!(!err.to_string().contains(&secret), "{err}");

    let err = call(&ext, "get", json!({"id": "key_nope"}))
        .await
        .expect_err("unknown");
    assert_eq!(err.kind(), &ErrorKind::NotFound);
}

#[tokio::test]
async fn an_expired_key_is_refused_and_a_bad_expiry_is_a_clear_error() {
    let ext = keys_with(Arc::new(MemoryStore::new()), json!({})).await;
    let made = call(
        &ext,
        "create",
        json!({"name": "old", "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .expect("created");
    let err = ext
        .authenticate(made["key"].as_str().expect("key"))
        .await
        .expect_err("expired");
    assert!(
        err.to_string().contains("expired at 2020-01-01T00:00:00Z"),
        "{err}"
    );
    let err = call(&ext, "create", json!({"name": "x", "expires_at": "soon"}))
        .await
        .expect_err("bad expiry");
    assert_eq!(err.param(), Some("expires_at"));
}

async fn authenticated(ext: &Arc<dyn switchboard_core::Extension>, settings: Value) -> String {
    let made = call(ext, "create", settings).await.expect("created");
    ext.authenticate(made["key"].as_str().expect("key"))
        .await
        .expect("valid")
        .expect("known");
    made["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn requests_per_minute_are_limited_with_headers_and_retry_after() {
    let ext = keys_with(Arc::new(MemoryStore::new()), json!({})).await;
    let id = authenticated(&ext, json!({"name": "r", "rpm": 2})).await;
    for remaining in ["1", "0"] {
        let mut ctx = context_for(&id);
        ext.on_request(&mut ctx, &mut request())
            .await
            .expect("admitted");
        assert_eq!(header(&ctx, "x-ratelimit-limit-requests"), Some("2"));
        assert_eq!(
            header(&ctx, "x-ratelimit-remaining-requests"),
            Some(remaining)
        );
    }
    let mut ctx = context_for(&id);
    let err = ext
        .on_request(&mut ctx, &mut request())
        .await
        .expect_err("third refused");
    match err.kind() {
        ErrorKind::RateLimited { retry_after } => {
            let wait = retry_after.expect("retry-after").as_secs();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        other => panic!("expected rate_limited, got {other:?}"),
    }
    assert_eq!(header(&ctx, "x-ratelimit-remaining-requests"), Some("0"));
    // Another key has its own window.
    let other = authenticated(&ext, json!({"name": "o", "rpm": 2})).await;
    ext.on_request(&mut context_for(&other), &mut request())
        .await
        .expect("own window");
}

#[tokio::test]
async fn parallel_requests_are_limited_until_one_finishes() {
    let ext = keys_with(Arc::new(MemoryStore::new()), json!({})).await;
    let id = authenticated(&ext, json!({"name": "p", "max_parallel": 1})).await;
    let mut first = context_for(&id);
    ext.on_request(&mut first, &mut request())
        .await
        .expect("first runs");
    let err = ext
        .on_request(&mut context_for(&id), &mut request())
        .await
        .expect_err("second waits");
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }));
    // The request's record (holding its scratch) is dropped when it ends.
    drop(first);
    ext.on_request(&mut context_for(&id), &mut request())
        .await
        .expect("free again");
}

#[tokio::test]
async fn tokens_per_minute_count_the_estimate_then_the_real_usage() {
    let ext = keys_with(Arc::new(MemoryStore::new()), json!({})).await;
    let id = authenticated(&ext, json!({"name": "t", "tpm": 1000})).await;
    let mut ctx = context_for(&id);
    ext.on_request(&mut ctx, &mut request())
        .await
        .expect("admitted");
    let estimated: u64 = 1000
        - header(&ctx, "x-ratelimit-remaining-tokens")
            .expect("header")
            .parse::<u64>()
            .expect("number");
    assert!(estimated > 0 && estimated < 100, "{estimated}");
    // The answer used 990 tokens: the window now holds them all.
    let record = redis_nodes::record(ctx, switchboard_core::Usage::new(490, 500));
    ext.on_complete(&record).await;
    let err = ext
        .on_request(&mut context_for(&id), &mut request())
        .await
        .expect_err("over the token limit");
    assert!(err.to_string().contains("tokens per minute"), "{err}");
}

#[tokio::test]
async fn budgets_warn_past_the_soft_limit_and_refuse_past_the_hard_one() {
    let store = Arc::new(MemoryStore::new());
    let ext = keys_with(store.clone(), json!({"cache_ttl_ms": 0})).await;
    let id = authenticated(
        &ext,
        json!({"name": "b", "budget": {"amount_usd": 1.0, "soft_amount_usd": 0.5, "period": "total"}}),
    )
    .await;
    let spend = |usd: f64| LedgerRow {
        at_ms: 1,
        key_id: Some(id.clone()),
        cost_usd: usd,
        ..LedgerRow::default()
    };
    let mut ctx = context_for(&id);
    ext.on_request(&mut ctx, &mut request())
        .await
        .expect("nothing spent");
    assert_eq!(header(&ctx, "x-switchboard-budget-warning"), None);

    store.append_usage(&spend(0.6)).await.expect("ledger");
    let mut ctx = context_for(&id);
    ext.on_request(&mut ctx, &mut request())
        .await
        .expect("under the hard limit");
    assert!(header(&ctx, "x-switchboard-budget-warning").is_some());

    store.append_usage(&spend(0.5)).await.expect("ledger");
    let err = ext
        .on_request(&mut context_for(&id), &mut request())
        .await
        .expect_err("over budget");
    assert_eq!(err.kind(), &ErrorKind::QuotaExceeded);
    assert_eq!(err.kind().code(), "insufficient_quota");
    let err = call(
        &ext,
        "create",
        json!({"name": "x", "budget": {"amount_usd": 1.0, "soft_amount_usd": 2.0}}),
    )
    .await
    .expect_err("soft above hard");
    assert_eq!(err.param(), Some("budget"));
}

#[test]
fn config_is_checked() {
    let d = Keys::DESCRIPTOR;
    assert!(d.validate(&json!({})).is_ok());
    assert!(d.validate(&json!({"cache_ttl_ms": 120_000})).is_err());
    assert!(d.validate(&json!({"estimate_chars_per_token": 0})).is_err());
    assert!(
        d.validate(&json!({"cache_tll_ms": 1})).is_err(),
        "unknown key"
    );
}
