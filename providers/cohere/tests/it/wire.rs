//! Cohere's published request and answer examples (SPEC) through the
//! encoder, the decoders and the provider.

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_cohere::convert::{chat_body, response};
use switchboard_cohere::stream::StreamDecoder;
use switchboard_cohere::wire::ChatAnswer;
use switchboard_cohere::{CohereConfig, CohereProvider};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, EmbeddingsRequest, ErrorKind, FinishReason, Message,
    Provider, ProviderContext, ResponseAccumulator, Role, Tool,
};
use switchboard_protocol::sse::decode_body;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::conformance::json_of;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture exists")
}

/// The core request a SPEC request example stands for: its messages, tools,
/// and `documents` through `extra`.
fn core_request(spec: &Value) -> ChatRequest {
    let messages = spec["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            assert_eq!(m["role"], "user", "the examples ask as the user");
            match &m["content"] {
                Value::String(text) => Message::user(text.clone()),
                Value::Array(items) => Message {
                    content: items
                        .iter()
                        .map(|item| match item["type"].as_str() {
                            Some("text") => ContentPart::text(item["text"].as_str().expect("text")),
                            Some("image_url") => ContentPart::Image {
                                source: switchboard_core::ImageSource::Url {
                                    url: item["image_url"]["url"].as_str().expect("url").into(),
                                },
                                detail: item["image_url"]["detail"].as_str().map(str::to_owned),
                            },
                            other => panic!("unexpected content type {other:?}"),
                        })
                        .collect(),
                    ..Message::new(Role::User, "")
                },
                other => panic!("unexpected content {other}"),
            }
        })
        .collect();
    let mut request = ChatRequest::new(spec["model"].as_str().expect("model"), messages);
    for tool in spec["tools"].as_array().into_iter().flatten() {
        let f = &tool["function"];
        request.tools.push(Tool::new(
            f["name"].as_str().expect("name"),
            f["description"].as_str().expect("description"),
            f["parameters"].clone(),
        ));
    }
    if let Some(documents) = spec.get("documents") {
        request.extra.insert("documents".into(), documents.clone());
    }
    request
}

#[test]
fn the_spec_request_examples_are_encoded_exactly() {
    for name in [
        "chat_request.json",
        "chat_request_stream.json",
        "chat_request_tools.json",
        "chat_request_stream_tools.json",
        "chat_request_documents.json",
        "chat_request_stream_documents.json",
        "chat_request_image_url.json",
    ] {
        let spec = json_of(&data(name));
        let request = core_request(&spec);
        let stream = spec["stream"].as_bool().unwrap_or(false);
        let body = serde_json::to_value(chat_body(&request, stream).expect("encodes"))
            .expect("serializes");
        let mut expected = spec.clone();
        expected["stream"] = Value::Bool(stream);
        assert_eq!(body, expected, "{name}");
    }
}

