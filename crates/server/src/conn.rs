//! One accepted connection: what it has in flight (which also drives the
//! in-flight gauge), the deadlines that close it when it idles, and the
//! write timeout that drops it when the client stops reading.
//!
//! Costs on the hot path: per connection one `Arc<ConnShared>`; per request
//! two atomic increments and, when the answer ends, two decrements and a
//! clock read. Nothing per request allocates or locks.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use prometheus_client::metrics::gauge::Gauge;
use switchboard_core::wire_time;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// What one connection shares with its requests.
#[derive(Debug)]
pub(crate) struct ConnShared {
    /// Requests whose answer has not been fully written or dropped.
    in_flight: AtomicUsize,
    /// When the connection last had nothing in flight (a wire-time stamp;
    /// the accept time until a request has been answered).
    idle_since: AtomicU64,
    /// Whether a request ever arrived.
    served: AtomicBool,
    /// The server-wide in-flight gauge.
    gauge: Gauge<i64, AtomicI64>,
}

/// What a connection's deadline found (see [`ConnShared::check`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Check again at this instant.
    Later(Instant),
    /// No request arrived in time (a silent socket, a half-sent preface):
    /// close at once.
    NoRequest,
    /// Nothing in flight for the whole timeout: close gracefully.
    Idle,
}

impl ConnShared {
    /// A connection accepted now, counting its requests into `gauge`.
    pub(crate) fn new(gauge: Gauge<i64, AtomicI64>) -> Arc<Self> {
        Arc::new(ConnShared {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(wire_time::stamp(Instant::now())),
            served: AtomicBool::new(false),
            gauge,
        })
    }

    /// Whether the connection, given `timeout`, should close now.
    pub(crate) fn check(&self, timeout: Duration, now: Instant) -> Deadline {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Deadline::Later(now + timeout);
        }
        let since = wire_time::instant(self.idle_since.load(Ordering::Acquire));
        let at = since.checked_add(timeout).unwrap_or(now + timeout);
        if at > now {
            Deadline::Later(at)
        } else if self.served.load(Ordering::Acquire) {
            Deadline::Idle
        } else {
            Deadline::NoRequest
        }
    }
}

/// One request in flight on a connection, until its answer is written or
/// dropped (the client went away): held by the request's future, then by
/// its response body, so the gauge is exact under disconnects.
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<ConnShared>);

impl RequestGuard {
    /// Counts a request that just arrived on `conn`.
    pub(crate) fn enter(conn: &Arc<ConnShared>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        conn.served.store(true, Ordering::Release);
        conn.gauge.inc();
        RequestGuard(conn.clone())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.gauge.dec();
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0
                .idle_since
                .store(wire_time::stamp(Instant::now()), Ordering::Release);
        }
    }
}

/// A response body that keeps its request counted until it is finished or
/// dropped.
#[derive(Debug)]
pub(crate) struct CountedBody {
    inner: axum::body::Body,
    _guard: RequestGuard,
}

impl CountedBody {
    /// `inner`, counted by `guard`.
    pub(crate) fn new(inner: axum::body::Body, guard: RequestGuard) -> Self {
        CountedBody {
            inner,
            _guard: guard,
        }
    }
}

impl Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's I/O whose writes fail with `TimedOut` when they make no
/// progress for the timeout: a client that stops reading fills its socket
/// buffers, the write stays pending, and the connection is dropped (which
/// drops the answer's stream and so its upstream request). The timer is
/// allocated the first time a write waits, and reset, not reallocated, after.
pub(crate) struct WriteTimeout<T> {
    inner: T,
    timeout: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

impl<T> WriteTimeout<T> {
    /// `inner` with writes bounded by `timeout`.
    pub(crate) fn new(inner: T, timeout: Duration) -> Self {
        WriteTimeout {
            inner,
            timeout,
            sleep: None,
            armed: false,
        }
    }

    fn bound<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        let timeout = self.timeout;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if !self.armed {
            self.armed = true;
            sleep.as_mut().reset(tokio::time::Instant::now() + timeout);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client read nothing for {} ms (server.write_timeout_ms)",
                    timeout.as_millis()
                ),
            )));
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteTimeout<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteTimeout<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.bound(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.bound(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.bound(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.bound(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_without_requests_expires_and_one_in_flight_does_not() {
        let conn = ConnShared::new(Gauge::default());
        let t = Duration::from_millis(100);
        let now = Instant::now();
        assert!(matches!(conn.check(t, now), Deadline::Later(_)));
        assert_eq!(conn.check(t, now + t * 2), Deadline::NoRequest);
        let guard = RequestGuard::enter(&conn);
        assert_eq!(conn.gauge.get(), 1);
        assert!(matches!(conn.check(t, now + t * 2), Deadline::Later(_)));
        drop(guard);
        assert_eq!(conn.gauge.get(), 0);
        assert_eq!(conn.check(t, Instant::now() + t * 2), Deadline::Idle);
    }

    #[tokio::test]
    async fn a_write_that_never_progresses_times_out() {
        use tokio::io::AsyncWriteExt;
        let (a, _b) = tokio::io::duplex(16);
        let mut io = WriteTimeout::new(a, Duration::from_millis(50));
        let big = vec![0u8; 1024];
        let started = Instant::now();
        let err = io.write_all(&big).await.expect_err("times out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
