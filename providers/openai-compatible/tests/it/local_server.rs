//! `switchboard chat -m local/<model>` against an OpenAI-compatible server on
//! localhost, given the config entry
//!
//! ```toml
//! [providers.local]
//! kind = "openai-compatible"
//! preset = "vllm"
//! base_url = "http://127.0.0.1:<port>/v1"
//! ```
//!
//! The CLI has no config-file support yet, so this drives the same library
//! path the CLI will take: the entry's `kind` picks the descriptor from the
//! catalog, the rest of the table is the provider's config, and
//! `<instance>/<model>` addresses the model. A CLI test replaces this once
//! the config layer lands.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{ChatEvent, ChatRequest, Message, ProviderContext, catalog};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// Keep the provider linked into this test binary.
use switchboard_openai_compatible as _;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists")
}

#[tokio::test]
async fn chat_with_instance_slash_model_against_a_local_server() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_partial_json(
            json!({"model": "meta-llama/Llama-3.1-8B-Instruct", "stream": true}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(data("openai_chat_stream_text.sse"), "text/event-stream"),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert!(server.uri().starts_with("http://127.0.0.1:"));

    // The `[providers.local]` table.
    let instance = "local";
    let mut entry = json!({
        "kind": "openai-compatible",
        "preset": "vllm",
        "base_url": format!("{}/v1", server.uri()),
    });
    let kind = match entry.as_object_mut().and_then(|t| t.remove("kind")) {
        Some(Value::String(k)) => k,
        _ => instance.to_owned(),
    };
    let descriptor = catalog()
        .expect("catalog")
        .get(&kind)
        .expect("openai-compatible is linked");
    let provider = descriptor
        .build(entry, ProviderContext::standalone(instance))
        .await
        .expect("the entry builds");

    // `-m local/meta-llama/Llama-3.1-8B-Instruct`: the instance, then the model id
    // (which may itself contain `/`).
    let target = "local/meta-llama/Llama-3.1-8B-Instruct";
    let (inst, model) = target.split_once('/').expect("instance/model");
    assert_eq!(inst, instance);
    let request = ChatRequest::new(model, vec![Message::user("What's the weather like in SF?")]);

    // What `chat` prints: the text deltas as they arrive.
    let mut printed = String::new();
    let mut stream = provider.chat_stream(&request).await.expect("stream starts");
    while let Some(event) = stream.next().await {
        if let ChatEvent::TextDelta { text } = event.expect("no error") {
            printed.push_str(&text);
        }
    }
    assert_eq!(
        printed,
        "I'm unable to provide real-time weather updates. To get the current weather in San Francisco, I recommend checking a reliable weather website or a weather app."
    );
    let sent = &server.received_requests().await.expect("recorded")[0];
    assert!(
        sent.headers.get("authorization").is_none(),
        "a local vLLM needs no key"
    );
}
