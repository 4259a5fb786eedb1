//! Answers: echo, script, streaming, timing, tools, formats, reasoning, limits.

use crate::common;

use std::time::Duration;

use common::{check, events, mock, req, with_override};
use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    ChatEvent, ChatRequest, ContentPart, ErrorKind, FinishReason, Message, Provider,
    ProviderContext, Reasoning, ResponseFormat, Tool, ToolChoice, Usage, collect_stream,
};
use switchboard_mock::{MOCK_CREATED, MockConfig, MockProvider, REASONING_SIGNATURE};
use tokio::time::Instant;

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "Current weather",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "verbose": {"type": "boolean"}
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": false
        }),
    )
}

#[tokio::test]
async fn echoes_the_last_user_message() {
    let m = mock(json!({}));
    let mut r = req("first");
    r.messages.push(Message::assistant("ok"));
    r.messages.push(Message::user("Hello there"));
    let a = m.chat(&r).await.unwrap();
    assert_eq!(a.text(), "You said: Hello there");
    assert_eq!(a.finish_reason, FinishReason::Stop);
    assert_eq!(
        (a.id.as_str(), a.model.as_str()),
        ("chatcmpl-mock-0", "mock-1")
    );
    assert_eq!((a.provider.as_str(), a.created), ("mock", MOCK_CREATED));
    // input: first(1) + ok(1) + Hello there(2); output: You said: Hello there.
    assert_eq!(a.usage, Usage::new(4, 4));
    assert_eq!(m.chat(&r).await.unwrap().id, "chatcmpl-mock-1");
}

#[tokio::test]
async fn script_cycles_in_order() {
    let m = mock(json!({"script": ["one", "two words"]}));
    let mut texts = Vec::new();
    for _ in 0..3 {
        texts.push(m.chat(&req("x")).await.unwrap().text());
    }
    assert_eq!(texts, ["one", "two words", "one"]);
    let streamed = collect_stream(m.chat_stream(&req("x")).await.unwrap())
        .await
        .unwrap();
    assert_eq!(streamed.text(), "two words");
    // An explicit echo mode ignores the script.
    let echo = mock(json!({"mode": "echo", "script": ["one"]}));
    assert_eq!(echo.chat(&req("hi")).await.unwrap().text(), "You said: hi");
}

#[tokio::test]
async fn streams_word_by_word() {
    let m = mock(json!({}));
    let evs = events(&m, &req("Hello  world")).await;
    let text = |t: &str| ChatEvent::TextDelta { text: t.into() };
    assert_eq!(
        evs,
        vec![
            ChatEvent::Start {
                id: "chatcmpl-mock-0".into(),
                model: "mock-1".into(),
                created: Some(switchboard_mock::MOCK_CREATED),
            },
            text("You"),
            text(" said:"),
            text(" Hello"),
            text("  world"),
            ChatEvent::Usage(Usage::new(2, 4)),
            ChatEvent::Finish {
                reason: FinishReason::Stop
            },
        ]
    );
}

/// Requests of every answer shape, for the chat/stream equivalence check.
fn shapes() -> Vec<ChatRequest> {
    let mut tool = req("weather?").tool(weather_tool());
    tool.reasoning = Some(Reasoning::default());
    let mut json_fmt = req("as json");
    json_fmt.response_format = Some(ResponseFormat::JsonObject);
    let mut after_tool = tool.clone();
    after_tool
        .messages
        .push(Message::assistant_tool_calls(vec![]));
    after_tool
        .messages
        .push(Message::tool_result("call_mock_0", "sunny"));
    vec![
        req("plain text"),
        tool,
        json_fmt,
        after_tool,
        req("one two three four").max_tokens(2),
    ]
}

