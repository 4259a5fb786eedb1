//! A minimal HTTP/1.1 client on a blocking socket, for what wrk cannot
//! time: the first text of a stream, and single requests timed one by one
//! (raw samples, exact percentiles).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// One keep-alive connection.
pub(super) struct HttpConn {
    addr: SocketAddr,
    /// Extra request headers, rendered (`Name: value\r\n` each).
    headers: String,
    reader: BufReader<TcpStream>,
}

/// How a response's body is framed.
enum Framing {
    Length(usize),
    Chunked,
}

impl HttpConn {
    /// Connects to `addr` (no delay, 30 s read timeout).
    pub(super) fn connect(addr: SocketAddr) -> anyhow::Result<HttpConn> {
        let stream = TcpStream::connect(addr).with_context(|| format!("cannot connect {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(HttpConn {
            addr,
            headers: String::new(),
            reader: BufReader::with_capacity(64 * 1024, stream),
        })
    }

    /// Sends `name: value` with every request.
    pub(super) fn with_header(mut self, name: &str, value: &str) -> HttpConn {
        self.headers.push_str(&format!("{name}: {value}\r\n"));
        self
    }

    fn send(&mut self, path: &str, body: &str) -> anyhow::Result<()> {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            self.headers,
            body.len()
        );
        self.reader.get_mut().write_all(request.as_bytes())?;
        Ok(())
    }

    /// Reads the status line (200 or an error) and the headers.
    fn read_head(&mut self, path: &str) -> anyhow::Result<Framing> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        if !line.starts_with("HTTP/1.1 200") {
            bail!("{}{path} answered `{}`", self.addr, line.trim());
        }
        let mut length: Option<usize> = None;
        let mut chunked = false;
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("connection closed in the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        if chunked {
            Ok(Framing::Chunked)
        } else {
            Ok(Framing::Length(
                length.context("neither Content-Length nor chunked")?,
            ))
        }
    }

    /// Reads the body into `seen`, calling `on_data(&seen)` after each piece.
    fn read_body(
        &mut self,
        framing: Framing,
        seen: &mut Vec<u8>,
        mut on_data: impl FnMut(&[u8]),
    ) -> anyhow::Result<()> {
        match framing {
            Framing::Chunked => {
                let mut line = String::new();
                loop {
                    line.clear();
                    self.reader.read_line(&mut line)?;
                    let size = usize::from_str_radix(line.trim(), 16)
                        .with_context(|| format!("bad chunk size `{}`", line.trim()))?;
                    if size == 0 {
                        line.clear();
                        self.reader.read_line(&mut line)?;
                        return Ok(());
                    }
                    let start = seen.len();
                    seen.resize(start + size, 0);
                    self.reader.read_exact(&mut seen[start..])?;
                    let mut crlf = [0u8; 2];
                    self.reader.read_exact(&mut crlf)?;
                    on_data(seen);
                }
            }
            Framing::Length(length) => {
                seen.resize(length, 0);
                self.reader.read_exact(seen)?;
                on_data(seen);
                Ok(())
            }
        }
    }

    /// One whole request and response (200, else an error); the body.
    pub(super) fn post(&mut self, path: &str, body: &str) -> anyhow::Result<Vec<u8>> {
        self.send(path, body)?;
        let framing = self.read_head(path)?;
        let mut seen = Vec::with_capacity(4 * 1024);
        self.read_body(framing, &mut seen, |_| {})?;
        Ok(seen)
    }

    /// Sends a streamed request; returns when the first text arrived, after
    /// reading the whole response.
    pub(super) fn stream(&mut self, path: &str, body: &str) -> anyhow::Result<Instant> {
        self.send(path, body)?;
        let framing = self.read_head(path)?;
        let mut seen = Vec::with_capacity(8 * 1024);
        let mut first: Option<Instant> = None;
        let needle = b"\"content\":\"";
        self.read_body(framing, &mut seen, |seen| {
            if first.is_none() {
                let has_text = seen
                    .windows(needle.len() + 1)
                    .any(|w| &w[..needle.len()] == needle && w[needle.len()] != b'"');
                if has_text {
                    first = Some(Instant::now());
                }
            }
        })?;
        first.context("the stream carried no text")
    }
}

/// Percentiles of a series of durations, in microseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Percentiles {
    /// Median.
    pub(super) p50_us: f64,
    /// 99th percentile.
    pub(super) p99_us: f64,
    /// Largest.
    pub(super) max_us: f64,
    /// Samples.
    pub(super) n: usize,
}

impl Percentiles {
    /// Of `samples` (any order); NaN when empty.
    pub(super) fn of(samples: &[Duration]) -> Percentiles {
        let mut us: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        us.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            if us.is_empty() {
                f64::NAN
            } else {
                us[((us.len() as f64 - 1.0) * p).round() as usize]
            }
        };
        Percentiles {
            p50_us: pct(0.5),
            p99_us: pct(0.99),
            max_us: pct(1.0),
            n: us.len(),
        }
    }
}