#[test]
fn a_conversation_with_tool_results_and_options_is_encoded() {
    let mut request = ChatRequest::new(
        "command-a-03-2025",
        vec![
            Message::system("Be brief."),
            Message::user("Sales on 2023-09-29?"),
            Message {
                content: vec![ContentPart::Reasoning {
                    text: "I will look it up.".into(),
                    signature: None,
                    redacted: None,
                    origin: Some("cohere".into()),
                }],
                ..Message::assistant_tool_calls(vec![switchboard_core::ToolCall {
                    id: "q_1".into(),
                    name: "query_daily_sales_report".into(),
                    arguments: r#"{"day":"2023-09-29"}"#.into(),
                }])
            },
            Message::tool_result("q_1", r#"{"total": 10}"#),
        ],
    );
    request.top_p = Some(0.5);
    request.stop = vec!["END".into()];
    request.tool_choice = Some(switchboard_core::ToolChoice::Required);
    request.reasoning = Some(switchboard_core::Reasoning {
        effort: None,
        budget_tokens: Some(1024),
    });
    let body = serde_json::to_value(chat_body(&request, false).expect("encodes")).expect("JSON");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Sales on 2023-09-29?"},
            {"role": "assistant", "tool_plan": "I will look it up.", "tool_calls": [
                {"id": "q_1", "type": "function", "function": {"name": "query_daily_sales_report", "arguments": "{\"day\":\"2023-09-29\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "q_1", "content": "{\"total\": 10}"},
        ])
    );
    assert_eq!(body["p"], json!(0.5));
    assert_eq!(body["stop_sequences"], json!(["END"]));
    assert_eq!(body["tool_choice"], "REQUIRED");
    assert_eq!(
        body["thinking"],
        json!({"type": "enabled", "token_budget": 1024})
    );

    request.extra.insert("stream".into(), json!(true));
    let err = chat_body(&request, false).expect_err("extra cannot override");
    assert_eq!(err.param(), Some("extra.stream"));
}

#[test]
fn citations_are_kept_in_extra() {
    let answer: ChatAnswer =
        serde_json::from_str(&data("chat_response_citations.json")).expect("decodes");
    let resp = response(answer, "command-a-plus-05-2026").expect("converts");
    assert!(resp.text().starts_with("Both NSync and Backstreet Boys"));
    let citations = resp.extra["citations"].as_array().expect("citations");
    assert_eq!(citations.len(), 10);
    assert_eq!(
        citations[0]["text"],
        "extremely popular at the turn of the millennium."
    );
    assert_eq!(citations[0]["sources"][0]["id"], "doc:1");
    assert_eq!(
        resp.extra["billed_units"],
        json!({"input_tokens": 682, "output_tokens": 143})
    );
    assert_eq!(
        (resp.usage.input_tokens, resp.usage.output_tokens),
        (1380, 434)
    );
    assert_eq!(resp.finish_reason, FinishReason::Stop);
}

#[test]
fn thinking_and_tool_calls_are_decoded() {
    let answer: ChatAnswer =
        serde_json::from_str(&data("chat_response_tool_calls.json")).expect("decodes");
    let resp = response(answer, "command-r").expect("converts");
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert!(
        matches!(&resp.content[0], ContentPart::Reasoning { text, origin, .. }
        if text.starts_with("I will first find") && origin.as_deref() == Some("cohere"))
    );
    assert_eq!(resp.tool_calls.len(), 2);
    assert_eq!(
        resp.tool_calls[1].arguments,
        r#"{"category": "Electronics"}"#
    );
}

fn decode(name: &str) -> Vec<ChatEvent> {
    let mut decoder = StreamDecoder::new("command-a-03-2025");
    let events = {
        let mut sse = switchboard_protocol::sse::SseDecoder::new();
        let mut out = Vec::new();
        for event in sse.feed(data(name).as_bytes()) {
            switchboard_protocol::sse::EventDecoder::push_event(
                &mut decoder,
                &event.expect("framed"),
                &mut out,
            )
            .expect("decodes");
        }
        out
    };
    assert!(decoder.citations().is_empty(), "handed over at message-end");
    events
}

/// The citation of the recorded stream's one `citation-start` event, as
/// SPEC example 5 publishes it.
fn recorded_stream_citation() -> Value {
    let events = json_of(&data("chat_stream_citations_events.json"));
    let starts: Vec<&Value> = events
        .as_array()
        .expect("a list of events")
        .iter()
        .filter(|e| e["event"] == "citation-start")
        .collect();
    assert_eq!(starts.len(), 1);
    starts[0]["data"]["delta"]["message"]["citations"].clone()
}

fn accumulate(events: &[ChatEvent]) -> switchboard_core::ChatResponse {
    let mut acc = ResponseAccumulator::new();
    for e in events {
        acc.push(e);
    }
    acc.finish()
}

#[test]
fn the_citation_stream_decodes_with_float_usage() {
    let events = decode("chat_stream_citations.sse");
    let resp = accumulate(&events);
    assert_eq!(resp.id, "8268c123-8264-4046-afd9-ae3d328f85f3");
    assert_eq!(resp.text(), "Both Nsync and Backstreet Boys were");
    assert_eq!(
        (resp.usage.input_tokens, resp.usage.output_tokens),
        (1661, 19)
    );
    // Kept in `extra` as a whole answer keeps them (`citations_are_kept_in_extra`):
    // the array of citations, and the billed units.
    assert_eq!(resp.extra["citations"], json!([recorded_stream_citation()]));
    assert_eq!(resp.extra["citations"][0]["sources"][0]["id"], "1");
    assert_eq!(
        resp.extra["billed_units"],
        json!({"input_tokens": 18, "output_tokens": 6})
    );
    // Handed over once, before the usage and the finish.
    let extra_at: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, ChatEvent::Extra { .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(extra_at, [events.len() - 4, events.len() - 3]);
}

#[test]
fn citations_of_several_events_are_kept_in_order() {
    let text = data("chat_stream_citations.sse");
    let cut = text.rfind("event: message-end").expect("message-end");
    let second = json!({"type": "citation-start", "index": 1, "delta": {"message": {"citations":
        {"start": 15, "end": 30, "text": "Backstreet Boys", "sources": [], "type": "TEXT_CONTENT"}}}});
    let body = format!(
        "{}event: citation-start\ndata: {second}\n\nevent: citation-end\ndata: {}\n\n{}",
        &text[..cut],
        json!({"type": "citation-end", "index": 1}),
        &text[cut..]
    );
    let events = decode_body(body.as_bytes(), StreamDecoder::new("m")).expect("decodes");
    let citations = accumulate(&events).extra["citations"].clone();
    let texts: Vec<&str> = citations
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert_eq!(texts, ["Nsync", "Backstreet Boys"]);
}

#[test]
fn a_stream_without_citations_keeps_none() {
    let text = data("chat_stream_text.sse");
    let events = decode_body(text.as_bytes(), StreamDecoder::new("m")).expect("decodes");
    let resp = accumulate(&events);
    assert!(resp.extra.get("citations").is_none(), "{:?}", resp.extra);
    assert_eq!(
        resp.extra["billed_units"],
        json!({"input_tokens": 5, "output_tokens": 26})
    );
}

#[test]
fn the_tool_stream_decodes_plan_and_calls() {
    let events = decode("chat_stream_parallel_tool_calls.sse");
    let resp = accumulate(&events);
    assert!(
        matches!(&resp.content[0], ContentPart::Reasoning { text, .. }
        if text.starts_with("I will first find the sales summary"))
    );
    assert_eq!(resp.tool_calls.len(), 2);
    assert_eq!(
        resp.tool_calls[0].id,
        "query_daily_sales_report_hgxxmkby3wta"
    );
    assert_eq!(
        resp.tool_calls[1].arguments,
        r#"{"category": "Electronics"}"#
    );
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
}

#[test]
fn an_unfinished_or_failed_stream_is_an_error() {
    let text = data("chat_stream_text.sse");
    let cut = text
        .rfind("event: message-end")
        .expect("the stream ends with message-end");
    let err = decode_body(&text.as_bytes()[..cut], StreamDecoder::new("m")).expect_err("cut off");
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");

    let done_early = format!("{}data: [DONE]\n\n", &text[..cut]);
    let err = decode_body(done_early.as_bytes(), StreamDecoder::new("m")).expect_err("no end");
    assert_eq!(err.kind(), &ErrorKind::Protocol, "{err}");

    let failed = format!(
        "{}event: message-end\ndata: {}\n\n",
        &text[..cut],
        json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "model overloaded"}})
    );
    let err = decode_body(failed.as_bytes(), StreamDecoder::new("m")).expect_err("an error");
    assert!(err.message().contains("model overloaded"), "{err}");
}

