//! The exact requests sent to Gemini and the answers read back, checked
//! against the recordings in `tests/data` (sources in its README).

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, EmbeddingsRequest, Error, ErrorKind, FinishReason, Message, Provider,
    ProviderContext, Reasoning, Tool, Usage,
};
use switchboard_gemini::{GeminiConfig, GeminiProvider, SKIP_THOUGHT_SIGNATURE};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const INSTANCE: &str = "gemini-test";
const KEY: &str = "AIzaSy-test-KEY-0123456789";

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn provider_with(server: &MockServer, extra: Value) -> GeminiProvider {
    let mut config = json!({ "api_key": KEY, "base_url": server.uri() });
    if let (Some(c), Value::Object(e)) = (config.as_object_mut(), extra) {
        c.extend(e);
    }
    let config: GeminiConfig = serde_json::from_value(config).expect("valid config");
    GeminiProvider::new(config, ProviderContext::standalone(INSTANCE)).expect("builds")
}

fn provider(server: &MockServer) -> GeminiProvider {
    provider_with(server, json!({}))
}

fn json_response(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(body.as_bytes().to_vec(), "application/json; charset=UTF-8")
}

fn sse_response(body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn sse(events: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(format!("data: {e}\r\n\r\n").as_bytes());
    }
    out
}

async fn serve(route: &str, response: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

async fn sent(server: &MockServer) -> wiremock::Request {
    let requests = server.received_requests().await.expect("recording on");
    requests.last().expect("a request was sent").clone()
}

async fn sent_body(server: &MockServer) -> Value {
    serde_json::from_slice(&sent(server).await.body).expect("JSON body")
}

/// The SDK's recorded body, without the empty `generationConfig` it always sends.
fn recorded_request(text: &str) -> Value {
    let mut v = fixture(text);
    if v["generationConfig"] == json!({}) {
        v.as_object_mut().map(|o| o.remove("generationConfig"));
    }
    v
}

async fn collect(p: &GeminiProvider, req: &ChatRequest) -> (Vec<ChatEvent>, Option<Error>) {
    let mut stream = p.chat_stream(req).await.expect("stream starts");
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(e) => events.push(e),
            Err(e) => {
                assert!(stream.next().await.is_none(), "nothing after an error");
                return (events, Some(e));
            }
        }
    }
    (events, None)
}

#[tokio::test]
async fn system_instruction_request_and_text_answer_match_the_recording() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
        .and(header("x-goog-api-key", KEY))
        .and(header("content-type", "application/json"))
        .respond_with(json_response(include_str!(
            "../data/generate_content_response_text.json"
        )))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider(&server);
    let req = ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            Message::system("I say high you say low"),
            Message::user("high"),
        ],
    );
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        recorded_request(include_str!(
            "../data/generate_content_request_system_instruction.json"
        ))
    );
    let request = sent(&server).await;
    assert_eq!(request.url.query(), None, "the key is not in the URL");
    assert_eq!(resp.text(), "low");
    assert_eq!(resp.finish_reason, FinishReason::Stop);
    assert_eq!(resp.id, "hi77aOvyCJ-jvr0P8syDgQw");
    assert_eq!(resp.model, "gemini-2.5-flash");
    assert_eq!(resp.provider, INSTANCE);
    // candidatesTokenCount (1) excludes thoughtsTokenCount (20): output counts both.
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 9,
            output_tokens: 21,
            reasoning_tokens: 20,
            total_tokens: 30,
            ..Usage::default()
        }
    );
    assert!(
        resp.extra.contains_key("turnToken"),
        "unknown fields are kept: {:?}",
        resp.extra
    );
}

