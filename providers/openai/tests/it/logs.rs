//! The API key appears in no log line: every `log` and `tracing` record any
//! crate emits (reqwest, hyper, ours) at TRACE level is captured while the
//! provider succeeds, fails with an upstream that echoes the key, and fails
//! to connect.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use serde_json::json;
use switchboard_core::{ChatRequest, Message, ProviderContext};
use switchboard_openai::OpenAi;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-log-SECRET-4242";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_is_in_no_log_line() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber in this test binary");
    tracing::info!("capture started");

    let server = MockServer::start().await;
    let ok = include_str!("../data/chat_response.json");
    let sse = include_str!("../data/chat_stream_text.sse");
    let echo = json!({"error": {"message": format!("Incorrect API key provided: {KEY}."), "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}});
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(
            json!({"model": "ok"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(ok, "application/json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(
            json!({"model": "stream"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(echo.to_string(), "application/json"))
        .mount(&server)
        .await;
    let build = |base: String| async move {
        OpenAi::DESCRIPTOR
            .build(
                json!({"api_key": KEY, "base_url": format!("{base}/v1")}),
                ProviderContext::standalone("openai"),
            )
            .await
            .expect("valid")
    };
    let p = build(server.uri()).await;
    let req = |m: &str| ChatRequest::new(m, vec![Message::user("Hello!")]);
    p.chat(&req("ok")).await.expect("answer");
    let events: Vec<_> = p
        .chat_stream(&req("stream"))
        .await
        .expect("stream")
        .collect()
        .await;
    assert!(events.iter().all(Result::is_ok));
    let err = p.chat(&req("denied")).await.expect_err("401");
    tracing::error!(error = %err, debug = ?err, "chat failed");
    let refused = switchboard_testkit::refused_base_url().await.expect("port");
    let err = build(refused)
        .await
        .chat(&req("ok"))
        .await
        .expect_err("refused");
    tracing::error!(error = %err, debug = ?err, "chat failed");

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap_or_else(PoisonError::into_inner))
        .into_owned();
    assert!(logs.contains("chat failed"), "the capture works: {logs}");
    assert!(
        logs.lines().count() > 4,
        "the HTTP stack logged something: {logs}"
    );
    for line in logs.lines() {
        assert!(!line.contains(KEY), "a log line carries the key: {line}");
    }
}
