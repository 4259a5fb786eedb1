//! The inbound OpenAI Responses API over real HTTP, on the mock provider.

use crate::common;

use common::{Gateway, spawn};
use serde_json::{Value, json};
use switchboard_mock as _;

async fn gateway() -> Gateway {
    spawn(json!({"providers": {"m": {"kind": "mock"}}})).await
}

/// `POST /v1/responses` with `body`: the status and the JSON answer.
pub(crate) async fn create(gw: &Gateway, body: Value) -> (u16, Value) {
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(&body)
        .send()
        .await
        .expect("sends");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

/// The (event, data) pairs of an SSE body.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|f| {
            let mut lines = f.lines();
            let event = lines
                .next()
                .and_then(|l| l.strip_prefix("event: "))
                .expect("event line");
            let data = lines
                .next()
                .and_then(|l| l.strip_prefix("data: "))
                .expect("data line");
            (
                event.to_owned(),
                serde_json::from_str(data).expect("json data"),
            )
        })
        .collect()
}

fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .expect("output")
        .iter()
        .filter(|i| i["type"] == "message")
        .flat_map(|i| i["content"].as_array().expect("content").iter())
        .filter_map(|p| p["text"].as_str())
        .collect()
}

#[tokio::test]
async fn text_response_non_streaming() {
    let gw = gateway().await;
    let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": "Hello there", "instructions": "Be brief", "metadata": {"k": "v"}})).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["id"].as_str().expect("id").starts_with("resp_"));
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert!(v["created_at"].as_u64().expect("created_at") > 1_700_000_000);
    assert_eq!(output_text(&v), "You said: Hello there");
    assert_eq!(v["output"][0]["type"], "message");
    assert!(
        v["output"][0]["id"]
            .as_str()
            .expect("id")
            .starts_with("msg_")
    );
    assert_eq!(v["instructions"], "Be brief");
    assert_eq!(v["metadata"], json!({"k": "v"}));
    assert_eq!(v["usage"]["output_tokens"], 4);
    assert!(v["usage"]["input_tokens"].as_u64().expect("input") > 0);
}

