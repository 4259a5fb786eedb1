//! The same-format fast path for streams at the HTTP edge: a streamed
//! OpenAI request to an OpenAI-format provider goes upstream as the client
//! sent it (only `model` changed, usage asked for), and the upstream's
//! events come back as they were sent; the usage chunk only when the client
//! asked for it. Errors, cut streams and fallback before the first event
//! behave as on the full path.

use serde_json::{Value, json};

use crate::common::spawn;
use crate::forward::{Upstream, assert_output_tokens, compatible, gateway, mistral, post};

/// A stream recorded from the live OpenAI API by the official Python SDK's
/// tests (see `crates/protocol/tests/data/openai/README.md`): a role chunk,
/// content, a finish chunk, the usage chunk and `[DONE]`.
const RECORDED: &str = include_str!("../../../protocol/tests/data/openai/chat_stream_text.sse");

/// A streamed request with a vendor field the gateway has no name for.
const STREAMED: &str = r#"{"model":"up/m","messages":[{"role":"user","content":"Hi"}],"stream":true,"x_vendor_knob":[1,2.50]}"#;

/// The recorded stream without its usage event.
fn without_usage_event(stream: &str) -> String {
    stream
        .split_inclusive("\n\n")
        .filter(|e| !e.contains("\"usage\""))
        .collect()
}

#[tokio::test]
async fn a_stream_passes_through_byte_for_byte_when_the_client_asked_for_usage() {
    let upstream = Upstream::sse(RECORDED).await;
    let gw = gateway(compatible(&upstream), json!({})).await;
    let request = STREAMED.replace(
        r#""stream":true"#,
        r#""stream":true,"stream_options":{"include_usage":true}"#,
    );
    let r = post(&gw, &request).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    assert_eq!(r.headers()["x-switchboard-instance"], "up");
    assert_eq!(r.text().await.expect("body"), RECORDED);
    assert_eq!(
        upstream.received(),
        [request.replace(r#""model":"up/m""#, r#""model":"m""#)],
        "the client's bytes, only the model changed"
    );
}

#[tokio::test]
async fn usage_is_asked_for_counted_and_left_out_when_the_client_did_not_ask() {
    let upstream = Upstream::sse(RECORDED).await;
    let gw = gateway(compatible(&upstream), json!({})).await;
    let r = post(&gw, STREAMED).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), without_usage_event(RECORDED));
    assert_eq!(
        upstream.received(),
        [STREAMED
            .replace(r#""model":"up/m""#, r#""model":"m""#)
            .replace(
                r#"2.50]}"#,
                r#"2.50],"stream_options":{"include_usage":true}}"#
            )]
    );
    // The usage the client did not get still reaches the metrics.
    assert_output_tokens(&gw, 30).await;
}

/// The text of every content delta in an OpenAI stream body.
fn text_of(body: &str) -> String {
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn the_full_path_streams_when_a_route_would_change_the_request() {
    let expected = text_of(RECORDED);
    assert!(expected.len() > 20, "{expected}");
    // A preset with quirks (Mistral renames `seed`).
    let upstream = Upstream::sse(RECORDED).await;
    let gw = gateway(mistral(&upstream), json!({})).await;
    let r = post(
        &gw,
        &STREAMED.replace("\"stream\"", "\"seed\":7,\"stream\""),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.expect("body");
    assert_ne!(body, without_usage_event(RECORDED), "encoded again");
    assert_eq!(text_of(&body), expected);
    let sent: Value = serde_json::from_str(&upstream.received()[0]).expect("JSON");
    assert_eq!(sent["random_seed"], 7, "renamed: {sent}");

    // Switched off in the config.
    let upstream = Upstream::sse(RECORDED).await;
    let gw = gateway(compatible(&upstream), json!({"forward_same_format": false})).await;
    let body = post(&gw, STREAMED).await.text().await.expect("body");
    assert_ne!(body, without_usage_event(RECORDED));
    assert_eq!(text_of(&body), expected);
}

#[tokio::test]
async fn errors_in_and_before_the_stream_are_the_same_as_on_the_full_path() {
    // The first event is an error: the request fails with it (no stream).
    let first = r#"data: {"error":{"message":"model overloaded","type":"server_error","code":null}}

"#;
    // Content, then an error event; then a cut stream.
    let cut_after = RECORDED.split_inclusive("\n\n").take(3).collect::<String>();
    let midway = format!(
        "{cut_after}event: error\ndata: {{\"error\":{{\"message\":\"lost the GPU\"}}}}\n\n"
    );
    for forward in [true, false] {
        let upstream = Upstream::sse(first).await;
        let gw = gateway(
            compatible(&upstream),
            json!({"forward_same_format": forward}),
        )
        .await;
        let r = post(&gw, STREAMED).await;
        assert_eq!(r.status(), 502, "forward {forward}");
        let v: Value = r.json().await.expect("JSON");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("overloaded")),
            "forward {forward}: {v}"
        );

        for (body, says) in [
            (midway.as_str(), "lost the GPU"),
            (cut_after.as_str(), "ended before"),
        ] {
            let upstream = Upstream::sse(body).await;
            let gw = gateway(
                compatible(&upstream),
                json!({"forward_same_format": forward}),
            )
            .await;
            let r = post(&gw, STREAMED).await;
            assert_eq!(r.status(), 200, "the stream had started");
            let text = r.text().await.expect("body");
            let last = text
                .split("\n\n")
                .filter(|e| !e.is_empty())
                .last()
                .expect("events");
            let v: Value = serde_json::from_str(last.trim_start_matches("data: "))
                .unwrap_or_else(|e| panic!("forward {forward}: {e}: {text}"));
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(says)),
                "forward {forward}: {text}"
            );
            assert!(
                !text.contains("[DONE]"),
                "an error is not a finished answer"
            );
        }
    }
}