/// `n` streamed requests one after another on one keep-alive connection;
/// the time from sending each request to the first chunk carrying text.
pub(super) fn ttft(
    addr: SocketAddr,
    path: &str,
    body: &str,
    n: usize,
) -> anyhow::Result<Percentiles> {
    let mut conn = HttpConn::connect(addr)?;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n + n / 10 {
        let started = Instant::now();
        let first = conn.stream(path, body)?;
        samples.push(first.duration_since(started));
    }
    // The first tenth warms up.
    let result = Percentiles::of(&samples[n / 10..]);
    println!(
        "    {addr}{path}: TTFT p50 {:.0} us, p99 {:.0} us",
        result.p50_us, result.p99_us
    );
    Ok(result)
}

/// One target of a one-connection latency comparison: where, which path,
/// which body, which headers.
pub(super) struct Target<'a> {
    /// A name for the log.
    pub(super) name: &'a str,
    /// Where it listens.
    pub(super) addr: SocketAddr,
    /// The request path.
    pub(super) path: &'a str,
    /// The JSON body.
    pub(super) body: &'a str,
    /// Extra headers.
    pub(super) headers: &'a [(&'a str, &'a str)],
}

/// Latency at one connection, each request timed by this process, the
/// targets taking turns (up to 200 requests or 50 ms each per turn) for
/// `duration` in all (a tenth of it first, unrecorded, to warm up), and
/// longer if a slow target has fewer than 100 samples by then (up to ten
/// times `duration`).
///
/// Why not wrk here: wrk's numbers come from a histogram, and its runs of
/// the two columns are seconds apart. Timing each request here keeps every
/// raw sample (exact percentiles), and alternating short turns exposes
/// every column to the same background (the other builds on a shared
/// machine, frequency changes) in the same proportion: the *difference*
/// between columns, which is what "added latency" is, stays sound even
/// when the absolute numbers drift.
pub(super) fn latency_c1(
    targets: &[Target<'_>],
    duration: Duration,
) -> anyhow::Result<Vec<Percentiles>> {
    const TURN_REQUESTS: usize = 200;
    const TURN_TIME: Duration = Duration::from_millis(50);
    const MIN_SAMPLES: usize = 100;
    let mut conns = targets
        .iter()
        .map(|t| {
            let mut conn = HttpConn::connect(t.addr)?;
            for (n, v) in t.headers {
                conn = conn.with_header(n, v);
            }
            Ok(conn)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    let begun = Instant::now();
    let warm_until = begun + duration / 10;
    let end = warm_until + duration;
    let give_up = begun + duration * 10;
    loop {
        let now = Instant::now();
        let enough = samples.iter().all(|s| s.len() >= MIN_SAMPLES);
        if (now >= end && enough) || now >= give_up {
            break;
        }
        for ((target, conn), samples) in targets.iter().zip(&mut conns).zip(&mut samples) {
            let turn = Instant::now();
            for _ in 0..TURN_REQUESTS {
                let started = Instant::now();
                conn.post(target.path, target.body)
                    .with_context(|| format!("{} ({})", target.name, target.addr))?;
                if started > warm_until {
                    samples.push(started.elapsed());
                }
                if turn.elapsed() > TURN_TIME {
                    break;
                }
            }
        }
    }
    let results: Vec<Percentiles> = samples.iter().map(|s| Percentiles::of(s)).collect();
    for (t, r) in targets.iter().zip(&results) {
        println!(
            "    {} c=1: p50 {:.0} us, p99 {:.0} us ({} requests)",
            t.name, r.p50_us, r.p99_us, r.n
        );
    }
    Ok(results)
}
#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A one-connection server answering each request with `answers` in order.
    fn serve(answers: Vec<&'static str>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let Ok((conn, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(conn);
            for answer in answers {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = reader.get_mut().write_all(answer.as_bytes());
            }
        });
        addr
    }

    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
        16\r\ndata: {\"content\":\"\"}\n\n\r\n\
        18\r\ndata: {\"content\":\"Hi\"}\n\n\r\n\
        0\r\n\r\n";
    const LENGTH: &str =
        "HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\ndata: {\"content\":\"Hi\"}\n\n";
    const EMPTY: &str = "HTTP/1.1 200 OK\r\ncontent-length: 22\r\n\r\ndata: {\"content\":\"\"}\n\n";

    #[test]
    fn times_first_text_over_one_keep_alive_connection() {
        let addr = serve(vec![CHUNKED, LENGTH, CHUNKED, EMPTY]);
        let mut conn = HttpConn::connect(addr).expect("connects");
        for _ in 0..3 {
            let started = Instant::now();
            let first = conn.stream("/s", "{}").expect("a stream with text");
            assert!(first >= started);
        }
        let err = conn.stream("/s", "{}").expect_err("no text in it");
        assert!(err.to_string().contains("no text"), "{err}");
    }

    #[test]
    fn a_non_200_answer_is_an_error() {
        let addr = serve(vec![
            "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n",
        ]);
        let mut conn = HttpConn::connect(addr).expect("connects");
        let err = conn.stream("/s", "{}").expect_err("502");
        assert!(err.to_string().contains("502"), "{err}");
    }
}
