//! The presets that predate the hosted ones (Groq, Together, OpenRouter,
//! DeepInfra, Mistral, DeepSeek, the local servers), as re-checked against
//! their current docs (sources in `src/preset.rs` and the README).

use serde_json::json;
use switchboard_core::{ChatRequest, Message, Reasoning, ReasoningEffort, Role, collect_stream};
use switchboard_openai_compatible::PresetName;

use super::presets::{KEY, answering, build, data, hello, last_body, mock, sse_ok};

#[test]
fn default_base_urls_are_the_documented_ones() {
    for (preset, url) in [
        (PresetName::Groq, "https://api.groq.com/openai/v1"),
        (PresetName::Together, "https://api.together.ai/v1"),
        (PresetName::Openrouter, "https://openrouter.ai/api/v1"),
        (PresetName::Deepinfra, "https://api.deepinfra.com/v1/openai"),
        (PresetName::Mistral, "https://api.mistral.ai/v1"),
        (PresetName::Deepseek, "https://api.deepseek.com"),
        (PresetName::Vllm, "http://localhost:8000/v1"),
        (PresetName::Llamacpp, "http://localhost:8080/v1"),
        (PresetName::Lmstudio, "http://localhost:1234/v1"),
    ] {
        assert_eq!(preset.preset().base_url, url, "{preset:?}");
    }
}

#[tokio::test]
async fn mistral_takes_metadata_and_reasoning_effort_now() {
    let (server, p) = answering("mistral", "/v1").await;
    let mut req = ChatRequest::new("magistral-medium-latest", vec![Message::user("Hello!")]);
    req.metadata.insert("case".into(), "recheck".into());
    req.reasoning = Some(Reasoning {
        effort: Some(ReasoningEffort::High),
        budget_tokens: None,
    });
    p.chat(&req)
        .await
        .expect("Mistral's chat.complete takes both");
    let body = last_body(&server).await;
    assert_eq!(body["metadata"], json!({"case": "recheck"}));
    assert_eq!(body["reasoning_effort"], json!("high"));
}

#[tokio::test]
async fn mistral_gets_random_seed_system_role_and_no_stream_options() {
    let (server, p) = answering("mistral", "/v1").await;
    let mut req = ChatRequest::new(
        "mistral-large-latest",
        vec![
            Message::new(Role::Developer, "Be brief."),
            Message::user("Hello!"),
        ],
    )
    .max_tokens(64);
    req.seed = Some(42);
    p.chat(&req).await.expect("answer");
    assert_eq!(
        last_body(&server).await,
        json!({
            "model": "mistral-large-latest",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
            "max_tokens": 64,
            "random_seed": 42
        })
    );
    let mut user = hello("m");
    user.user = Some("end-user-1".into());
    assert_eq!(
        p.chat(&user)
            .await
            .expect_err("no `user` at Mistral")
            .param(),
        Some("user")
    );

    let stream_server = mock(
        "/v1/chat/completions",
        sse_ok(data("openai_chat_stream_text.sse")),
    )
    .await;
    let p = build(
        json!({"preset": "mistral", "api_key": KEY, "base_url": format!("{}/v1", stream_server.uri())}),
        "mistral",
    )
    .await;
    collect_stream(p.chat_stream(&hello("m")).await.expect("stream"))
        .await
        .expect("complete");
    assert!(
        last_body(&stream_server)
            .await
            .get("stream_options")
            .is_none()
    );
}