#[tokio::test]
async fn generation_config_matches_the_recording() {
    let server = serve(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        json_response(include_str!(
            "../data/generate_content_response_max_tokens.json"
        )),
    )
    .await;
    let p = provider_with(
        &server,
        json!({"include_thoughts": false, "generation_config": {"candidateCount": 1}}),
    );
    let mut req = ChatRequest::new(
        "gemini-2.5-flash",
        vec![Message::user("why is the sky blue?")],
    )
    .max_tokens(200);
    req.reasoning = Some(Reasoning {
        effort: None,
        budget_tokens: Some(50),
    });
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!(
            "../data/generate_content_request_generation_config.json"
        ))
    );
    assert_eq!(resp.finish_reason, FinishReason::Length);
    assert!(
        resp.text()
            .starts_with("The sky is blue because of something called **Rayleigh Scattering**.")
    );
    assert_eq!(resp.usage.output_tokens, 149 + 48);
    assert_eq!(resp.usage.reasoning_tokens, 48);
    assert_eq!(resp.usage.total_tokens, 204);
}

#[tokio::test]
async fn a_candidate_without_parts_is_an_empty_answer() {
    let server = serve(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        json_response(include_str!(
            "../data/generate_content_response_max_tokens_no_parts.json"
        )),
    )
    .await;
    let p = provider_with(&server, json!({"generation_config": {"candidateCount": 1}}));
    let req = ChatRequest::new(
        "gemini-2.5-flash",
        vec![Message::user("why is the sky blue?")],
    )
    .max_tokens(20);
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!(
            "../data/generate_content_request_max_output_tokens_20.json"
        ))
    );
    assert!(resp.content.is_empty());
    assert_eq!(resp.finish_reason, FinishReason::Length);
    assert_eq!(
        resp.usage,
        Usage {
            input_tokens: 7,
            output_tokens: 19,
            reasoning_tokens: 19,
            total_tokens: 26,
            ..Usage::default()
        }
    );
}

fn divide_tool() -> Tool {
    let request = fixture(include_str!("../data/generate_content_request_tools.json"));
    let f = &request["tools"][0]["functionDeclarations"][0];
    Tool::new(
        f["name"].as_str().expect("name"),
        f["description"].as_str().expect("description"),
        f["parameters"].clone(),
    )
}

#[tokio::test]
async fn function_calling_matches_the_recording() {
    let server = serve(
        "/v1beta/models/gemini-2.0-flash:generateContent",
        json_response(include_str!(
            "../data/generate_content_response_function_call.json"
        )),
    )
    .await;
    let p = provider_with(&server, json!({"thought_signature_fallback": false}));
    let req = ChatRequest::new(
        "gemini-2.0-flash",
        vec![Message::user("what is the result of 100/2")],
    )
    .tool(divide_tool());
    let resp = p.chat(&req).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        recorded_request(include_str!("../data/generate_content_request_tools.json"))
    );
    assert_eq!(resp.finish_reason, FinishReason::ToolCalls);
    assert_eq!(resp.tool_calls.len(), 1);
    let call = &resp.tool_calls[0];
    assert_eq!(call.name, "customDivide");
    assert_eq!(
        serde_json::from_str::<Value>(&call.arguments).ok(),
        Some(json!({"denominator": 2, "numerator": 100}))
    );
    assert_eq!(
        call.id, "call_x9SfaLCQBs7shMIP2Mei0AI_0",
        "synthesized from the responseId"
    );
    assert_eq!(resp.usage, Usage::new(21, 6));
    assert!(resp.extra.contains_key("avgLogprobs"));

    // The follow-up turn replays the call as the SDK did.
    let mut next = req.clone();
    next.messages.push(resp.to_message());
    next.messages
        .push(Message::user("what is the result of 50/2?"));
    p.chat(&next).await.expect("answers");
    assert_eq!(
        sent_body(&server).await,
        recorded_request(include_str!(
            "../data/generate_content_request_tools_followup.json"
        ))
    );
    // With the default fallback the replayed call gets Google's placeholder signature.
    let p = provider(&server);
    p.chat(&next).await.expect("answers");
    assert_eq!(
        sent_body(&server).await["contents"][1]["parts"][0]["thoughtSignature"],
        json!(SKIP_THOUGHT_SIGNATURE)
    );
}

