//! Tests of the upstream HTTP client.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A one-connection HTTP/1.1 server that answers each request after
/// `delay`, with `body` sent in `parts` writes 10 ms apart.
async fn server(delay: Duration, body: &'static str, parts: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        loop {
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            tokio::time::sleep(delay).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: req-1\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            let step = body.len().div_ceil(parts);
            for chunk in body.as_bytes().chunks(step) {
                sock.write_all(chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    format!("http://{addr}/v1/chat")
}

fn post(url: &str) -> Request<Bytes> {
    Request::post(url)
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{}"))
        .unwrap()
}

#[tokio::test]
async fn wire_time_is_the_socket_exchange_not_the_callers_work() {
    let url = server(Duration::from_millis(40), r#"{"ok":true}"#, 3).await;
    let client = HttpClient::new(reqwest::Client::new());
    for _ in 0..2 {
        let (body, wire) = wire_time::measure(async {
            let response = client.send(post(&url)).await?;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["x-request-id"], "req-1");
            // The caller's own work between headers and body is not wire.
            tokio::time::sleep(Duration::from_millis(500)).await;
            response.bytes(1024).await
        })
        .await;
        assert_eq!(body.unwrap(), Bytes::from_static(br#"{"ok":true}"#));
        let wire = wire.unwrap();
        // 40 ms before the head; the rest of the body arrived while the
        // caller was busy, so reading it is not waiting on the upstream.
        assert!(wire >= Duration::from_millis(39), "{wire:?}");
        // Counting the caller's 500 ms would give at least 540 ms; the
        // margin above 40 ms is for a loaded machine's scheduling.
        assert!(wire < Duration::from_millis(300), "{wire:?}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_fails() {
    let url = server(Duration::ZERO, "0123456789abcdef", 2).await;
    let client = HttpClient::new(reqwest::Client::new());
    let err = client
        .send(post(&url))
        .await
        .unwrap()
        .bytes(10)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &crate::ErrorKind::Protocol);
    assert!(err.message().contains("larger than 10 bytes"), "{err}");
}

#[tokio::test]
async fn streams_arrive_in_chunks() {
    let url = server(
        Duration::from_millis(30),
        "data: a\n\ndata: b\n\ndata: c\n\n",
        3,
    )
    .await;
    let client = HttpClient::new(reqwest::Client::new());
    let started = std::time::Instant::now();
    let (chunks, wire) = wire_time::measure(async {
        let stream = client.send(post(&url)).await.unwrap().into_stream();
        stream.map(|c| c.unwrap()).collect::<Vec<Bytes>>().await
    })
    .await;
    let whole = started.elapsed();
    assert_eq!(chunks.concat(), b"data: a\n\ndata: b\n\ndata: c\n\n");
    assert!(chunks.len() >= 2, "{chunks:?}");
    // A reader that always waits: the head's 30 ms and the two 10 ms gaps.
    let wire = wire.unwrap();
    assert!(wire >= Duration::from_millis(48), "{wire:?}");
    // Never more than the call took (a loaded machine's late wake-ups are
    // in both).
    assert!(wire <= whole, "{wire:?} > {whole:?}");
}

#[tokio::test]
async fn connect_failures_are_unavailable_without_the_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = HttpClient::new(reqwest::Client::new());
    let err = client
        .send(post(&format!("http://{addr}/v1/chat?key=SECRET")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &crate::ErrorKind::Unavailable);
    assert!(err.is_retryable());
    assert!(err.message().starts_with("could not connect"), "{err}");
    assert!(!err.message().contains("SECRET"), "{err}");
}

/// A proxy that answers every request itself, saying which URL it was
/// asked for (absolute form: the request came through the proxy).
#[tokio::test]
async fn proxied_urls_go_through_reqwest() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.unwrap();
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{line}",
                line.len()
            );
            sock.write_all(answer.as_bytes()).await.unwrap();
        }
    });
    let reqwest = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(&proxy).unwrap())
        .build()
        .unwrap();
    let matcher = Matcher::builder().http(proxy).build();
    // Proxied per the environment's settings, and a caller's own client.
    for client in [
        HttpClient::build(reqwest.clone(), Some(matcher)),
        HttpClient::via_reqwest(reqwest),
    ] {
        let body = client
            .send(post("http://upstream.invalid/v1/chat"))
            .await
            .unwrap()
            .bytes(1024)
            .await
            .unwrap();
        assert_eq!(body, "POST http://upstream.invalid/v1/chat HTTP/1.1");
    }
}

/// A server that records the head of every request it gets and answers
/// `answer(its own URL)`.
async fn recording_server(
    answer: impl Fn(&str) -> String + Send + 'static,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (seen, me) = (heads.clone(), url.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 8192];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&head).to_lowercase());
            let _ = sock.write_all(answer(&me).as_bytes()).await;
        }
    });
    (url, heads)
}

/// A redirect to a second host never carries the key there through the
/// default clients (hyper's, and `default_http_client` via reqwest); a
/// caller's client that follows it makes the request fail, saying so.
#[tokio::test]
async fn credentials_never_follow_a_redirect() {
    let (second, received) = recording_server(|_| {
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".to_owned()
    })
    .await;
    let target = format!("{second}/stolen?x=1");
    let (first, _) = recording_server(move |_| {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    })
    .await;
    let request = || {
        Request::post(format!("{first}/v1/messages"))
            .header("x-api-key", "sk-SECRET")
            .header("x-goog-api-key", "g-SECRET")
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    };
    for client in [
        HttpClient::new(crate::default_http_client()),
        HttpClient::via_reqwest(crate::default_http_client()),
    ] {
        let response = client.send(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
    }
    assert!(received.lock().unwrap().is_empty(), "{received:?}");

    // A caller's client with reqwest's default policy follows the redirect:
    // the request fails, saying where the credentials may have gone.
    let following = HttpClient::via_reqwest(reqwest::Client::new());
    let err = following.send(request()).await.unwrap_err();
    assert_eq!(err.kind(), &crate::ErrorKind::Config, "{err}");
    assert!(
        err.message().contains("credentials may have been sent to")
            && err.message().contains(&second),
        "{err}"
    );
    assert!(!err.message().contains("stolen"), "{err}");
    assert!(!err.message().contains("SECRET"), "{err}");
    // (This client did carry the key over: that is why it must not follow.)
    assert!(received.lock().unwrap()[0].contains("x-api-key: sk-secret"));
}