#[tokio::test]
async fn text_response_streaming() {
    let gw = gateway().await;
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(&json!({"model": "m/mock-1", "input": "Hello there", "stream": true}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let ev = events(&r.text().await.expect("body"));
    let names: Vec<&str> = ev.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        &names[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(
        &names[names.len() - 4..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    for (i, (_, d)) in ev.iter().enumerate() {
        assert_eq!(d["sequence_number"], i);
    }
    let text: String = ev
        .iter()
        .filter(|(e, _)| e == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().expect("delta"))
        .collect();
    assert_eq!(text, "You said: Hello there");
    let done = &ev.last().expect("last").1["response"];
    assert_eq!(output_text(done), text);
    assert_eq!(done["usage"]["output_tokens"], 4);
    // A streamed response is stored too.
    let id = done["id"].as_str().expect("id");
    let mut stored = Value::Null;
    for _ in 0..250 {
        let r = gw
            .http
            .get(gw.url(&format!("/v1/responses/{id}")))
            .send()
            .await
            .expect("sends");
        if r.status() == 200 {
            stored = r.json().await.expect("json");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(stored["id"], id);
    assert_eq!(output_text(&stored), text);
}

#[tokio::test]
async fn tools_round_trip_with_previous_response_id() {
    let gw = gateway().await;
    let tools = json!([{"type": "function", "name": "get_weather", "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let (status, first) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "Weather in Paris?", "tools": tools}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let call = &first["output"][0];
    assert_eq!(call["type"], "function_call");
    assert!(call["id"].as_str().expect("id").starts_with("fc_"));
    assert_eq!(call["call_id"], "call_mock_0");
    assert_eq!(call["name"], "get_weather");
    let args: Value = serde_json::from_str(call["arguments"].as_str().expect("arguments"))
        .expect("JSON arguments");
    assert!(args["city"].is_string());
    let (status, second) = create(&gw, json!({"model": "m/mock-1", "tools": tools,
        "previous_response_id": first["id"],
        "input": [{"type": "function_call_output", "call_id": "call_mock_0", "output": "22C and windy"}]})).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(output_text(&second), "Tool result received: 22C and windy");
    assert_eq!(second["previous_response_id"], first["id"]);
}

#[tokio::test]
async fn tool_call_streaming() {
    let gw = gateway().await;
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(&json!({"model": "m/mock-1", "input": "Weather?", "stream": true,
            "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}]}))
        .send()
        .await
        .expect("sends");
    let ev = events(&r.text().await.expect("body"));
    let added = ev
        .iter()
        .find(|(e, _)| e == "response.output_item.added")
        .expect("added");
    assert_eq!(added.1["item"]["type"], "function_call");
    assert_eq!(added.1["item"]["status"], "in_progress");
    let args: String = ev
        .iter()
        .filter(|(e, _)| e == "response.function_call_arguments.delta")
        .map(|(_, d)| d["delta"].as_str().expect("delta"))
        .collect();
    let done = ev
        .iter()
        .find(|(e, _)| e == "response.function_call_arguments.done")
        .expect("done");
    assert_eq!(done.1["arguments"], args.as_str());
    assert!(serde_json::from_str::<Value>(&args).expect("JSON")["a"].is_i64());
    assert_eq!(ev.last().expect("last").0, "response.completed");
}

#[tokio::test]
async fn structured_output() {
    let gw = gateway().await;
    let schema = json!({"type": "object", "properties": {"animals": {"type": "array", "items": {"type": "string"}}}, "required": ["animals"], "additionalProperties": false});
    let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": "Five animals",
        "text": {"format": {"type": "json_schema", "name": "list", "schema": schema, "strict": true}}})).await;
    assert_eq!(status, 200, "{v}");
    let parsed: Value = serde_json::from_str(&output_text(&v)).expect("the text is JSON");
    assert!(parsed["animals"].is_array());
    assert_eq!(v["text"]["format"]["name"], "list");
}

#[tokio::test]
async fn previous_response_id_chain_prepends_the_conversation() {
    let gw = gateway().await;
    let (_, first) = create(&gw, json!({"model": "m/mock-1", "input": "one"})).await;
    let (_, second) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "two", "previous_response_id": first["id"]}),
    )
    .await;
    let (_, third) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "three", "previous_response_id": second["id"]}),
    )
    .await;
    assert_eq!(output_text(&third), "You said: three");
    let alone = create(&gw, json!({"model": "m/mock-1", "input": "three"}))
        .await
        .1;
    assert!(
        third["usage"]["input_tokens"].as_u64() > alone["usage"]["input_tokens"].as_u64(),
        "the chain's earlier turns were sent: {} vs {}",
        third["usage"],
        alone["usage"]
    );
    let (status, err) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "x", "previous_response_id": "resp_nope"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["param"], "previous_response_id");
}

#[tokio::test]
async fn get_delete_and_404() {
    let gw = gateway().await;
    let (_, v) = create(&gw, json!({"model": "m/mock-1", "input": "keep me"})).await;
    let id = v["id"].as_str().expect("id");
    let url = gw.url(&format!("/v1/responses/{id}"));
    let got: Value = gw
        .http
        .get(&url)
        .send()
        .await
        .expect("sends")
        .json()
        .await
        .expect("json");
    assert_eq!(got, v);
    let r = gw.http.delete(&url).send().await.expect("sends");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"id": id, "object": "response", "deleted": true})
    );
    let r = gw.http.get(&url).send().await.expect("sends");
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.expect("json");
    assert_eq!(
        body,
        json!({"error": {"message": format!("Response with id '{id}' not found."), "type": "invalid_request_error", "param": null, "code": null}})
    );
    // The shape OpenAI answers (recorded), message aside.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocol/tests/data/openai_responses/error_404_response_not_found_recorded.json"
    );
    let mut recorded: Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("json");
    recorded["error"]["message"] = body["error"]["message"].clone();
    assert_eq!(body, recorded);
    assert_eq!(
        gw.http.delete(&url).send().await.expect("sends").status(),
        404
    );
    // store: false keeps nothing.
    let (_, v) = create(
        &gw,
        json!({"model": "m/mock-1", "input": "forget me", "store": false}),
    )
    .await;
    let r = gw
        .http
        .get(gw.url(&format!("/v1/responses/{}", v["id"].as_str().expect("id"))))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn errors_in_openai_shape_and_mid_stream() {
    let gw = gateway().await;
    let (status, v) = create(&gw, json!({"model": "m/mock-1", "input": 3})).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["param"], "input");
    let (status, v) = create(&gw, json!({"model": "m/nope", "input": "x"})).await;
    assert_eq!(status, 404, "{v}");
    assert!(v["error"]["message"].is_string());
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(
            &json!({"model": "m/mock-1", "input": "a b c d e f", "stream": true,
            "mock": {"fault": {"kind": "unavailable", "after_events": 3}}}),
        )
        .send()
        .await
        .expect("sends");
    let ev = events(&r.text().await.expect("body"));
    let n = ev.len();
    assert_eq!(ev[n - 2].0, "error");
    assert_eq!(ev[n - 1].0, "response.failed");
    assert_eq!(ev[n - 1].1["response"]["status"], "failed");
}

#[tokio::test]
async fn reasoning_items_with_summaries() {
    let gw = gateway().await;
    let body = json!({"model": "m/mock-1", "input": "why", "reasoning": {"effort": "low", "summary": "auto"}});
    let (status, v) = create(&gw, body.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["output"][0]["type"], "reasoning");
    assert!(
        v["output"][0]["id"]
            .as_str()
            .expect("id")
            .starts_with("rs_")
    );
    assert_eq!(v["output"][0]["summary"][0]["type"], "summary_text");
    assert_eq!(v["output"][0]["summary"][0]["text"], "Thinking about: why");
    assert_eq!(v["output"][1]["type"], "message");
    assert_eq!(v["reasoning"]["effort"], "low");
    let mut body = body;
    body["stream"] = json!(true);
    let r = gw
        .http
        .post(gw.url("/v1/responses"))
        .json(&body)
        .send()
        .await
        .expect("sends");
    let ev = events(&r.text().await.expect("body"));
    let summary: String = ev
        .iter()
        .filter(|(e, _)| e == "response.reasoning_summary_text.delta")
        .map(|(_, d)| d["delta"].as_str().expect("delta"))
        .collect();
    assert_eq!(summary, "Thinking about: why");
    let done = &ev.last().expect("last").1["response"];
    assert_eq!(done["output"][0]["summary"][0]["text"], summary.as_str());
    assert_eq!(output_text(done), output_text(&v));
}
