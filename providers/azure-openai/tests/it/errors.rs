//! Azure's error answers: content-filter refusals and `DeploymentNotFound`.

use http::HeaderMap;
use serde_json::json;
use switchboard_azure_openai::{AzureOpenAi, AzureOpenAiConfig, classify};
use switchboard_core::upstream::ErrorResponse;
use switchboard_core::{
    ChatRequest, EmbeddingsRequest, ErrorKind, Message, Provider, ProviderContext,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JAILBREAK: &str = include_str!("../data/error_400_content_filter_jailbreak_issue.json");
const FILTER_2023: &str = include_str!("../data/error_400_content_filter_2023_issue.json");
const NOT_FOUND: &str = include_str!("../data/error_404_deployment_not_found_recorded.json");

fn classify_body(status: u16, body: &str) -> switchboard_core::Error {
    let headers = HeaderMap::new();
    classify(&ErrorResponse {
        status,
        headers: &headers,
        body: body.as_bytes(),
    })
}

#[test]
fn a_filtered_prompt_with_innererror_is_content_filter() {
    let err = classify_body(400, JAILBREAK);
    assert_eq!(err.kind(), &ErrorKind::ContentFilter, "{err}");
    assert_eq!(err.param(), Some("prompt"));
    assert!(err.message().contains("content management policy"), "{err}");
}

#[test]
fn a_filtered_prompt_without_innererror_is_content_filter() {
    let err = classify_body(400, FILTER_2023);
    assert_eq!(err.kind(), &ErrorKind::ContentFilter, "{err}");
}

#[test]
fn an_inner_policy_violation_alone_is_content_filter() {
    let body = json!({"error": {"message": "filtered", "code": "invalid_prompt",
        "innererror": {"code": "ResponsibleAIPolicyViolation"}}});
    let err = classify_body(400, &body.to_string());
    assert_eq!(err.kind(), &ErrorKind::ContentFilter, "{err}");
}

#[test]
fn other_400s_stay_invalid_requests() {
    let body = json!({"error": {"message": "bad temperature", "code": "invalid_value", "param": "temperature"}});
    let err = classify_body(400, &body.to_string());
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.param(), Some("temperature"));
}

async fn provider(server: &MockServer, shape: &str) -> AzureOpenAi {
    let config: AzureOpenAiConfig = serde_json::from_value(json!({
        "endpoint": server.uri(), "api_key": "k", "api_shape": shape,
        "deployments": {"gpt-4o": "gpt4o-prod"},
    }))
    .expect("valid config");
    AzureOpenAi::new(config, &ProviderContext::standalone("azure")).expect("builds")
}

#[tokio::test]
async fn deployment_not_found_names_the_deployment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/deployments/gpt4o-prod/chat/completions"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("apim-request-id", "req-404")
                .set_body_raw(NOT_FOUND, "application/json"),
        )
        .mount(&server)
        .await;
    let p = provider(&server, "deployments").await;
    let err = p
        .chat(&ChatRequest::new("gpt-4o", vec![Message::user("hi")]))
        .await
        .expect_err("404");
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("deployment `gpt4o-prod`"), "{err}");
    assert!(err.message().contains("does not exist"), "{err}");
    assert!(err.message().contains("req-404"), "{err}");
    assert_eq!(err.instance(), Some("azure"));

    let err = p
        .embed(&EmbeddingsRequest::new("gpt-4o", vec!["x".into()]))
        .await
        .expect_err("no embeddings route");
    assert_eq!(err.kind(), &ErrorKind::NotFound, "{err}");
    assert!(err.message().contains("deployment `gpt4o-prod`"), "{err}");
}

#[tokio::test]
async fn a_filtered_prompt_fails_the_stream_before_it_starts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(JAILBREAK, "application/json"))
        .mount(&server)
        .await;
    let p = provider(&server, "v1").await;
    let err = p
        .chat_stream(&ChatRequest::new("gpt-4o", vec![Message::user("hi")]))
        .await
        .err()
        .expect("400");
    assert_eq!(err.kind(), &ErrorKind::ContentFilter, "{err}");
}
