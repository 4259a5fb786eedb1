//! Azure's recorded and documented bodies through the provider: URL shapes,
//! auth headers, the filter annotations and a filtered stream.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_azure_openai::{AzureOpenAi, AzureOpenAiConfig};
use switchboard_core::{
    ChatEvent, ChatRequest, EmbeddingsRequest, FinishReason, Message, Provider, ProviderContext,
    ResponseAccumulator,
};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RECORDED_REQUEST: &str = include_str!("../data/chat_request_recorded.json");
const FILTER_RESPONSE: &str = include_str!("../data/chat_response_content_filter_recorded.json");
const BLOCKED_STREAM: &str = include_str!("../data/chat_stream_blocked_async_filter_cleaned.sse");
const EMBEDDINGS: &str = include_str!("../data/openai_embeddings_response.json");

fn provider(config: Value) -> AzureOpenAi {
    let config: AzureOpenAiConfig = serde_json::from_value(config).expect("valid config");
    AzureOpenAi::new(config, &ProviderContext::standalone("azure")).expect("builds")
}

fn recorded_request() -> Value {
    serde_json::from_str(RECORDED_REQUEST).expect("fixture is JSON")
}

#[tokio::test]
async fn the_recorded_dated_exchange_round_trips() {
    let server = MockServer::start().await;
    let recorded = recorded_request();
    Mock::given(method("POST"))
        .and(path(
            "/openai/deployments/gpt-35-turbo-0613/chat/completions",
        ))
        .and(query_param("api-version", "2023-06-01-preview"))
        .and(header("api-key", "k-SECRET"))
        .and(body_partial_json(json!({"messages": recorded["messages"]})))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("apim-request-id", "apim-1")
                .set_body_raw(FILTER_RESPONSE, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(json!({
        "endpoint": server.uri(), "api_key": "k-SECRET", "api_shape": "deployments",
        "api_version": "2023-06-01-preview",
    }));
    let question = recorded["messages"][0]["content"]
        .as_str()
        .expect("a string");
    let response = p
        .chat(&ChatRequest::new(
            "gpt-35-turbo-0613",
            vec![Message::user(question)],
        ))
        .await
        .expect("answers");
    assert!(
        response
            .text()
            .starts_with("There are several ways to cook a bell pepper")
    );
    assert_eq!(response.finish_reason, FinishReason::Stop);
    assert_eq!(
        (response.usage.input_tokens, response.usage.output_tokens),
        (16, 261)
    );
    assert_eq!(response.model, "gpt-35-turbo");
    assert_eq!(response.extra["azure_deployment"], "gpt-35-turbo-0613");
    assert_eq!(response.extra["upstream_request_id"], "apim-1");
    assert_eq!(
        response.extra["prompt_annotations"][0]["content_filter_results"]["hate"]["severity"],
        "safe"
    );
    assert!(
        response
            .extra
            .values()
            .any(|v| v.get("content_filter_results").is_some()),
        "per-choice filter results kept: {:?}",
        response.extra
    );
    let received = server.received_requests().await.expect("recorded");
    assert!(
        received[0].headers.get("authorization").is_none(),
        "a key is not a bearer token"
    );
}

#[tokio::test]
async fn a_filtered_completion_finishes_with_content_filter() {
    let server = MockServer::start().await;
    let mut filtered: Value = serde_json::from_str(FILTER_RESPONSE).expect("fixture is JSON");
    filtered["choices"][0]["finish_reason"] = json!("content_filter");
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(filtered))
        .mount(&server)
        .await;
    let p = provider(json!({"endpoint": server.uri(), "api_key": "k"}));
    let response = p
        .chat(&ChatRequest::new("gpt-4o", vec![Message::user("hi")]))
        .await
        .expect("answers");
    assert_eq!(response.finish_reason, FinishReason::ContentFilter);
}

#[tokio::test]
async fn the_blocked_stream_ends_with_content_filter_on_v1_with_an_entra_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/v1/chat/completions"))
        .and(header("authorization", "Bearer entra-TOKEN"))
        .and(body_partial_json(
            json!({"model": "gpt35-eu", "stream": true,
            "stream_options": {"include_usage": true}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(BLOCKED_STREAM, "text/event-stream"))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(json!({
        "endpoint": server.uri(), "api_key": "unused", "azure_ad_token": "entra-TOKEN",
        "deployments": {"gpt-35-turbo": "gpt35-eu"},
    }));
    let mut stream = p
        .chat_stream(&ChatRequest::new(
            "gpt-35-turbo",
            vec![Message::user("sing")],
        ))
        .await
        .expect("opens");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("decodes"));
    }
    let received = server.received_requests().await.expect("recorded");
    assert!(
        received[0].headers.get("api-key").is_none(),
        "the token wins"
    );
    assert!(
        matches!(&events[0], ChatEvent::Start { id, .. } if id == "chatcmpl-8JCbt5d4luUIhYCI7YH4dQK7hnHx2"),
        "the empty-id annotation chunk is not the start: {events:?}"
    );
    let mut acc = ResponseAccumulator::new();
    for e in &events {
        acc.push(e);
    }
    let response = acc.finish();
    assert_eq!(response.text(), "Hey Jude, better");
    assert_eq!(response.finish_reason, FinishReason::ContentFilter);
}

#[tokio::test]
async fn embeddings_go_to_the_deployment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/openai/deployments/ada-eu/embeddings"))
        .and(query_param("api-version", "2024-10-21"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(EMBEDDINGS, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(json!({
        "endpoint": server.uri(), "api_key": "k", "api_shape": "deployments",
        "deployments": {"text-embedding-ada-002": "ada-eu"},
    }));
    let response = p
        .embed(&EmbeddingsRequest::new(
            "text-embedding-ada-002",
            vec!["hi".into()],
        ))
        .await
        .expect("embeds");
    assert_eq!(response.embeddings.len(), 1);
    assert_eq!(response.provider, "azure");
}

#[tokio::test]
async fn models_lists_the_configured_deployments() {
    let p = provider(
        json!({"endpoint": "https://r.openai.azure.com", "api_key": "k",
        "deployments": {"gpt-4o": "a", "o4-mini": "b"}}),
    );
    let ids: Vec<String> = p
        .models()
        .await
        .expect("lists")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, ["gpt-4o", "o4-mini"]);
}

#[tokio::test]
async fn the_catalog_builds_it_by_kind() {
    let descriptor = switchboard_core::catalog()
        .expect("catalog")
        .get(switchboard_azure_openai::NAME)
        .expect("azure-openai is linked");
    descriptor
        .build(
            json!({"endpoint": "https://r.openai.azure.com", "api_key": "k"}),
            ProviderContext::standalone("azure"),
        )
        .await
        .expect("builds");
    let err = descriptor
        .build(
            json!({"endpoint": "https://r.openai.azure.com", "api_key": "k", "api_shape": "v2"}),
            ProviderContext::standalone("azure"),
        )
        .await
        .err()
        .expect("an unknown shape is refused");
    assert!(
        err.message().contains("api_shape") || err.message().contains("v2"),
        "{err}"
    );
}