fn provider(server: &MockServer, extra: Value) -> CohereProvider {
    let mut config = json!({"api_key": "co-SECRET", "base_url": server.uri()});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let config: CohereConfig = serde_json::from_value(config).expect("valid config");
    CohereProvider::new(config, &ProviderContext::standalone("co")).expect("builds")
}

#[tokio::test]
async fn the_spec_embed_exchange_round_trips() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/embed"))
        .and(header("authorization", "Bearer co-SECRET"))
        .and(body_json(json_of(&data("embed_request.json"))))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(data("embed_response.json"), "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server, json!({}));
    let mut request = EmbeddingsRequest::new("embed-v4.0", vec!["hello".into(), "goodbye".into()]);
    request
        .extra
        .insert("input_type".into(), json!("classification"));
    let resp = p.embed(&request).await.expect("embeds");
    assert_eq!(resp.embeddings.len(), 2);
    assert_eq!(resp.embeddings[0].len(), 1024);
    assert_eq!(resp.usage.input_tokens, 2);
}

#[tokio::test]
async fn the_config_input_type_is_the_default_and_bad_ones_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/embed"))
        .and(wiremock::matchers::body_partial_json(
            json!({"input_type": "search_query", "embedding_types": ["float"], "output_dimension": 256}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "x", "embeddings": {"float": [[0.5, 0.25]]}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server, json!({"embed_input_type": "search_query"}));
    let mut request = EmbeddingsRequest::new("embed-v4.0", vec!["q".into()]);
    request.dimensions = Some(256);
    let resp = p.embed(&request).await.expect("embeds");
    assert_eq!(resp.embeddings, vec![vec![0.5, 0.25]]);

    request
        .extra
        .insert("input_type".into(), json!("documents"));
    let err = p.embed(&request).await.expect_err("unknown input type");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.param(), Some("input_type"));
}

#[tokio::test]
async fn the_citation_stream_through_the_provider() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/chat"))
        .and(wiremock::matchers::body_partial_json(
            json!({"stream": true}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(data("chat_stream_citations.sse"), "text/event-stream"),
        )
        .mount(&server)
        .await;
    let p = provider(&server, json!({}));
    let spec = json_of(&data("chat_request_stream_documents.json"));
    let mut stream = p.chat_stream(&core_request(&spec)).await.expect("opens");
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        events.push(e.expect("decodes"));
    }
    let resp = accumulate(&events);
    assert_eq!(resp.text(), "Both Nsync and Backstreet Boys were");
    assert_eq!(resp.extra["citations"], json!([recorded_stream_citation()]));
}

#[tokio::test]
async fn the_catalog_builds_it_by_kind() {
    let descriptor = switchboard_core::catalog()
        .expect("catalog")
        .get(switchboard_cohere::PROVIDER_NAME)
        .expect("cohere is linked");
    let provider = descriptor
        .build(json!({"api_key": "k"}), ProviderContext::standalone("co"))
        .await
        .expect("builds");
    let models = provider.models().await.expect("lists");
    assert_eq!(models[0].id, switchboard_cohere::DEFAULT_MODEL);
    let err = descriptor
        .build(
            json!({"api_key": "k", "embed_input_type": "docs"}),
            ProviderContext::standalone("co"),
        )
        .await
        .err()
        .expect("an unknown input type is refused");
    assert_eq!(err.param(), Some("embed_input_type"));
}
