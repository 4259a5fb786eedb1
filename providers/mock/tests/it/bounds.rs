//! Bounded work per request (issue 13): whatever a client sends, the mock
//! answers in bounded time and memory.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::{ChatEvent, EmbeddingsRequest, ErrorKind, Provider, Tool};
use switchboard_mock::{
    MAX_EMBEDDING_DIMENSIONS, MAX_FIRST_TOKEN_LATENCY_MS, MAX_TOKEN_DELAY_MS, MockConfig,
    SCHEMA_MAX_NODES, SCHEMA_MAX_TEXT_BYTES,
};

use crate::common::{events, mock, req, with_override};

fn nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(nodes).sum(),
        Value::Object(map) => map.values().map(nodes).sum(),
        _ => 0,
    }
}

/// The schema that grew the process by 4.6 GiB: answered at once, with
/// bounded arguments, streamed and not.
#[tokio::test]
async fn a_self_referencing_tool_schema_answers_quickly() {
    // Room for the whole arguments (the default cuts them at 4096 tokens).
    let m = mock(json!({"max_output_tokens": 1_000_000}));
    let mut r = req("go");
    r.tools = vec![Tool::new(
        "walk",
        "recursive",
        json!({"type": "array", "items": {"$ref": "#"}, "minItems": 64}),
    )];
    let started = Instant::now();
    let answer = m.chat(&r).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let args = &answer.tool_calls[0].arguments;
    assert!(args.len() < 2 * SCHEMA_MAX_TEXT_BYTES, "{}", args.len());
    let value: Value = serde_json::from_str(args).unwrap();
    assert!(nodes(&value) <= SCHEMA_MAX_NODES);
    let streamed = events(&m, &r).await;
    assert!(matches!(streamed.last(), Some(ChatEvent::Finish { .. })));
}

/// Delays past the caps are refused (not capped silently), naming the key.
#[tokio::test]
async fn huge_delays_are_refused() {
    let m = mock(json!({}));
    for (value, param) in [
        (
            json!({"first_token_latency_ms": u64::MAX}),
            "extra.mock.first_token_latency_ms",
        ),
        (
            json!({"delay_ms": MAX_FIRST_TOKEN_LATENCY_MS + 1}),
            "extra.mock.first_token_latency_ms",
        ),
        (
            json!({"token_delay_ms": MAX_TOKEN_DELAY_MS + 1}),
            "extra.mock.token_delay_ms",
        ),
    ] {
        let r = with_override(req("x"), value.clone());
        let err = m.chat(&r).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{value}");
        assert_eq!(err.param(), Some(param), "{value}");
        assert!(err.message().contains("must be at most"), "{err}");
        assert!(m.chat_stream(&r).await.is_err(), "{value}");
    }
    // The largest allowed values are accepted (a stream starts at once).
    let r = with_override(
        req("x"),
        json!({"first_token_latency_ms": MAX_FIRST_TOKEN_LATENCY_MS, "token_delay_ms": MAX_TOKEN_DELAY_MS}),
    );
    assert!(m.chat_stream(&r).await.is_ok());
    for (key, max) in [
        ("first_token_latency_ms", MAX_FIRST_TOKEN_LATENCY_MS),
        ("token_delay_ms", MAX_TOKEN_DELAY_MS),
    ] {
        let config: MockConfig = serde_json::from_value(json!({ key: max + 1 })).unwrap();
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config);
        assert_eq!(err.param(), Some(key));
    }
}

/// Huge embedding sizes are refused before anything is allocated.
#[tokio::test]
async fn huge_embeddings_are_refused() {
    let m = mock(json!({}));
    let mut r = EmbeddingsRequest::new("mock-1", vec!["a".into()]);
    r.dimensions = Some(MAX_EMBEDDING_DIMENSIONS);
    assert_eq!(
        m.embed(&r).await.unwrap().embeddings[0].len(),
        MAX_EMBEDDING_DIMENSIONS as usize
    );
    r.dimensions = Some(MAX_EMBEDDING_DIMENSIONS + 1);
    let err = m.embed(&r).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.param()),
        (&ErrorKind::InvalidRequest, Some("dimensions"))
    );
    // 2048 inputs of 8192 dimensions would be 16 M values (64 MiB).
    let mut many = EmbeddingsRequest::new("mock-1", vec!["a".into(); 2048]);
    many.dimensions = Some(MAX_EMBEDDING_DIMENSIONS);
    let err = m.embed(&many).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.param()),
        (&ErrorKind::InvalidRequest, Some("input"))
    );
    let config: MockConfig =
        serde_json::from_value(json!({"embedding_dimensions": MAX_EMBEDDING_DIMENSIONS + 1}))
            .unwrap();
    assert_eq!(
        config.validate().unwrap_err().param(),
        Some("embedding_dimensions")
    );
}
