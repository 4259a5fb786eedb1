//! Configuration, registration, models and embeddings.

use crate::common;

use common::{mock, req};
use serde_json::{Value, json};
use switchboard_core::{
    Capabilities, EmbeddingsRequest, ErrorKind, Provider, ProviderContext, ProviderInit, catalog,
};
use switchboard_mock::{MockConfig, MockProvider, ModelEntry, ReplyMode};

fn config_error(config: Value) -> (String, Option<String>) {
    let config: MockConfig = serde_json::from_value(config).expect("deserializes");
    let err = <MockProvider as ProviderInit>::validate(&config).expect_err("invalid");
    assert_eq!(err.kind(), &ErrorKind::Config);
    (err.message().to_owned(), err.param().map(str::to_owned))
}

#[test]
fn empty_config_has_defaults() {
    let c: MockConfig = serde_json::from_value(json!({})).unwrap();
    assert_eq!(c, MockConfig::default());
    assert_eq!(c.models, vec![ModelEntry::Id("mock-1".into())]);
    assert_eq!(
        (
            c.context_length,
            c.max_output_tokens,
            c.embedding_dimensions
        ),
        (128_000, 4096, 8)
    );
    assert_eq!(c.reply_mode(), ReplyMode::Echo);
    assert!(c.validate().is_ok());
    let scripted: MockConfig = serde_json::from_value(json!({"script": ["a"]})).unwrap();
    assert_eq!(scripted.reply_mode(), ReplyMode::Script);
}

#[test]
fn config_validation_names_the_key() {
    let (msg, param) = config_error(json!({"fault": {"kind": "explode"}}));
    assert_eq!(param.as_deref(), Some("fault.kind"));
    assert!(
        msg.contains("`explode`") && msg.contains("auth, permission, not_found"),
        "{msg}"
    );
    for (config, key) in [
        (json!({"models": []}), "models"),
        (json!({"models": ["a", "a"]}), "models[1]"),
        (
            json!({"models": [{"id": "a", "context_length": 0}]}),
            "models[0].context_length",
        ),
        (json!({"mode": "script"}), "script"),
        (json!({"embedding_dimensions": 0}), "embedding_dimensions"),
        (json!({"max_output_tokens": 0}), "max_output_tokens"),
        (
            json!({"fault": {"kind": "auth", "status": 500}}),
            "fault.status",
        ),
        (
            json!({"fault": {"kind": "upstream", "status": 999}}),
            "fault.status",
        ),
        (
            json!({"fault": {"kind": "timeout", "retry_after_ms": 5}}),
            "fault.retry_after_ms",
        ),
    ] {
        assert_eq!(
            config_error(config.clone()).1.as_deref(),
            Some(key),
            "{config}"
        );
    }
}

#[test]
fn unknown_keys_are_rejected_precisely() {
    let err = serde_json::from_value::<MockConfig>(json!({"modells": []})).unwrap_err();
    assert!(err.to_string().contains("unknown field `modells`"), "{err}");
    let err = serde_json::from_value::<MockConfig>(json!({"models": [{"id": "a", "ctx": 1}]}))
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `ctx`"), "{err}");
    let err = serde_json::from_value::<MockConfig>(json!({"models": [5]})).unwrap_err();
    assert!(err.to_string().contains("a model id or a table"), "{err}");
}

#[test]
fn schema_describes_the_config() {
    let schema = schemars::schema_for!(MockConfig).to_value();
    let props = &schema["properties"];
    for key in [
        "models",
        "mode",
        "script",
        "first_token_latency_ms",
        "token_delay_ms",
        "fault",
    ] {
        assert!(
            props[key]["description"].is_string(),
            "{key} has no description"
        );
    }
    assert_eq!(props["context_length"]["default"], json!(128_000));
    let text = schema.to_string();
    assert!(text.contains("\"rate_limited\""), "kind codes are listed");
}

