//! Fault injection, request errors and health.

use crate::common;

use std::time::Duration;

use common::{drain, mock, req, with_override};
use serde_json::json;
use switchboard_core::{ChatEvent, EmbeddingsRequest, ErrorKind, Provider};

#[tokio::test]
async fn injects_each_kind() {
    let cases = [
        (json!({"kind": "auth"}), ErrorKind::Auth, false),
        (
            json!({"kind": "rate_limited", "retry_after_ms": 1500}),
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_millis(1500)),
            },
            true,
        ),
        (
            json!({"kind": "upstream", "status": 503}),
            ErrorKind::Upstream { status: 503 },
            true,
        ),
        (
            json!({"kind": "upstream"}),
            ErrorKind::Upstream { status: 500 },
            true,
        ),
        (json!({"kind": "timeout"}), ErrorKind::Timeout, true),
        (
            json!({"kind": "context_length_exceeded"}),
            ErrorKind::ContextLengthExceeded,
            false,
        ),
    ];
    for (fault, kind, retryable) in cases {
        let m = mock(json!({"fault": fault}));
        let err = m.chat(&req("hi")).await.unwrap_err();
        assert_eq!(err.kind(), &kind);
        assert_eq!(err.is_retryable(), retryable);
        assert_eq!(err.instance(), Some("mock"));
        assert_eq!(err.message(), format!("injected {} fault", kind.code()));
        let err = m
            .chat_stream(&req("hi"))
            .await
            .err()
            .expect("stream fails up front");
        assert_eq!(err.kind(), &kind);
    }
    let m = mock(json!({"fault": {"kind": "unavailable", "message": "down for maintenance"}}));
    let err = m.chat(&req("hi")).await.unwrap_err();
    assert_eq!(err.to_string(), "[mock] unavailable: down for maintenance");
}

#[tokio::test]
async fn after_events_fails_mid_stream() {
    let m = mock(json!({"fault": {"kind": "unavailable", "after_events": 3}}));
    let items = drain(m.chat_stream(&req("a b c d")).await.unwrap()).await;
    assert_eq!(items.len(), 4);
    assert!(matches!(items[0], Ok(ChatEvent::Start { .. })));
    assert_eq!(
        items[1].as_ref().ok(),
        Some(&ChatEvent::TextDelta { text: "You".into() })
    );
    assert_eq!(
        items[2].as_ref().ok(),
        Some(&ChatEvent::TextDelta {
            text: " said:".into()
        })
    );
    let err = items[3].as_ref().unwrap_err();
    assert_eq!(
        (err.kind(), err.instance()),
        (&ErrorKind::Unavailable, Some("mock"))
    );
    // Non-streaming calls fail regardless.
    assert_eq!(
        m.chat(&req("a")).await.unwrap_err().kind(),
        &ErrorKind::Unavailable
    );
    // `after_events: 0` gives a stream whose first item is the error.
    let m = mock(json!({"fault": {"kind": "timeout", "after_events": 0}}));
    let items = drain(m.chat_stream(&req("a")).await.unwrap()).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().kind(), &ErrorKind::Timeout);
}

#[tokio::test]
async fn times_fails_then_recovers() {
    let m = mock(json!({"script": ["ok"], "fault": {"kind": "rate_limited", "times": 2}}));
    assert!(m.health().await.is_err());
    assert!(m.chat(&req("x")).await.unwrap_err().is_retryable());
    assert!(m.chat_stream(&req("x")).await.is_err());
    // The failures consumed no script line.
    assert_eq!(m.chat(&req("x")).await.unwrap().text(), "ok");
    assert_eq!(m.chat(&req("x")).await.unwrap().text(), "ok");
    assert!(m.health().await.is_ok());
}

#[tokio::test]
async fn per_request_fault_override() {
    let m = mock(json!({}));
    let fault =
        json!({"fault": {"kind": "upstream", "status": 502, "times": 1, "message": "boom"}});
    let r = with_override(req("x"), fault.clone());
    let err = m.chat(&r).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (&ErrorKind::Upstream { status: 502 }, "boom")
    );
    // The same request retried succeeds; other requests were never affected.
    assert_eq!(m.chat(&r).await.unwrap().text(), "You said: x");
    assert!(m.chat(&req("y")).await.is_ok());
    // A different fault object has its own count.
    let other = with_override(req("x"), json!({"fault": {"kind": "auth", "times": 1}}));
    assert_eq!(m.chat(&other).await.unwrap_err().kind(), &ErrorKind::Auth);
    // Without `times`, every request carrying it fails; the config fault is replaced.
    let m = mock(json!({"fault": {"kind": "auth"}}));
    let r = with_override(req("x"), json!({"fault": {"kind": "timeout"}}));
    for _ in 0..2 {
        assert_eq!(m.chat(&r).await.unwrap_err().kind(), &ErrorKind::Timeout);
    }
}

#[tokio::test]
async fn malformed_override_is_an_invalid_request() {
    let m = mock(json!({}));
    for (value, param) in [
        (json!("nope"), "extra.mock"),
        (json!({"replly": "x"}), "extra.mock"),
        (
            json!({"delay_ms": 1, "first_token_latency_ms": 2}),
            "extra.mock",
        ),
        (json!({"fault": {"kind": "boom"}}), "extra.mock.fault.kind"),
    ] {
        let err = m
            .chat(&with_override(req("x"), value.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{value}");
        assert_eq!(err.param(), Some(param), "{value}");
    }
}

#[tokio::test]
async fn request_errors() {
    let m = mock(json!({"models": ["mock-1", {"id": "small", "context_length": 3}]}));
    let mut r = req("x");
    r.model = "gpt-4o".into();
    let err = m.chat(&r).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.param(), err.instance()),
        (&ErrorKind::NotFound, Some("model"), Some("mock"))
    );
    assert!(err.message().contains("available: mock-1, small"), "{err}");
    assert!(m.chat_stream(&r).await.is_err());

    // An out-of-range temperature never reaches a provider: the gateway
    // validates every request once, before routing.

    let mut long = req("one two three four");
    long.model = "small".into();
    let err = m.chat(&long).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ContextLengthExceeded);
    long.messages = vec![switchboard_core::Message::user("one two three")];
    assert!(m.chat(&long).await.is_ok());
}

#[tokio::test]
async fn embeddings_respect_faults() {
    let m = mock(json!({"fault": {"kind": "unavailable", "times": 1}}));
    let e = EmbeddingsRequest::new("mock-1", vec!["hi".into()]);
    assert_eq!(
        m.embed(&e).await.unwrap_err().kind(),
        &ErrorKind::Unavailable
    );
    assert!(m.embed(&e).await.is_ok());
}

#[tokio::test]
async fn health_ignores_request_shaped_faults() {
    let m = mock(json!({"fault": {"kind": "invalid_request"}}));
    assert!(m.health().await.is_ok());
    assert!(m.chat(&req("x")).await.is_err());
    let m = mock(json!({"fault": {"kind": "auth"}}));
    assert_eq!(m.health().await.unwrap_err().kind(), &ErrorKind::Auth);
    let healthy = mock(json!({}));
    let report = healthy.health().await.unwrap();
    assert_eq!(report.detail.as_deref(), Some("1 models"));
    assert_eq!(report.latency, Duration::ZERO);
}
