//! The client reports the time it waited on the upstream (for the gateway's
//! overhead metric): at least the upstream's own delay, and less than the
//! whole call.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::{ChatRequest, Message, ProviderContext, wire_time};
use switchboard_openai::OpenAi;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn chat_reports_the_upstream_wait() {
    let server = MockServer::start().await;
    let delay = Duration::from_millis(120);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(
                    include_str!("../data/chat_response.json"),
                    "application/json",
                )
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let provider = OpenAi::DESCRIPTOR
        .build(
            json!({"api_key": "sk-test", "base_url": format!("{}/v1", server.uri())}),
            ProviderContext::standalone("openai"),
        )
        .await
        .expect("valid config");
    let request = ChatRequest::new("gpt-4o", vec![Message::user("Hello!")]);

    let started = Instant::now();
    let (answer, wire) = wire_time::measure(provider.chat(&request)).await;
    let elapsed = started.elapsed();
    answer.expect("answers");
    let wire = wire.expect("the client records its wire time");
    assert!(
        wire >= delay,
        "wire time {wire:?} < upstream delay {delay:?}"
    );
    assert!(
        wire <= elapsed,
        "wire time {wire:?} > whole call {elapsed:?}"
    );

    // Outside `measure`, nothing is recorded and nothing breaks.
    provider.chat(&request).await.expect("answers");
}
