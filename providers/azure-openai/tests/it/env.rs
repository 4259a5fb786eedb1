//! Environment fallbacks, tested in a child process of this test binary (so
//! no test changes its own process's environment).

use std::process::Command;

use serde_json::json;
use switchboard_azure_openai::{AzureOpenAi, AzureOpenAiConfig};
use switchboard_core::{ChatRequest, Message, Provider, ProviderContext};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CHILD: &str = "SWITCHBOARD_AZURE_ENV_TEST_CHILD";
const TEST: &str = "env::credentials_and_endpoint_come_from_the_environment";
const ANSWER: &str = include_str!("../data/openai_chat_response.json");

/// In the child: an empty config takes everything from the environment (the
/// token over the key); a configured key beats the environment's token.
async fn child() {
    let ctx = ProviderContext::standalone("azure");
    let request = ChatRequest::new("gpt-4o", vec![Message::user("hi")]);
    let config = |v| serde_json::from_value::<AzureOpenAiConfig>(v).expect("valid config");
    let from_env = AzureOpenAi::new(config(json!({})), &ctx).expect("builds from the environment");
    from_env
        .chat(&request)
        .await
        .expect("answers with the env token");
    let with_key = AzureOpenAi::new(config(json!({"api_key": "cfg-key"})), &ctx).expect("builds");
    with_key
        .chat(&request)
        .await
        .expect("answers with the configured key");
}

#[tokio::test]
async fn credentials_and_endpoint_come_from_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        return child().await;
    }
    let server = MockServer::start().await;
    for (name, value) in [
        ("authorization", "Bearer env-token"),
        ("api-key", "cfg-key"),
    ] {
        Mock::given(method("POST"))
            .and(path("/openai/v1/chat/completions"))
            .and(header(name, value))
            .respond_with(ResponseTemplate::new(200).set_body_raw(ANSWER, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let uri = server.uri();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args([TEST, "--exact", "--test-threads=1"])
            .env(CHILD, "1")
            .env("AZURE_OPENAI_ENDPOINT", uri)
            .env("AZURE_OPENAI_API_KEY", "env-key")
            .env("AZURE_OPENAI_AD_TOKEN", "env-token")
            .status()
    })
    .await
    .expect("joined")
    .expect("the child runs");
    assert!(status.success(), "the child test failed: {status}");
    server.verify().await;
}