#[tokio::test]
async fn an_older_answer_with_safety_ratings_is_read() {
    let server = serve(
        "/v1beta/models/gemini-pro:generateContent",
        json_response(include_str!("../data/cookbook_response_function_call.json")),
    )
    .await;
    let resp = provider(&server)
        .chat(&ChatRequest::new(
            "gemini-pro",
            vec![Message::user(
                "Which theaters in Mountain View show Barbie movie?",
            )],
        ))
        .await
        .expect("answers");
    assert_eq!(resp.tool_calls[0].name, "find_theaters");
    assert_eq!(
        serde_json::from_str::<Value>(&resp.tool_calls[0].arguments).ok(),
        Some(json!({"movie": "Barbie", "location": "Mountain View, CA"}))
    );
    assert!(
        resp.id.starts_with("gemini-"),
        "no responseId: one is generated"
    );
    assert_eq!(
        resp.model, "gemini-pro",
        "no modelVersion: the requested model"
    );
    assert_eq!(resp.usage, Usage::default());
    assert!(resp.extra.contains_key("safetyRatings"));
    assert!(resp.extra.contains_key("promptFeedback"));
}

#[tokio::test]
async fn streaming_follows_the_recorded_events() {
    let segments: Vec<Value> = serde_json::from_str(include_str!(
        "../data/stream_generate_content_segments.json"
    ))
    .expect("array");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        ))
        .and(query_param("alt", "sse"))
        .and(header("x-goog-api-key", KEY))
        .respond_with(sse_response(sse(&segments)))
        .expect(1)
        .mount(&server)
        .await;
    let p = provider_with(&server, json!({"generation_config": {"candidateCount": 1}}));
    let req = ChatRequest::new(
        "gemini-2.5-flash",
        vec![
            Message::system("I say high you say low, and then tell me why is the sky blue."),
            Message::user("high"),
        ],
    );
    let (events, err) = collect(&p, &req).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        sent_body(&server).await,
        fixture(include_str!("../data/stream_generate_content_request.json"))
    );
    assert_eq!(
        sent(&server).await.url.query(),
        Some("alt=sse"),
        "only alt=sse in the query: the key is in a header"
    );
    assert_eq!(
        events[0],
        ChatEvent::Start {
            id: "tS77aIl-4ZvV7w_A9rTBBg".into(),
            model: "gemini-2.5-flash".into(),
            created: None,
        }
    );
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::TextDelta { .. }))
        .count();
    assert_eq!(deltas, 6);
    let n = events.len();
    assert_eq!(
        events[n - 2],
        ChatEvent::Usage(Usage {
            input_tokens: 20,
            output_tokens: 513,
            reasoning_tokens: 260,
            total_tokens: 533,
            ..Usage::default()
        }),
        "the last cumulative usage"
    );
    assert_eq!(
        events[n - 1],
        ChatEvent::Finish {
            reason: FinishReason::Stop
        }
    );
    let resp = switchboard_core::collect_stream(Box::pin(futures::stream::iter(
        events.into_iter().map(Ok),
    )))
    .await
    .expect("complete");
    assert!(resp.text().starts_with(
        "low!\n\nThe sky is blue primarily due to a phenomenon called **Rayleigh scattering**."
    ));
}

#[tokio::test]
async fn streamed_function_calls_arrive_whole() {
    let segments: Vec<Value> = serde_json::from_str(include_str!(
        "../data/stream_generate_content_function_call_segments.json"
    ))
    .expect("array");
    let server = serve(
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
        sse_response(sse(&segments)),
    )
    .await;
    let (events, err) = collect(
        &provider(&server),
        &ChatRequest::new(
            "gemini-2.0-flash",
            vec![Message::user("what is the result of 100/2")],
        )
        .tool(divide_tool()),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        &events[1..],
        &[
            ChatEvent::ToolCallStart {
                index: 0,
                id: "call_xtSfaIRs8_Sf2Q-skYe5Dg_0".into(),
                name: "customDivide".into()
            },
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments: r#"{"denominator":2,"numerator":100}"#.into()
            },
            ChatEvent::Usage(Usage::new(21, 6)),
            ChatEvent::Finish {
                reason: FinishReason::ToolCalls
            },
        ]
    );
}

