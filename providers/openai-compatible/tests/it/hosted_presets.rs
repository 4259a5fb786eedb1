//! The hosted presets added for xAI, Fireworks, Cerebras, Perplexity,
//! Nebius, SambaNova, Hugging Face and Azure AI Foundry: how each shapes a
//! request on the wire.

use serde_json::{Value, json};
use switchboard_core::{ChatRequest, ErrorKind, Message, Role, Tool, collect_stream};
use switchboard_openai_compatible::{OpenAiCompatibleConfig, PresetName};
use wiremock::MockServer;

use super::presets::{KEY, build, data, header, hello, json_ok, last_body, mock, requests, sse_ok};

/// One preset's expected wire shape.
struct Expect {
    preset: &'static str,
    /// The path under the mock server that stands for the preset's base URL.
    root: &'static str,
    /// The role a `developer` message is sent with.
    developer_as: &'static str,
    /// The field carrying `max_tokens`.
    max_tokens_field: &'static str,
    /// Whether streams ask for the usage chunk.
    include_usage: bool,
}

const EXPECTED: &[Expect] = &[
    Expect {
        preset: "xai",
        root: "/v1",
        developer_as: "developer",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "fireworks",
        root: "/inference/v1",
        developer_as: "developer",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "cerebras",
        root: "/v1",
        developer_as: "system",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "perplexity",
        root: "",
        developer_as: "system",
        max_tokens_field: "max_tokens",
        include_usage: false,
    },
    Expect {
        preset: "nebius",
        root: "/v1",
        developer_as: "developer",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "sambanova",
        root: "/v1",
        developer_as: "developer",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "huggingface",
        root: "/v1",
        developer_as: "developer",
        max_tokens_field: "max_tokens",
        include_usage: true,
    },
    Expect {
        preset: "azure-foundry",
        root: "/openai/v1",
        developer_as: "developer",
        max_tokens_field: "max_completion_tokens",
        include_usage: true,
    },
];

fn config(preset: &str, server: &MockServer, root: &str) -> Value {
    json!({"preset": preset, "api_key": KEY, "base_url": format!("{}{root}", server.uri())})
}

#[test]
fn default_base_urls_are_the_documented_ones() {
    for (preset, url) in [
        (PresetName::Xai, "https://api.x.ai/v1"),
        (
            PresetName::Fireworks,
            "https://api.fireworks.ai/inference/v1",
        ),
        (PresetName::Cerebras, "https://api.cerebras.ai/v1"),
        (PresetName::Perplexity, "https://api.perplexity.ai"),
        (PresetName::Nebius, "https://api.tokenfactory.nebius.com/v1"),
        (PresetName::Sambanova, "https://api.sambanova.ai/v1"),
        (PresetName::Huggingface, "https://router.huggingface.co/v1"),
        (PresetName::AzureFoundry, ""),
    ] {
        assert_eq!(preset.preset().base_url, url, "{preset:?}");
        assert!(preset.preset().key_required, "{preset:?}");
    }
}

#[tokio::test]
async fn each_preset_shapes_roles_token_field_auth_and_usage() {
    for e in EXPECTED {
        let route = format!("{}/chat/completions", e.root);
        let server = mock(&route, json_ok(data("openai_chat_response.json"))).await;
        let p = build(config(e.preset, &server, e.root), e.preset).await;
        let req = ChatRequest::new(
            "some-model",
            vec![
                Message::new(Role::Developer, "Be brief."),
                Message::user("Hello!"),
            ],
        )
        .max_tokens(64);
        p.chat(&req)
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", e.preset));
        let body = last_body(&server).await;
        assert_eq!(
            body["messages"][0]["role"],
            json!(e.developer_as),
            "{}",
            e.preset
        );
        assert_eq!(body[e.max_tokens_field], json!(64), "{}", e.preset);
        let other = if e.max_tokens_field == "max_tokens" {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        assert!(body.get(other).is_none(), "{}: {body}", e.preset);
        let sent = &requests(&server).await[0];
        assert_eq!(
            header(sent, "authorization"),
            Some(format!("Bearer {KEY}").as_str()),
            "{}",
            e.preset
        );

        let stream_server = mock(&route, sse_ok(data("openai_chat_stream_text.sse"))).await;
        let p = build(config(e.preset, &stream_server, e.root), e.preset).await;
        collect_stream(p.chat_stream(&hello("m")).await.expect("stream"))
            .await
            .expect("complete");
        let body = last_body(&stream_server).await;
        assert_eq!(
            body.pointer("/stream_options/include_usage") == Some(&json!(true)),
            e.include_usage,
            "{}: {body}",
            e.preset
        );
    }
}

#[tokio::test]
async fn documented_unsupported_params_are_rejected_before_sending() {
    let mut penalty = hello("m");
    penalty.frequency_penalty = Some(0.5);
    let mut parallel = hello("m");
    parallel.parallel_tool_calls = Some(false);
    let mut tools = hello("m");
    tools.tools = vec![Tool::new(
        "lookup",
        "Look up",
        json!({"type": "object", "properties": {}}),
    )];
    let mut stop = hello("m");
    stop.stop = vec!["\n\n".into()];
    let mut n2 = hello("m");
    n2.extra.insert("n".into(), json!(2));
    for (preset, root, req, param) in [
        ("cerebras", "/v1", penalty.clone(), "frequency_penalty"),
        ("cerebras", "/v1", parallel, "parallel_tool_calls"),
        ("perplexity", "", tools, "tools"),
        ("perplexity", "", stop, "stop"),
        ("sambanova", "/v1", n2, "n>1"),
    ] {
        let server = mock(
            &format!("{root}/chat/completions"),
            json_ok(data("openai_chat_response.json")),
        )
        .await;
        let p = build(config(preset, &server, root), preset).await;
        let err = p.chat(&req).await.expect_err("unsupported");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{preset}: {err}");
        assert_eq!(err.param(), Some(param), "{preset}: {err}");
        assert!(
            requests(&server).await.is_empty(),
            "{preset}: {param} was sent"
        );
    }
    // xAI takes penalties (only its reasoning models do not, per model).
    let server = mock(
        "/v1/chat/completions",
        json_ok(data("openai_chat_response.json")),
    )
    .await;
    let p = build(config("xai", &server, "/v1"), "xai").await;
    p.chat(&penalty).await.expect("xAI takes frequency_penalty");
    assert_eq!(last_body(&server).await["frequency_penalty"], json!(0.5));
}

#[tokio::test]
async fn perplexity_lists_its_models_without_asking() {
    let server = MockServer::start().await;
    let p = build(config("perplexity", &server, ""), "perplexity").await;
    let ids: Vec<String> = p
        .models()
        .await
        .expect("models")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        ids,
        vec![
            "sonar",
            "sonar-pro",
            "sonar-reasoning-pro",
            "sonar-deep-research"
        ]
    );
    assert!(requests(&server).await.is_empty());
}

#[test]
fn azure_foundry_needs_its_resource_endpoint() {
    let config: OpenAiCompatibleConfig =
        serde_json::from_value(json!({"preset": "azure-foundry", "api_key": KEY})).expect("parses");
    assert_eq!(config.preset, Some(PresetName::AzureFoundry));
    let err = switchboard_openai_compatible::OpenAiCompatible::new(
        config,
        &switchboard_core::ProviderContext::standalone("foundry"),
    )
    .expect_err("no base_url");
    assert_eq!(err.param(), Some("base_url"), "{err}");
    assert!(err.message().contains("Azure AI Foundry"), "{err}");
}
