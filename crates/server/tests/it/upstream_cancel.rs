//! A client that goes away mid-stream makes the gateway close its upstream
//! HTTP connection: observed by the upstream itself.

use crate::common;

use std::time::Duration;

use common::{spawn, sse_data};
use futures::StreamExt;
use serde_json::json;
use switchboard_openai_compatible as _;
use switchboard_testkit::{EndlessStream, EndlessUpstream};

fn chunk(content: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    )
}

#[tokio::test]
async fn client_disconnect_closes_the_upstream_connection() {
    let mut upstream = EndlessUpstream::start(EndlessStream {
        content_type: "text/event-stream".into(),
        head: chunk("start ").into_bytes(),
        repeat: chunk("more ").into_bytes(),
    })
    .await
    .expect("upstream starts");
    let gw = spawn(json!({"providers": {"up": {
        "kind": "openai-compatible",
        "base_url": format!("{}/v1", upstream.base_url),
        "models": ["m"]
    }}}))
    .await;
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({"model": "up/m", "stream": true, "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    let mut frames = 0;
    while frames < 5 {
        let chunk = body.next().await.expect("more").expect("bytes");
        frames += sse_data(&String::from_utf8_lossy(&chunk)).len();
    }
    assert!(
        upstream
            .closed_within(Duration::from_millis(200))
            .await
            .is_none(),
        "the upstream connection stays open while the client reads"
    );
    drop(body);
    assert!(
        upstream
            .closed_within(Duration::from_secs(3))
            .await
            .is_some(),
        "the upstream never saw the connection close after the client left"
    );
}
