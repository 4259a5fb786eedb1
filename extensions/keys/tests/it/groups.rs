//! Limits shared by a group of requests — every key of a team, every
//! request for one model or alias — and the budget's failure policy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use switchboard_core::extension::{
    ClientKeyInfo, ExtensionContext, LedgerQuery, LedgerRow, LedgerTotal, RequestContext, Store,
};
use switchboard_core::{ChatRequest, Error, ErrorKind, Extension, Message, async_trait};
use switchboard_ext_keys::Keys;
use switchboard_testkit::{MemoryStore, test_extension_context};

use crate::{authenticated, context_for, header, keys_with, request};

fn asking_for(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hello there")])
}

async fn admit(
    ext: &Arc<dyn Extension>,
    ctx: &mut RequestContext,
    model: &str,
) -> Result<(), Error> {
    ext.on_request(ctx, &mut asking_for(model))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_team_limit_holds_across_its_keys_and_leaves_other_teams_alone() {
    let ext = keys_with(
        Arc::new(MemoryStore::new()),
        json!({"teams": {"research": {"rpm": 3}}}),
    )
    .await;
    let a = authenticated(&ext, json!({"name": "a", "team": "research", "rpm": 100})).await;
    let b = authenticated(&ext, json!({"name": "b", "team": "research"})).await;
    let other = authenticated(&ext, json!({"name": "c", "team": "ops"})).await;
    for id in [&a, &b, &a] {
        admit(&ext, &mut context_for(id), "mock/mock-1")
            .await
            .expect("within the team's 3");
    }
    let mut ctx = context_for(&b);
    let err = admit(&ext, &mut ctx, "mock/mock-1")
        .await
        .expect_err("the team's fourth");
    assert!(matches!(err.kind(), ErrorKind::RateLimited { .. }), "{err}");
    assert!(err.to_string().contains("team `research`"), "{err}");
    // The refusal shows the team's window, not the key's roomy one.
    assert_eq!(header(&ctx, "x-ratelimit-limit-requests"), Some("3"));
    assert_eq!(header(&ctx, "x-ratelimit-remaining-requests"), Some("0"));
    for _ in 0..5 {
        admit(&ext, &mut context_for(&other), "mock/mock-1")
            .await
            .expect("another team is not limited");
    }
}

#[tokio::test]
async fn an_answer_shows_the_tightest_window_of_key_and_team() {
    let ext = keys_with(
        Arc::new(MemoryStore::new()),
        json!({"teams": {"research": {"rpm": 5}}}),
    )
    .await;
    let id = authenticated(&ext, json!({"name": "a", "team": "research", "rpm": 100})).await;
    let mut ctx = context_for(&id);
    admit(&ext, &mut ctx, "mock/mock-1")
        .await
        .expect("admitted");
    assert_eq!(header(&ctx, "x-ratelimit-limit-requests"), Some("5"));
    assert_eq!(header(&ctx, "x-ratelimit-remaining-requests"), Some("4"));
}

#[tokio::test]
async fn a_model_limit_counts_every_key_asking_for_that_name_only() {
    let ext = keys_with(
        Arc::new(MemoryStore::new()),
        json!({"models": {"fast": {"rpm": 2}, "mock/mock-1": {"max_parallel": 1}}}),
    )
    .await;
    let a = authenticated(&ext, json!({"name": "a"})).await;
    let b = authenticated(&ext, json!({"name": "b"})).await;
    admit(&ext, &mut context_for(&a), "fast").await.expect("1");
    admit(&ext, &mut context_for(&b), "fast").await.expect("2");
    let err = admit(&ext, &mut context_for(&a), "fast")
        .await
        .expect_err("the alias's third");
    assert!(err.to_string().contains("model `fast`"), "{err}");
    admit(&ext, &mut context_for(&a), "other")
        .await
        .expect("an unlisted model is not limited");

    // A static key (not this extension's) is limited by the model too.
    let mut static_key = RequestContext::new("s", switchboard_core::extension::InboundApi::OpenAi);
    static_key.client_key = Some(ClientKeyInfo {
        id: Arc::from("static-ci"),
        ..Default::default()
    });
    admit(&ext, &mut static_key, "mock/mock-1")
        .await
        .expect("the one slot");
    let err = admit(&ext, &mut context_for(&b), "mock/mock-1")
        .await
        .expect_err("the slot is taken");
    assert!(err.to_string().contains("max_parallel"), "{err}");
    drop(static_key); // the request ends: its scratch (and slot) go
    admit(&ext, &mut context_for(&b), "mock/mock-1")
        .await
        .expect("free again");
}

#[tokio::test]
async fn a_team_tokens_window_is_reconciled_with_the_real_usage() {
    let ext = keys_with(
        Arc::new(MemoryStore::new()),
        json!({"teams": {"research": {"tpm": 1000}}}),
    )
    .await;
    let id = authenticated(&ext, json!({"name": "a", "team": "research"})).await;
    let mut ctx = context_for(&id);
    admit(&ext, &mut ctx, "mock/mock-1")
        .await
        .expect("admitted");
    let record = crate::redis_nodes::record(ctx, switchboard_core::Usage::new(490, 500));
    ext.on_complete(&record).await;
    let err = ext
        .on_request(&mut context_for(&id), &mut request())
        .await
        .expect_err("the team's tokens are spent");
    assert!(err.to_string().contains("team `research`"), "{err}");
    assert!(err.to_string().contains("tokens per minute"), "{err}");
}

/// A store whose ledger can be made to fail.
#[derive(Debug, Default)]
struct FlakyLedger {
    inner: MemoryStore,
    down: AtomicBool,
}

#[async_trait]
impl Store for FlakyLedger {
    fn backend(&self) -> &'static str {
        "flaky"
    }
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        self.inner.get(namespace, key).await
    }
    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        self.inner.put(namespace, key, value).await
    }
    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        self.inner.delete(namespace, key).await
    }
    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        self.inner.list(namespace, prefix).await
    }
    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error> {
        self.inner.append_usage(row).await
    }
    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        if self.down.load(Ordering::Relaxed) {
            return Err(Error::unavailable("the ledger's database is down"));
        }
        self.inner.usage_totals(query).await
    }
}

async fn keys_on(store: Arc<FlakyLedger>, config: Value) -> Arc<dyn Extension> {
    let mut ctx: ExtensionContext = test_extension_context("keys");
    ctx.store = store;
    Keys::DESCRIPTOR.build(config, ctx).await.expect("builds")
}

#[tokio::test]
async fn an_unreadable_budget_fails_closed_by_default_and_open_when_configured() {
    for (config, open) in [
        (json!({"cache_ttl_ms": 0}), false),
        (json!({"cache_ttl_ms": 0, "on_budget_error": "open"}), true),
    ] {
        let store = Arc::new(FlakyLedger::default());
        let ext = keys_on(store.clone(), config).await;
        let id = authenticated(
            &ext,
            json!({"name": "b", "budget": {"amount_usd": 1.0, "period": "day"}}),
        )
        .await;
        store.down.store(true, Ordering::Relaxed);
        let got = ext.on_request(&mut context_for(&id), &mut request()).await;
        if open {
            got.expect("admitted unchecked");
            let mut metrics = String::new();
            ext.metrics(&mut metrics);
            assert!(
                metrics.contains("switchboard_keys_budget_unchecked_total 1"),
                "{metrics}"
            );
        } else {
            let err = got.expect_err("refused");
            assert_eq!(err.kind(), &ErrorKind::Unavailable, "{err}");
            assert!(err.to_string().contains(&id), "{err}");
        }
    }
}
