//! An HTTP/2 client that keeps its connection alive but never reopens one
//! stream's flow-control window does not pin that stream's upstream: the
//! per-stream send deadline (`server.write_timeout_ms`) drops it.

use crate::common::spawn;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ChatStream, Error, Provider, ProviderContext,
    ProviderInit, async_trait, provider,
};

static TRICKLE_DROPPED: AtomicBool = AtomicBool::new(false);
static TRICKLE_EVENTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct TrickleConfig {}

/// A provider whose stream produces 4 KiB events as fast as they are read.
#[provider(name = "trickle", config = TrickleConfig, capabilities(streaming))]
#[derive(Debug)]
pub(crate) struct Trickle;

#[async_trait]
impl ProviderInit for Trickle {
    type Config = TrickleConfig;
    async fn init(_: TrickleConfig, _: ProviderContext) -> Result<Self, Error> {
        Ok(Trickle)
    }
}

struct DropFlag;
impl Drop for DropFlag {
    fn drop(&mut self) {
        TRICKLE_DROPPED.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for Trickle {
    async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unsupported("trickle only streams"))
    }

    async fn chat_stream(&self, _: &ChatRequest) -> Result<ChatStream, Error> {
        let first = futures::stream::iter([Ok(ChatEvent::Start {
            id: "t".into(),
            model: "trickle".into(),
            created: None,
        })]);
        let text = "y".repeat(4 * 1024);
        let rest = futures::stream::unfold(DropFlag, move |guard| {
            let text = text.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                TRICKLE_EVENTS.fetch_add(1, Ordering::SeqCst);
                Some((Ok(ChatEvent::TextDelta { text }), guard))
            }
        });
        Ok(Box::pin(futures::StreamExt::chain(first, rest)))
    }
}

#[tokio::test]
async fn an_http2_stream_whose_window_stays_shut_drops_its_upstream() {
    let gw = spawn(json!({
        "server": {"write_timeout_ms": 300},
        "providers": {"t": {"kind": "trickle"}}
    }))
    .await;
    let tcp = tokio::net::TcpStream::connect(gw.addr)
        .await
        .expect("connects");
    // A 16 KiB stream window the client never gives back; the connection
    // window stays large and the connection itself stays healthy.
    let (client, connection) = h2::client::Builder::new()
        .initial_window_size(16 * 1024)
        .initial_connection_window_size(1 << 20)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .expect("handshakes");
    let driver = tokio::spawn(connection);
    let mut client = client.ready().await.expect("ready");
    let body =
        json!({"model": "t/m", "stream": true, "messages": [{"role": "user", "content": "x"}]})
            .to_string();
    let request = http::Request::post(gw.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(())
        .expect("request");
    let (response, mut send) = client.send_request(request, false).expect("sends");
    send.send_data(bytes::Bytes::from(body), true)
        .expect("sends the body");
    let response = response.await.expect("answers");
    assert_eq!(response.status(), 200);
    // From now on the client reads nothing and releases no capacity.
    let _body = response.into_body();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !TRICKLE_DROPPED.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "an HTTP/2 stream with a shut window still pins its upstream ({} events produced)",
            TRICKLE_EVENTS.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The connection is still usable for other requests.
    let mut client = client.ready().await.expect("the connection lives on");
    let (health, _) = client
        .send_request(
            http::Request::get(gw.url("/healthz"))
                .body(())
                .expect("request"),
            true,
        )
        .expect("sends");
    assert_eq!(health.await.expect("answers").status(), 200);
    driver.abort();
}