#[tokio::test]
async fn raw_crlf_streams_decode_in_any_pieces() {
    let server = serve(
        "/v1beta/models/gemini-pro:streamGenerateContent",
        sse_response(include_bytes!("../data/stream_raw_crlf_basic_reply_long.sse").to_vec()),
    )
    .await;
    let (events, err) = collect(
        &provider(&server),
        &ChatRequest::new("gemini-pro", vec![Message::user("Tell me about cats")]),
    )
    .await;
    assert!(err.is_none(), "{err:?}");
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert!(text.starts_with("**Cats:**"));
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish {
            reason: FinishReason::Stop
        })
    );
}

#[tokio::test]
async fn a_blocked_prompt_is_a_content_filtered_answer() {
    let raw = include_str!("../data/stream_raw_crlf_prompt_blocked.sse");
    let server = serve(
        "/v1beta/models/gemini-pro:streamGenerateContent",
        sse_response(raw.as_bytes().to_vec()),
    )
    .await;
    let p = provider(&server);
    let req = ChatRequest::new("gemini-pro", vec![Message::user("...")]);
    let (events, err) = collect(&p, &req).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        events.last(),
        Some(&ChatEvent::Finish {
            reason: FinishReason::ContentFilter
        })
    );

    // The same body, not streamed.
    let body = raw.trim().strip_prefix("data: ").expect("one data event");
    let server = serve(
        "/v1beta/models/gemini-pro:generateContent",
        json_response(body),
    )
    .await;
    let resp = provider(&server)
        .chat(&req)
        .await
        .expect("a filtered answer, not an error");
    assert_eq!(resp.finish_reason, FinishReason::ContentFilter);
    assert!(resp.content.is_empty());
    assert_eq!(resp.extra["blockReason"], json!("SAFETY"));
}

#[tokio::test]
async fn recorded_errors_are_classified() {
    let cases: [(u16, &str, ErrorKind, &str); 4] = [
        (
            400,
            include_str!("../data/error_400_api_key_invalid.json"),
            ErrorKind::Auth,
            "API key not valid. Please pass a valid API key.",
        ),
        (
            400,
            include_str!("../data/error_400_invalid_argument_image_rejected.json"),
            ErrorKind::InvalidRequest,
            "Request contains an invalid argument.",
        ),
        (
            404,
            include_str!("../data/error_404_not_found_recorded.json"),
            ErrorKind::NotFound,
            "models/custom-gemini-2.0-flash is not found",
        ),
        (
            429,
            include_str!("../data/error_429_resource_exhausted.json"),
            ErrorKind::RateLimited { retry_after: None },
            "You exceeded your current quota",
        ),
    ];
    for (status, body, kind, message) in cases {
        // The 404 was recorded on a streaming request, with an SSE content type.
        let response = ResponseTemplate::new(status)
            .set_body_raw(body.as_bytes().to_vec(), "text/event-stream");
        let server = serve(
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            response.clone(),
        )
        .await;
        Mock::given(path("/v1beta/models/gemini-2.5-flash:generateContent"))
            .respond_with(response)
            .mount(&server)
            .await;
        let p = provider(&server);
        let req = ChatRequest::new("gemini-2.5-flash", vec![Message::user("hi")]);
        let err = p.chat(&req).await.expect_err("error status");
        assert_eq!(err.kind(), &kind, "{body}");
        assert!(err.message().starts_with(message), "{err}");
        assert_eq!(err.instance(), Some(INSTANCE));
        let err = p
            .chat_stream(&req)
            .await
            .err()
            .expect("fails before any event");
        assert_eq!(err.kind(), &kind);
    }
}

#[tokio::test]
async fn retry_info_sets_the_delay() {
    let body = json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests"}]},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "59s"}]}});
    let server = serve(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        ResponseTemplate::new(429).set_body_json(body),
    )
    .await;
    let err = provider(&server)
        .chat(&ChatRequest::new(
            "gemini-2.5-flash",
            vec![Message::user("hi")],
        ))
        .await
        .expect_err("429");
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(59)));
}