#[tokio::test]
async fn a_stream_falls_back_before_its_first_event() {
    let broken = Upstream::sse("event: error\ndata: {\"error\":{\"message\":\"busy\"}}\n\n").await;
    let good = Upstream::sse(RECORDED).await;
    let gw = spawn(json!({
        "providers": {"a": compatible(&broken), "b": compatible(&good)},
        "models": {"m": {"targets": ["a/m", "b/m"]}}
    }))
    .await;
    let r = post(&gw, &STREAMED.replace("up/m", "m")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-switchboard-instance"], "b");
    assert_eq!(r.text().await.expect("body"), without_usage_event(RECORDED));
    assert!(!broken.received().is_empty(), "tried first");
}

/// An upstream that streams `body` in HTTP chunks over keep-alive
/// connections, writing the chunked body's terminator in a write of its own
/// after the last event (as a server pacing its writes does); counts
/// connections.
async fn keep_alive_sse(
    body: &'static str,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while crate::common::read_request(&mut sock).await.is_some() {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                                transfer-encoding: chunked\r\n\r\n";
                    if sock.write_all(head.as_bytes()).await.is_err() {
                        return;
                    }
                    for event in body.split_inclusive("\n\n") {
                        let chunk = format!("{:x}\r\n{event}\r\n", event.len());
                        if sock.write_all(chunk.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    tokio::task::yield_now().await;
                    if sock.write_all(b"0\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/v1"), connections)
}

#[tokio::test]
async fn a_finished_stream_leaves_its_upstream_connection_for_the_next_request() {
    use std::sync::atomic::Ordering;
    for forward in [true, false] {
        let (base_url, connections) = keep_alive_sse(RECORDED).await;
        let gw = gateway(
            json!({"kind": "openai-compatible", "base_url": base_url, "models": ["m"]}),
            json!({"forward_same_format": forward}),
        )
        .await;
        for _ in 0..3 {
            let r = post(&gw, STREAMED).await;
            assert_eq!(r.status(), 200);
            let text = r.text().await.expect("body");
            assert!(
                text.ends_with("data: [DONE]\n\n"),
                "forward {forward}: {text}"
            );
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            1,
            "forward {forward}: one upstream connection for three streams"
        );
    }
}
