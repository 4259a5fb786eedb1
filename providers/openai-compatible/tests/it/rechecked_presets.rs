//! The presets that predate the hosted ones (Groq, Together, OpenRouter,
//! DeepInfra, Mistral, DeepSeek, the local servers), as re-checked against
//! their current docs (sources in `src/preset.rs` and the README).

use serde_json::json;
use switchboard_core::{ChatRequest, Message, Reasoning, ReasoningEffort};
use switchboard_openai_compatible::PresetName;

use super::presets::{answering, last_body};

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
