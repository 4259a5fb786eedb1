//! Upstreams that wiremock cannot play: one that streams forever and reports
//! when the client hangs up, and an address where nothing listens.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::fixtures::EndlessStream;

/// An HTTP/1.1 server on `127.0.0.1` that answers its first request with a
/// chunked body that never ends, and reports when the client closes the
/// connection (a read returns end-of-file, or a write fails).
#[derive(Debug)]
pub struct EndlessUpstream {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    closed: oneshot::Receiver<Instant>,
    task: tokio::task::JoinHandle<()>,
}

impl EndlessUpstream {
    /// Starts the server.
    pub async fn start(stream: EndlessStream) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            if let Ok((socket, _)) = listener.accept().await {
                let at = serve(socket, &stream).await;
                let _ = tx.send(at);
            }
        });
        Ok(EndlessUpstream {
            base_url,
            closed: rx,
            task,
        })
    }

    /// Waits up to `limit` for the client to close the connection; returns
    /// when it was seen closed.
    pub async fn closed_within(&mut self, limit: Duration) -> Option<Instant> {
        tokio::time::timeout(limit, &mut self.closed)
            .await
            .ok()
            .and_then(Result::ok)
    }
}

impl Drop for EndlessUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the request, then streams until the peer goes away; returns when
/// that was noticed.
async fn serve(mut socket: TcpStream, stream: &EndlessStream) -> Instant {
    if read_request(&mut socket).await.is_err() {
        return Instant::now();
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ntransfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n",
        stream.content_type
    );
    let (mut rd, mut wr) = socket.into_split();
    let writer = async {
        if wr.write_all(head.as_bytes()).await.is_err()
            || wr.write_all(&chunk(&stream.head)).await.is_err()
        {
            return;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if wr.write_all(&chunk(&stream.repeat)).await.is_err() || wr.flush().await.is_err() {
                return;
            }
        }
    };
    let reader = async {
        let mut buf = [0u8; 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    Instant::now()
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// Reads one request's head and its `content-length` body.
async fn read_request(socket: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        let n = socket.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
    }
    Ok(())
}

/// A `http://127.0.0.1:<port>` URL where nothing listens (a port that was
/// just bound and released).
pub async fn refused_base_url() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("http://{addr}"))
}