#[tokio::test]
async fn registered_in_the_catalog() {
    let descriptor = catalog().unwrap().get("mock").expect("mock is registered");
    assert_eq!(descriptor.display_name, "Mock");
    assert_eq!(descriptor.crate_name, "switchboard-mock");
    assert!(
        descriptor
            .description
            .starts_with("Deterministic offline answers")
    );
    assert_eq!(
        descriptor.capabilities.names().len(),
        Capabilities::NAMES.len()
    );
    assert!(descriptor.config_schema()["properties"]["script"].is_object());
    let provider = descriptor
        .build(
            json!({"script": ["from json"]}),
            ProviderContext::standalone("mock-a"),
        )
        .await
        .unwrap();
    let answer = provider.chat(&req("x")).await.unwrap();
    assert_eq!(
        (answer.text().as_str(), answer.provider.as_str()),
        ("from json", "mock-a")
    );
    let err = descriptor
        .build(
            json!({"fault": {"kind": "nope"}}),
            ProviderContext::standalone("mock-b"),
        )
        .await
        .err()
        .expect("invalid config");
    assert_eq!(
        (err.kind(), err.instance()),
        (&ErrorKind::Config, Some("mock-b"))
    );
    assert!(
        descriptor
            .validate(&json!({"token_delay_ms": "fast"}))
            .is_err()
    );
}

#[tokio::test]
async fn lists_models_with_limits() {
    let m =
        mock(json!({"models": ["a", {"id": "b", "context_length": 10}], "max_output_tokens": 99}));
    let models = m.models().await.unwrap();
    let summary: Vec<_> = models
        .iter()
        .map(|m| (m.id.as_str(), m.context_length, m.max_output_tokens))
        .collect();
    assert_eq!(
        summary,
        [("a", Some(128_000), Some(99)), ("b", Some(10), Some(99))]
    );
    assert!(models.iter().all(|m| m.provider == "mock"
        && m.owned_by.as_deref() == Some("switchboard")
        && m.capabilities.tools));
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[tokio::test]
async fn embeddings_are_deterministic_unit_vectors() {
    let m = mock(json!({}));
    let r = EmbeddingsRequest::new(
        "mock-1",
        vec!["hello world".into(), "other".into(), "hello world".into()],
    );
    let a = m.embed(&r).await.unwrap();
    assert_eq!(a.embeddings.len(), 3);
    assert!(a.embeddings.iter().all(|v| v.len() == 8));
    assert!(a.embeddings.iter().all(|v| (norm(v) - 1.0).abs() < 1e-5));
    assert_eq!(a.embeddings[0], a.embeddings[2]);
    assert_ne!(a.embeddings[0], a.embeddings[1]);
    assert_eq!((a.usage.input_tokens, a.usage.output_tokens), (5, 0));
    assert_eq!((a.model.as_str(), a.provider.as_str()), ("mock-1", "mock"));
    // Another instance gives the same vectors.
    assert_eq!(
        mock(json!({})).embed(&r).await.unwrap().embeddings,
        a.embeddings
    );

    let mut wide = r.clone();
    wide.dimensions = Some(300);
    let v = &m.embed(&wide).await.unwrap().embeddings[1];
    assert_eq!(v.len(), 300);
    assert!((norm(v) - 1.0).abs() < 1e-5);
    let empty = EmbeddingsRequest::new("mock-1", vec![String::new()]);
    assert!((norm(&m.embed(&empty).await.unwrap().embeddings[0]) - 1.0).abs() < 1e-5);

    wide.dimensions = Some(u32::MAX);
    assert_eq!(
        m.embed(&wide).await.unwrap_err().param(),
        Some("dimensions")
    );
    let mut unknown = r.clone();
    unknown.model = "text-embedding-3-small".into();
    assert_eq!(
        m.embed(&unknown).await.unwrap_err().kind(),
        &ErrorKind::NotFound
    );
    // An empty `input` never reaches a provider: the gateway validates
    // embeddings requests once, before routing.
}