#[tokio::test]
async fn chat_equals_collected_stream() {
    let config = json!({"script": ["a b", "c"], "mode": "script"});
    let (a, b) = (mock(config.clone()), mock(config));
    for r in shapes() {
        let direct = a.chat(&r).await.unwrap();
        let mut streamed = collect_stream(b.chat_stream(&r).await.unwrap())
            .await
            .unwrap();
        streamed.provider = "mock".into();
        streamed.created = MOCK_CREATED;
        assert_eq!(direct, streamed, "{r:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn honours_delays() {
    let m = mock(json!({"first_token_latency_ms": 100, "token_delay_ms": 10}));
    let t0 = Instant::now();
    let mut stream = m.chat_stream(&req("a b")).await.unwrap();
    assert_eq!(t0.elapsed(), Duration::ZERO, "the stream is lazy");
    let mut at = Vec::new();
    while let Some(ev) = stream.next().await {
        at.push((t0.elapsed().as_millis(), ev.unwrap()));
    }
    let times: Vec<u128> = at.iter().map(|(t, _)| *t).collect();
    // Start, You, said:, a, b, Usage, Finish.
    assert_eq!(times, [100, 100, 110, 120, 130, 140, 140]);

    let t1 = Instant::now();
    m.chat(&req("a b")).await.unwrap();
    assert_eq!(t1.elapsed(), Duration::from_millis(140));

    let t2 = Instant::now();
    let fast = with_override(req("a b"), json!({"delay_ms": 5, "token_delay_ms": 0}));
    m.chat(&fast).await.unwrap();
    assert_eq!(t2.elapsed(), Duration::from_millis(5));
}

#[tokio::test(start_paused = true)]
async fn stops_when_dropped_or_cancelled() {
    let config: MockConfig = serde_json::from_value(json!({"token_delay_ms": 1000})).unwrap();
    let ctx = ProviderContext::standalone("slow");
    let cancel = ctx.cancel.clone();
    let m = MockProvider::with_context(config, ctx).unwrap();
    let t0 = Instant::now();
    let mut stream = m.chat_stream(&req("a b c d")).await.unwrap();
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::Start { .. }))
    ));
    assert!(matches!(
        stream.next().await,
        Some(Ok(ChatEvent::TextDelta { .. }))
    ));
    cancel.cancel();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Cancelled);
    assert_eq!(err.instance(), Some("slow"));
    assert!(stream.next().await.is_none());
    assert_eq!(t0.elapsed(), Duration::ZERO);
    // A dropped stream costs nothing: taking two events takes no token delay.
    let fresh = mock(json!({"token_delay_ms": 1000}));
    let first: Vec<_> = fresh
        .chat_stream(&req("a b c"))
        .await
        .unwrap()
        .take(2)
        .collect()
        .await;
    assert_eq!(first.len(), 2);
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn calls_tools_with_schema_valid_arguments() {
    let m = mock(json!({}));
    let r = req("weather in Paris?").tool(weather_tool());
    let a = m.chat(&r).await.unwrap();
    assert_eq!(a.finish_reason, FinishReason::ToolCalls);
    assert!(a.content.is_empty());
    let call = &a.tool_calls[0];
    assert_eq!(
        (call.id.as_str(), call.name.as_str()),
        ("call_mock_0", "get_weather")
    );
    let args: Value = serde_json::from_str(&call.arguments).unwrap();
    assert_eq!(args, json!({"city": "mock", "unit": "celsius", "days": 1}));
    check(&weather_tool().parameters, &args).unwrap();

    let evs = events(&m, &r).await;
    assert_eq!(
        evs[1],
        ChatEvent::ToolCallStart {
            index: 0,
            id: "call_mock_0".into(),
            name: "get_weather".into()
        }
    );
    let fragments: Vec<&str> = evs
        .iter()
        .filter_map(|e| match e {
            ChatEvent::ToolCallDelta {
                index: 0,
                arguments,
            } => Some(arguments.as_str()),
            _ => None,
        })
        .collect();
    assert!(fragments.len() >= 2);
    assert_eq!(fragments.concat(), call.arguments);
    let Some(ChatEvent::Usage(usage)) = evs.iter().rev().nth(1) else {
        panic!("usage")
    };
    assert_eq!(usage.output_tokens, fragments.len() as u64);

    // tool_choice picks the named tool, `none` disables tools.
    let other = Tool::new(
        "lookup",
        "d",
        json!({"type": "object", "properties": {"q": {"type": "string"}}}),
    );
    let mut named = r.clone().tool(other);
    named.tool_choice = Some(ToolChoice::Tool("lookup".into()));
    let a = m.chat(&named).await.unwrap();
    assert_eq!(a.tool_calls[0].name, "lookup");
    assert_eq!(a.tool_calls[0].arguments, r#"{"q":"mock"}"#);
    named.tool_choice = Some(ToolChoice::None);
    let a = m.chat(&named).await.unwrap();
    assert!(a.tool_calls.is_empty());
    assert_eq!(a.text(), "You said: weather in Paris?");
}

#[test]
fn generated_arguments_validate() {
    let schemas = [
        json!({"type": "object", "properties": {"a": {"type": "string", "minLength": 10, "maxLength": 12}}}),
        json!({"type": "object", "properties": {"n": {"type": "number", "minimum": -2.5}, "t": {"type": "array", "items": {"type": "boolean"}, "minItems": 3}}, "required": ["n", "t"]}),
        json!({"type": "object", "properties": {"o": {"type": "object", "properties": {"x": {"type": "integer", "maximum": 0}}, "required": ["x"]}, "c": {"const": "fixed"}}, "required": ["o", "c"]}),
        json!({"type": "object", "properties": {"e": {"anyOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]}, "z": {"type": "null"}}}),
        json!({"type": "object"}),
    ];
    for schema in schemas {
        let value = switchboard_mock::generate_from_schema(&schema);
        check(&schema, &value).unwrap_or_else(|e| panic!("{schema} -> {value}: {e}"));
    }
}

#[tokio::test]
async fn a_tool_result_turn_answers_text() {
    let m = mock(json!({}));
    let mut r = req("weather?").tool(weather_tool());
    let first = m.chat(&r).await.unwrap();
    r.messages.push(first.to_message());
    r.messages
        .push(Message::tool_result(&first.tool_calls[0].id, "sunny, 21 C"));
    let a = m.chat(&r).await.unwrap();
    assert_eq!(a.text(), "Tool result received: sunny, 21 C");
    assert_eq!(a.finish_reason, FinishReason::Stop);
    assert!(a.tool_calls.is_empty());
}

#[tokio::test]
async fn follows_json_response_formats() {
    let m = mock(json!({}));
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18}},
        "required": ["name", "age"],
        "additionalProperties": false
    });
    let mut r = req("who?");
    r.response_format = Some(ResponseFormat::JsonSchema {
        name: "person".into(),
        description: None,
        schema: schema.clone(),
        strict: Some(true),
    });
    let value: Value = serde_json::from_str(&m.chat(&r).await.unwrap().text()).unwrap();
    assert_eq!(value, json!({"name": "mock", "age": 18}));
    check(&schema, &value).unwrap();
    r.response_format = Some(ResponseFormat::JsonObject);
    let value: Value = serde_json::from_str(&m.chat(&r).await.unwrap().text()).unwrap();
    assert_eq!(value, json!({"reply": "You said: who?"}));
}

#[tokio::test]
async fn reasons_first_when_asked() {
    let m = mock(json!({}));
    let mut r = req("why sky blue");
    r.reasoning = Some(Reasoning {
        budget_tokens: Some(100),
        ..Default::default()
    });
    let a = m.chat(&r).await.unwrap();
    assert_eq!(
        a.content,
        vec![
            ContentPart::Reasoning {
                text: "Thinking about: why sky blue".into(),
                signature: Some(REASONING_SIGNATURE.into()),
                redacted: None,
                origin: Some(switchboard_mock::ORIGIN.into()),
            },
            ContentPart::text("You said: why sky blue"),
        ]
    );
    assert_eq!(
        (
            a.usage.reasoning_tokens,
            a.usage.output_tokens,
            a.usage.total_tokens
        ),
        (5, 10, 13)
    );
    let evs = events(&m, &r).await;
    assert_eq!(
        evs[1],
        ChatEvent::ReasoningDelta {
            text: "Thinking".into()
        }
    );
    assert_eq!(
        evs[6],
        ChatEvent::ReasoningSignature {
            signature: "mock-signature".into(),
            origin: Some("mock".into())
        }
    );
    assert_eq!(evs[7], ChatEvent::TextDelta { text: "You".into() });
}

#[tokio::test]
async fn max_tokens_truncates_with_length() {
    let m = mock(json!({"models": ["mock-1", {"id": "tiny", "max_output_tokens": 3}]}));
    let a = m.chat(&req("one two three").max_tokens(2)).await.unwrap();
    assert_eq!(a.text(), "You said:");
    assert_eq!(a.finish_reason, FinishReason::Length);
    assert_eq!(a.usage.output_tokens, 2);
    // The model's own limit applies too, and a roomy max_tokens changes nothing.
    let mut tiny = req("one two three").max_tokens(100);
    tiny.model = "tiny".into();
    let a = m.chat(&tiny).await.unwrap();
    assert_eq!(
        (a.text().as_str(), a.finish_reason),
        ("You said: one", FinishReason::Length)
    );
    let a = m.chat(&req("one").max_tokens(3)).await.unwrap();
    assert_eq!(
        (a.text().as_str(), a.finish_reason),
        ("You said: one", FinishReason::Stop)
    );
    // A truncated tool call ends with `length` too.
    let a = m
        .chat(&req("w").tool(weather_tool()).max_tokens(1))
        .await
        .unwrap();
    assert_eq!(a.finish_reason, FinishReason::Length);
    assert_eq!(a.tool_calls[0].arguments.chars().count(), 8);
}

#[tokio::test]
async fn stop_sequences_and_reply_override() {
    let m = mock(json!({}));
    let mut r = req("a. b");
    r.stop = vec![".".into()];
    assert_eq!(m.chat(&r).await.unwrap().text(), "You said: a");
    let r = with_override(
        req("x").tool(weather_tool()),
        json!({"reply": "Forced answer"}),
    );
    let a = m.chat(&r).await.unwrap();
    assert_eq!(
        (a.text().as_str(), a.finish_reason),
        ("Forced answer", FinishReason::Stop)
    );
    // Other extra keys are ignored.
    let mut r = req("x");
    r.extra.insert("logprobs".into(), json!(true));
    assert_eq!(m.chat(&r).await.unwrap().text(), "You said: x");
}

#[tokio::test]
async fn empty_and_odd_inputs_do_not_panic() {
    let m = mock(json!({}));
    let only_system = ChatRequest::new("mock-1", vec![Message::system("be nice")]);
    assert_eq!(m.chat(&only_system).await.unwrap().text(), "You said: ");
    let image = ChatRequest::new(
        "mock-1",
        vec![Message {
            content: vec![ContentPart::image_url("https://example.com/a.png")],
            ..Message::user("")
        }],
    );
    let a = m.chat(&image).await.unwrap();
    assert_eq!((a.text().as_str(), a.usage.input_tokens), ("You said: ", 0));
    let r = with_override(req("x"), json!({"reply": ""}));
    let a = m.chat(&r).await.unwrap();
    assert!(a.content.is_empty());
    assert_eq!(a.usage.output_tokens, 0);
}