#[tokio::test]
async fn an_error_event_mid_stream_ends_the_stream() {
    let events = [
        json!({"candidates": [{"content": {"parts": [{"text": "Hel"}], "role": "model"}, "index": 0}], "responseId": "r"}),
        json!({"error": {"code": 500, "message": "An internal error has occurred.", "status": "INTERNAL"}}),
    ];
    let server = serve(
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
        sse_response(sse(&events)),
    )
    .await;
    let (seen, err) = collect(
        &provider(&server),
        &ChatRequest::new("gemini-2.5-flash", vec![Message::user("hi")]),
    )
    .await;
    let err = err.expect("error event");
    assert_eq!(
        seen.len(),
        2,
        "Start and the text before the error: {seen:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.message(), "An internal error has occurred.");
}

#[tokio::test]
async fn the_api_key_never_leaks() {
    // Echoed back by the upstream.
    let body = json!({"error": {"code": 400, "message": format!("API key not valid: {KEY}"), "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}});
    let server = serve(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        ResponseTemplate::new(400).set_body_json(body),
    )
    .await;
    let p = provider(&server);
    let req = ChatRequest::new("gemini-2.5-flash", vec![Message::user("hi")]);
    let err = p.chat(&req).await.expect_err("bad key");
    assert_eq!(err.kind(), &ErrorKind::Auth);
    assert_eq!(err.message(), "API key not valid: ***");
    let mut errors = vec![err];
    // A transport error (nothing listening) and a timeout.
    let refused = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        format!("http://{addr}")
    };
    let config: GeminiConfig =
        serde_json::from_value(json!({"api_key": KEY, "base_url": refused})).expect("valid");
    let down = GeminiProvider::new(config, ProviderContext::standalone(INSTANCE)).expect("builds");
    errors.push(down.chat(&req).await.expect_err("refused"));
    errors.push(down.chat_stream(&req).await.err().expect("refused"));
    errors.push(down.models().await.expect_err("refused"));
    let slow = serve(
        "/v1beta/models/gemini-2.5-flash:generateContent",
        json_response("{}").set_delay(std::time::Duration::from_secs(5)),
    )
    .await;
    let config: GeminiConfig = serde_json::from_value(
        json!({"api_key": KEY, "base_url": slow.uri(), "request_timeout_secs": 1}),
    )
    .expect("valid");
    let timing_out =
        GeminiProvider::new(config, ProviderContext::standalone(INSTANCE)).expect("builds");
    let timeout = timing_out.chat(&req).await.expect_err("timeout");
    assert_eq!(timeout.kind(), &ErrorKind::Timeout);
    errors.push(timeout);
    // Invalid configs.
    let bad: GeminiConfig =
        serde_json::from_value(json!({"api_key": KEY, "base_url": "nope"})).expect("parses");
    errors.push(
        GeminiProvider::new(bad, ProviderContext::standalone(INSTANCE)).expect_err("bad url"),
    );
    for e in &errors {
        let mut texts = vec![e.to_string(), format!("{e:?}")];
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            texts.push(s.to_string());
            texts.push(format!("{s:?}"));
            source = s.source();
        }
        for t in texts {
            assert!(!t.contains(KEY), "the key leaked: {t}");
        }
    }
    assert!(!format!("{p:?}").contains(KEY));
    assert!(!format!("{:?}", p.config()).contains(KEY));
    // It does reach the upstream, in the header only.
    let request = sent(&server).await;
    assert_eq!(
        request
            .headers
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok()),
        Some(KEY)
    );
    assert!(!request.url.as_str().contains(KEY));
}

#[tokio::test]
async fn models_follow_page_tokens() {
    let all = fixture(include_str!("../data/models_list_recorded.json"));
    let models = all["models"].as_array().expect("array").clone();
    let (first, second) = models.split_at(4);
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models"))
        .and(query_param("pageToken", "next page/2"))
        .respond_with(json_response(&json!({ "models": second }).to_string()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models"))
        .respond_with(json_response(
            &json!({ "models": first, "nextPageToken": "next page/2" }).to_string(),
        ))
        .mount(&server)
        .await;
    let listed = provider(&server).models().await.expect("lists");
    assert_eq!(listed.len(), 9);
    let flash = &listed[0];
    assert_eq!(flash.id, "gemini-2.5-flash");
    assert_eq!(flash.display_name.as_deref(), Some("Gemini 2.5 Flash"));
    assert_eq!(flash.context_length, Some(1_048_576));
    assert_eq!(flash.max_output_tokens, Some(65_536));
    assert!(
        flash.capabilities.streaming && flash.capabilities.tools && flash.capabilities.reasoning
    );
    assert!(!flash.capabilities.embeddings);
    let embedding = listed
        .iter()
        .find(|m| m.id == "text-embedding-004")
        .expect("listed");
    assert!(embedding.capabilities.embeddings && !embedding.capabilities.streaming);
    assert!(
        !listed[2].capabilities.reasoning,
        "gemini-2.0-flash does not think"
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1]
            .url
            .query()
            .is_some_and(|q| q.contains("pageToken=next%20page%2F2"))
    );
}

#[tokio::test]
async fn embeddings_use_batch_embed_contents() {
    let server = serve(
        "/v1beta/models/text-embedding-004:batchEmbedContents",
        json_response(include_str!(
            "../data/batch_embed_response_constructed.json"
        )),
    )
    .await;
    let p = provider(&server);
    let mut req = EmbeddingsRequest::new("text-embedding-004", vec!["a".into(), "b".into()]);
    req.dimensions = Some(8);
    req.extra
        .insert("taskType".into(), json!("RETRIEVAL_DOCUMENT"));
    let resp = p.embed(&req).await.expect("embeds");
    assert_eq!(
        sent_body(&server).await,
        json!({"requests": [
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 8, "taskType": "RETRIEVAL_DOCUMENT"},
            {"model": "models/text-embedding-004", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 8, "taskType": "RETRIEVAL_DOCUMENT"}
        ]})
    );
    assert_eq!(resp.embeddings.len(), 2);
    assert_eq!(resp.embeddings[1][0], -0.009_802_707_5);
    let three = EmbeddingsRequest::new(
        "text-embedding-004",
        vec!["a".into(), "b".into(), "c".into()],
    );
    assert_eq!(
        p.embed(&three).await.expect_err("count").kind(),
        &ErrorKind::Protocol
    );
}

#[tokio::test]
async fn reasoning_with_signatures_round_trips_through_a_stream() {
    let events = [
        json!({"candidates": [{"content": {"parts": [{"text": "The user wants Paris weather.", "thought": true}], "role": "model"}}],
               "responseId": "sig1", "modelVersion": "gemini-3-pro-preview"}),
        json!({"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "EjQKMgFyyNp8real"}], "role": "model"},
               "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 7, "totalTokenCount": 22}}),
    ];
    let server = MockServer::start().await;
    Mock::given(path(
        "/v1beta/models/gemini-3-pro-preview:streamGenerateContent",
    ))
    .respond_with(sse_response(sse(&events)))
    .mount(&server)
    .await;
    Mock::given(path("/v1beta/models/gemini-3-pro-preview:generateContent"))
        .respond_with(json_response(include_str!(
            "../data/generate_content_response_text.json"
        )))
        .mount(&server)
        .await;
    let p = provider(&server);
    let weather = Tool::new(
        "get_weather",
        "Weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let mut req = ChatRequest::new(
        "gemini-3-pro-preview",
        vec![Message::user("Weather in Paris?")],
    )
    .tool(weather);
    req.reasoning = Some(Reasoning::default());
    let stream = p.chat_stream(&req).await.expect("starts");
    let answer = switchboard_core::collect_stream(stream)
        .await
        .expect("complete");
    assert_eq!(
        sent_body(&server).await["generationConfig"],
        json!({"thinkingConfig": {"includeThoughts": true}})
    );
    assert_eq!(answer.tool_calls[0].id, "call_sig1_0");
    assert_eq!(answer.usage.output_tokens, 12);

    req.messages.push(answer.to_message());
    req.messages
        .push(Message::tool_result("call_sig1_0", "18°C"));
    p.chat(&req).await.expect("answers");
    let body = sent_body(&server).await;
    assert_eq!(
        body["contents"][1],
        json!({"role": "model", "parts": [
            {"text": "The user wants Paris weather.", "thought": true},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "EjQKMgFyyNp8real"}
        ]})
    );
    assert_eq!(
        body["contents"][2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "18°C"}}}]})
    );
}
