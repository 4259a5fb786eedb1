//! Timing paced streams on the client side: when each text frame arrives,
//! for one stream at a time (time to first token, the gaps between frames)
//! or thousands at once (does any stall).
//!
//! Async (tokio, one thread): thousands of open streams are thousands of
//! sockets, not thousands of threads competing with the upstream for the
//! same core.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::Percentiles;

/// What the client saw of one stream.
#[derive(Debug, Clone)]
pub(super) struct StreamTiming {
    /// From the request's last byte written to the first text frame.
    pub(super) ttft: Duration,
    /// Between consecutive text frames.
    pub(super) gaps: Vec<Duration>,
    /// Text frames received.
    pub(super) frames: usize,
}

/// One request to stream: where and what.
#[derive(Debug, Clone)]
pub(super) struct StreamRequest {
    /// Where it listens.
    pub(super) addr: SocketAddr,
    /// The request path.
    pub(super) path: String,
    /// The JSON body (with `"stream":true`).
    pub(super) body: String,
}

/// Whether an SSE event carries text (`"content":"` then a character).
fn has_text(event: &[u8]) -> bool {
    let needle = b"\"content\":\"";
    event
        .windows(needle.len() + 1)
        .any(|w| &w[..needle.len()] == needle && w[needle.len()] != b'"')
}

/// One streamed request on a new connection, every text frame timed.
async fn one(req: &StreamRequest) -> anyhow::Result<StreamTiming> {
    let mut conn = TcpStream::connect(req.addr)
        .await
        .with_context(|| format!("cannot connect {}", req.addr))?;
    conn.set_nodelay(true)?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-client\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        req.path,
        req.addr,
        req.body.len()
    );
    conn.write_all(format!("{head}{}", req.body).as_bytes())
        .await?;
    let sent = Instant::now();
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut scanned = 0; // where the next event starts in `buf`
    let mut arrivals: Vec<Instant> = Vec::with_capacity(128);
    let mut done = false;
    let mut read = [0u8; 16 * 1024];
    while !done {
        let n = conn.read(&mut read).await?;
        let now = Instant::now();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&read[..n]);
        if scanned == 0 && buf.len() >= 12 && !buf.starts_with(b"HTTP/1.1 200") {
            let line = String::from_utf8_lossy(&buf[..buf.len().min(80)]).into_owned();
            bail!(
                "{}{} answered `{}`",
                req.addr,
                req.path,
                line.lines().next().unwrap_or_default()
            );
        }
        while let Some(end) = buf[scanned..].windows(2).position(|w| w == b"\n\n") {
            let event = &buf[scanned..scanned + end];
            if has_text(event) {
                arrivals.push(now);
            } else if event.windows(6).any(|w| w == b"[DONE]") {
                done = true;
            }
            scanned += end + 2;
        }
    }
    let first = *arrivals.first().context("the stream carried no text")?;
    Ok(StreamTiming {
        ttft: first.duration_since(sent),
        gaps: arrivals.windows(2).map(|w| w[1] - w[0]).collect(),
        frames: arrivals.len(),
    })
}

/// `n` streams at once, each on its own connection; each one's timing or
/// error, in no particular order. A stream taking longer than `bound` is
/// an error.
pub(super) fn concurrent(
    req: &StreamRequest,
    n: usize,
    bound: Duration,
) -> anyhow::Result<Vec<anyhow::Result<StreamTiming>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot build the stream client's runtime")?;
    Ok(runtime.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let req = req.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(bound, one(&req)).await {
                        Ok(r) => r,
                        Err(_) => Err(anyhow::anyhow!("the stream took over {bound:?}")),
                    }
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.unwrap_or_else(|e| Err(e.into())));
        }
        out
    }))
}

/// Time to first token and the gaps between frames, over `n` streams one
/// after another, the targets taking turns; one summary per target.
pub(super) fn sequential(
    targets: &[(&str, StreamRequest)],
    n: usize,
    bound: Duration,
) -> anyhow::Result<Vec<StreamSummary>> {
    let mut all: Vec<Vec<StreamTiming>> = vec![Vec::new(); targets.len()];
    for _ in 0..n {
        for ((name, req), all) in targets.iter().zip(&mut all) {
            let mut one = concurrent(req, 1, bound)?;
            let timing = one
                .pop()
                .context("no stream result")?
                .with_context(|| format!("a paced stream through {name}"))?;
            all.push(timing);
        }
    }
    let summaries: Vec<StreamSummary> = all.iter().map(|t| StreamSummary::of(t, 1)).collect();
    for ((name, _), s) in targets.iter().zip(&summaries) {
        println!(
            "    {name}: TTFT p50 {:.0} us, p99 {:.0} us; gap p50 {:.0} us, p99 {:.0} us, max {:.0} us",
            s.ttft.p50_us, s.ttft.p99_us, s.gap.p50_us, s.gap.p99_us, s.gap.max_us
        );
    }
    Ok(summaries)
}

/// Percentiles over several streams.
#[derive(Debug, Clone, Copy)]
pub(super) struct StreamSummary {
    /// Streams started.
    pub(super) streams: usize,
    /// Streams that ended with every frame.
    pub(super) completed: usize,
    /// Time to first token.
    pub(super) ttft: Percentiles,
    /// Gaps between frames.
    pub(super) gap: Percentiles,
}

impl StreamSummary {
    /// Of the streams that answered (`started` counts the failed ones too).
    pub(super) fn of(timings: &[StreamTiming], frames: usize) -> StreamSummary {
        let ttfts: Vec<Duration> = timings.iter().map(|t| t.ttft).collect();
        let gaps: Vec<Duration> = timings.iter().flat_map(|t| t.gaps.clone()).collect();
        StreamSummary {
            streams: timings.len(),
            completed: timings.iter().filter(|t| t.frames >= frames).count(),
            ttft: Percentiles::of(&ttfts),
            gap: Percentiles::of(&gaps),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench_load::paced::PacedUpstream;

    #[test]
    fn text_frames_are_told_from_the_rest() {
        assert!(has_text(br#"data: {"delta":{"content":"Hi"}}"#));
        assert!(!has_text(br#"data: {"delta":{"content":""}}"#));
        assert!(!has_text(b"data: [DONE]"));
    }

    #[test]
    fn a_paced_stream_is_timed_frame_by_frame() {
        let upstream = PacedUpstream::start(5, Duration::from_millis(10)).expect("starts");
        let req = StreamRequest {
            addr: upstream.addr,
            path: "/v1/chat/completions".into(),
            body: r#"{"stream":true}"#.into(),
        };
        let results = concurrent(&req, 3, Duration::from_secs(10)).expect("runs");
        assert_eq!(results.len(), 3);
        for r in results {
            let t = r.expect("a stream");
            assert_eq!(t.frames, 5);
            assert_eq!(t.gaps.len(), 4);
            // Paced on a schedule: about 10 ms apart, never much less.
            assert!(
                t.gaps.iter().all(|g| *g >= Duration::from_millis(5)),
                "{t:?}"
            );
        }
    }
}
