//! The shared conformance suite on Cohere's Chat v2 / Embed v2 bodies.

use serde_json::{Value, json};
use switchboard_core::{FinishReason, ResponseFormat, Tool, Usage};
use switchboard_testkit::{
    EmbeddingsScenario, EndlessStream, ErrorCase, ExpectedToolCall, Recorded, Route, Scenario,
    WireFixtures,
};

const CHAT_RESPONSE: &str = include_str!("../data/chat_response.json");
const STREAM_TEXT: &str = include_str!("../data/chat_stream_text.sse");
const TOOLS_REQUEST: &str = include_str!("../data/chat_request_tools.json");
const TOOL_CALL: &str = include_str!("../data/chat_response_tool_call_single.json");
const TOOL_CALLS: &str = include_str!("../data/chat_response_tool_calls.json");
const STREAM_TOOL_CALL: &str = include_str!("../data/chat_stream_tool_call.sse");
const STREAM_PARALLEL: &str = include_str!("../data/chat_stream_parallel_tool_calls.sse");
const IMAGE_RESPONSE: &str = include_str!("../data/chat_response_image_url.json");
const SCHEMA_REQUEST: &str = include_str!("../data/openai_chat_request_json_schema.json");
const SCHEMA_RESPONSE: &str = include_str!("../data/chat_response_json_schema.json");
const SCHEMA_CONTENT: &str = include_str!("../data/openai_chat_response_json_schema_content.txt");
const EMBED_RESPONSE: &str = include_str!("../data/embed_response.json");
const EMBED_REQUEST: &str = include_str!("../data/embed_request.json");

pub(crate) fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

fn usage(input: u64, output: u64) -> Usage {
    Usage::new(input, output)
}

/// Tool `i` of the SPEC's tools example.
pub(crate) fn spec_tool(i: usize) -> Tool {
    let request = json_of(TOOLS_REQUEST);
    let function = &request["tools"][i]["function"];
    Tool::new(
        function["name"].as_str().unwrap_or_default(),
        function["description"].as_str().unwrap_or_default(),
        function["parameters"].clone(),
    )
}

fn sales_call() -> ExpectedToolCall {
    ExpectedToolCall::new("query_daily_sales_report", json!({"day": "2023-09-29"}))
        .with_id("query_daily_sales_report_hgxxmkby3wta")
}

fn catalog_call() -> ExpectedToolCall {
    ExpectedToolCall::new("query_product_catalog", json!({"category": "Electronics"}))
        .with_id("query_product_catalog_rpg0z5h8yyz2")
}

/// Cohere's bodies, in the kit's terms.
#[derive(Debug)]
pub(crate) struct CohereFixtures;

impl WireFixtures for CohereFixtures {
    fn config(&self, base_url: &str, api_key: &str) -> Value {
        json!({ "api_key": api_key, "base_url": base_url })
    }

    fn model(&self) -> String {
        "command-a-03-2025".into()
    }

    fn chat_route(&self, _stream: bool, _model: &str) -> Route {
        Route::post("/v2/chat")
    }

    fn plain_chat(&self) -> Scenario {
        let text = json_of(CHAT_RESPONSE)["message"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Scenario::new(Recorded::json(CHAT_RESPONSE), text).usage(usage(71, 418))
    }

    fn stream_text(&self) -> Scenario {
        Scenario::new(
            Recorded::sse(STREAM_TEXT),
            "LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language.",
        )
        .usage(usage(71, 26))
    }

    fn tool_call(&self, stream: bool) -> Scenario {
        let (response, used) = if stream {
            (Recorded::sse(STREAM_TOOL_CALL), usage(1032, 80))
        } else {
            (Recorded::json(TOOL_CALL), usage(1032, 124))
        };
        Scenario::new(response, "")
            .tool(spec_tool(0))
            .tool_call(sales_call())
            .usage(used)
            .finish(FinishReason::ToolCalls)
    }

    fn parallel_tool_calls(&self, stream: bool) -> Option<Scenario> {
        let response = if stream {
            Recorded::sse(STREAM_PARALLEL)
        } else {
            Recorded::json(TOOL_CALLS)
        };
        Some(
            Scenario::new(response, "")
                .tool(spec_tool(0))
                .tool(spec_tool(1))
                .tool_call(sales_call())
                .tool_call(catalog_call())
                .usage(usage(1032, 124))
                .finish(FinishReason::ToolCalls),
        )
    }

    fn image_input(&self) -> Scenario {
        let text = json_of(IMAGE_RESPONSE)["message"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Scenario::new(Recorded::json(IMAGE_RESPONSE), text).usage(usage(71, 418))
    }

    fn json_schema(&self) -> Scenario {
        let request = json_of(SCHEMA_REQUEST);
        let format = &request["response_format"]["json_schema"];
        Scenario::new(Recorded::json(SCHEMA_RESPONSE), SCHEMA_CONTENT.trim_end())
            .response_format(ResponseFormat::JsonSchema {
                name: format["name"].as_str().unwrap_or_default().to_owned(),
                description: None,
                schema: format["schema"].clone(),
                strict: format["strict"].as_bool(),
            })
            .usage(usage(130, 170))
    }

    fn error_body(&self, _case: ErrorCase, message: &str) -> Recorded {
        // SPEC `components.responses`: every error is `{"message", "id"}`
        // (no example bodies are published).
        Recorded::json(
            json!({"id": "5a1c1b0e-7c4e-4f8e-9a60-1f0f1b2c3d4e", "message": message}).to_string(),
        )
    }

    fn endless_stream(&self) -> EndlessStream {
        let mut events = STREAM_TEXT.split("\n\n");
        let head = format!(
            "{}\n\n{}\n\n",
            events.next().unwrap_or_default(),
            events.next().unwrap_or_default()
        );
        let repeat = format!("{}\n\n", events.next().unwrap_or_default());
        EndlessStream {
            content_type: "text/event-stream".into(),
            head: head.into_bytes(),
            repeat: repeat.into_bytes(),
        }
    }

    fn embeddings(&self) -> Option<EmbeddingsScenario> {
        let request = json_of(EMBED_REQUEST);
        let response = json_of(EMBED_RESPONSE);
        let vectors = response["embeddings"]["float"]
            .as_array()
            .expect("float vectors")
            .iter()
            .map(|v| {
                v.as_array()
                    .expect("a vector")
                    .iter()
                    .map(|x| x.as_f64().expect("a number") as f32)
                    .collect()
            })
            .collect();
        Some(EmbeddingsScenario {
            route: Route::post("/v2/embed"),
            model: request["model"].as_str().unwrap_or_default().to_owned(),
            input: request["texts"]
                .as_array()
                .expect("texts")
                .iter()
                .map(|t| t.as_str().unwrap_or_default().to_owned())
                .collect(),
            response: Recorded::json(EMBED_RESPONSE),
            vectors,
            input_tokens: Some(2),
        })
    }
}

switchboard_testkit::conformance_tests!(CohereFixtures, switchboard_cohere::CohereProvider);
