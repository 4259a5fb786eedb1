//! The in-flight gauge counts each request until its answer is written or
//! the client goes away: exact under disconnects, streams included.

use crate::common;

use std::time::{Duration, Instant};

use common::{Gateway, spawn};
use futures::StreamExt;
use serde_json::json;

/// `switchboard_in_flight_requests`, not counting the scrape itself.
async fn in_flight(gw: &Gateway) -> f64 {
    let text = gw.metrics().await;
    let value: f64 = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("switchboard_in_flight_requests ")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no in-flight gauge in\n{text}"));
    value - 1.0
}

async fn settles_at(gw: &Gateway, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let got = in_flight(gw).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "in-flight gauge is {got}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn request(model: &str) -> serde_json::Value {
    json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "one two three four five six seven eight"}]})
}

#[tokio::test]
async fn the_gauge_returns_to_zero_when_clients_disconnect() {
    let gw = spawn(json!({"providers": {
        "slow_start": {"kind": "mock", "first_token_latency_ms": 10_000},
        "slow_tokens": {"kind": "mock", "token_delay_ms": 300}
    }}))
    .await;
    // Gone while the handler waits for the first event.
    let pending = {
        let http = gw.http.clone();
        let url = gw.url("/v1/chat/completions");
        tokio::spawn(async move {
            http.post(url)
                .json(&request("slow_start/mock-1"))
                .send()
                .await
        })
    };
    settles_at(&gw, 1.0).await;
    pending.abort();
    settles_at(&gw, 0.0).await;
    // Gone in the middle of a slow stream, which counts until then.
    let r = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&request("slow_tokens/mock-1"))
        .send()
        .await
        .expect("sends");
    assert_eq!(r.status(), 200);
    let mut body = r.bytes_stream();
    body.next().await.expect("a frame").expect("bytes");
    settles_at(&gw, 1.0).await;
    drop(body);
    settles_at(&gw, 0.0).await;
}
