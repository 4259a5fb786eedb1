//! The key from the environment, tested in a child process of this test
//! binary (so no test changes its own process's environment).

use std::process::Command;

use serde_json::json;
use switchboard_cohere::{CohereConfig, CohereProvider};
use switchboard_core::{ChatRequest, Message, Provider, ProviderContext};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CHILD: &str = "SWITCHBOARD_COHERE_ENV_TEST_CHILD";
const CHILD_URL: &str = "SWITCHBOARD_COHERE_ENV_TEST_URL";
const TEST: &str = "env::the_key_comes_from_co_api_key_first";
const ANSWER: &str = include_str!("../data/chat_response.json");

async fn child() {
    let url = std::env::var(CHILD_URL).expect("the parent passes the URL");
    let config: CohereConfig =
        serde_json::from_value(json!({"base_url": url})).expect("valid config");
    let p = CohereProvider::new(config, &ProviderContext::standalone("co"))
        .expect("builds with the key from the environment");
    p.chat(&ChatRequest::new(
        "command-a-03-2025",
        vec![Message::user("hi")],
    ))
    .await
    .expect("answers");
}

#[tokio::test]
async fn the_key_comes_from_co_api_key_first() {
    if std::env::var_os(CHILD).is_some() {
        return child().await;
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/chat"))
        .and(header("authorization", "Bearer co-env"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(ANSWER, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let exe = std::env::current_exe().expect("the test binary");
    let uri = server.uri();
    let status = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args([TEST, "--exact", "--test-threads=1"])
            .env(CHILD, "1")
            .env(CHILD_URL, uri)
            .env("CO_API_KEY", "co-env")
            .env("COHERE_API_KEY", "cohere-env")
            .status()
    })
    .await
    .expect("joined")
    .expect("the child runs");
    assert!(status.success(), "the child test failed: {status}");
    server.verify().await;
}
