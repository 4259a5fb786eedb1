//! Wire time: how much of a request's time was spent waiting on the
//! upstream's network exchange, as opposed to the gateway's own work.
//!
//! The router runs each provider call inside [`measure`]; a provider's HTTP
//! client calls [`record`] with the time from handing the request to the
//! connection until the answer's bytes arrived. The gateway's overhead metric
//! is then the request's total time minus the recorded wire time, so it
//! includes serializing the upstream request and parsing its answer — work
//! the gateway adds that a direct call would do in the caller. A provider
//! that records nothing (the mock, say) has its whole call counted as
//! upstream time.
//!
//! The value lives in a tokio task-local: recording is a few instructions and
//! takes no lock, and outside [`measure`] it does nothing.
//!
//! Timing an `await` on an HTTP client also counts the client's own work and
//! its hand-offs between tasks as "wire". [`TimedIo`] times the socket
//! instead: wrapped around a connection, it stamps an [`IoClock`] when a
//! request's first byte is written and when each answer byte is read, so
//! [`HttpClient`](super::HttpClient) can record exactly the time the upstream had
//! the exchange, and the server can start a request's clock when its first
//! byte arrived rather than when the handler ran.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

tokio::task_local! {
    static WIRE_TIME: Cell<Option<Duration>>;
}

/// Runs `fut` and returns its output with the wire time recorded inside it
/// (`None` when nothing was recorded).
pub async fn measure<F: Future>(fut: F) -> (F::Output, Option<Duration>) {
    WIRE_TIME
        .scope(Cell::new(None), async move {
            let out = fut.await;
            let recorded = WIRE_TIME.with(Cell::get);
            (out, recorded)
        })
        .await
}

/// Adds `wait` to the wire time of the call being [`measure`]d; a no-op
/// outside one.
pub fn record(wait: Duration) {
    let _ = WIRE_TIME.try_with(|cell| {
        cell.set(Some(cell.get().unwrap_or_default().saturating_add(wait)));
    });
}

/// Runs `fut` (a send, a body read) and [`record`]s how long it took.
pub async fn timed<F: Future>(fut: F) -> F::Output {
    let started = std::time::Instant::now();
    let out = fut.await;
    record(started.elapsed());
    out
}

/// The origin of [`IoClock`] stamps (nanoseconds since it), fixed at first use.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn stamp_now() -> u64 {
    u64::try_from(EPOCH.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// An instant as an [`IoClock`] stamp.
pub fn stamp(at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(*EPOCH).as_nanos()).unwrap_or(u64::MAX)
}

/// A stamp back as an instant.
pub fn instant(stamp: u64) -> Instant {
    *EPOCH + Duration::from_nanos(stamp)
}

/// The I/O timestamps of one connection, written by its [`TimedIo`] and read
/// by whoever holds a clone of the `Arc`.
///
/// A connection alternates between reading and writing turns (HTTP/1: a
/// request, then its answer). The clock keeps when the current write turn
/// began (its first written byte), when the current read turn began, and the
/// last byte read. Stamps are nanoseconds since a process-wide epoch
/// ([`stamp`], [`instant`]); `0` means "not yet". Each is one relaxed atomic
/// store by the one task that polls the connection: no lock, no allocation.
#[derive(Debug, Default)]
pub struct IoClock {
    write_start: AtomicU64,
    read_start: AtomicU64,
    last_read: AtomicU64,
    /// The current turn: 0 (nothing yet), [`WRITING`] or [`READING`].
    turn: AtomicU8,
}

const WRITING: u8 = 1;
const READING: u8 = 2;

impl IoClock {
    /// A clock with nothing stamped.
    pub fn new() -> Arc<Self> {
        Arc::new(IoClock::default())
    }

    /// When the current (or last) write turn began.
    pub fn write_start(&self) -> u64 {
        self.write_start.load(Ordering::Relaxed)
    }

    /// When the current (or last) read turn began: on a server connection,
    /// when the request being handled started to arrive.
    pub fn read_start(&self) -> u64 {
        self.read_start.load(Ordering::Relaxed)
    }

    /// When the last byte was read.
    pub fn last_read(&self) -> u64 {
        self.last_read.load(Ordering::Relaxed)
    }

    fn on_read(&self) {
        let now = stamp_now();
        if self.turn.load(Ordering::Relaxed) != READING {
            self.turn.store(READING, Ordering::Relaxed);
            self.read_start.store(now, Ordering::Relaxed);
        }
        self.last_read.store(now, Ordering::Relaxed);
    }

    fn on_write(&self) {
        if self.turn.load(Ordering::Relaxed) != WRITING {
            self.turn.store(WRITING, Ordering::Relaxed);
            self.write_start.store(stamp_now(), Ordering::Relaxed);
        }
    }
}

/// Told when a [`TimedIo`] finished a write that moved bytes: the server
/// ends a request's overhead measure when its answer reached the socket.
pub trait WriteListener: Send + Sync {
    /// A write completed at `at`.
    fn wrote(&self, at: Instant);
}

/// An I/O stream that stamps its [`IoClock`] on every read and write that
/// moved bytes.
pub struct TimedIo<T> {
    inner: T,
    clock: Arc<IoClock>,
    listener: Option<Arc<dyn WriteListener>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for TimedIo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedIo")
            .field("inner", &self.inner)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<T> TimedIo<T> {
    /// Wraps `inner` with a fresh clock.
    pub fn new(inner: T) -> Self {
        TimedIo {
            inner,
            clock: IoClock::new(),
            listener: None,
        }
    }

    /// Wraps `inner` with a fresh clock, telling `listener` of each write.
    pub fn with_listener(inner: T, listener: Arc<dyn WriteListener>) -> Self {
        TimedIo {
            inner,
            clock: IoClock::new(),
            listener: Some(listener),
        }
    }

    fn wrote(&self, polled: &Poll<io::Result<usize>>) {
        if let (Some(listener), Poll::Ready(Ok(1..))) = (&self.listener, polled) {
            listener.wrote(Instant::now());
        }
    }

    /// The connection's clock.
    pub fn clock(&self) -> &Arc<IoClock> {
        &self.clock
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.on_read();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Stamped before the write: the turn starts when its bytes are handed
        // to the kernel, not after.
        if !buf.is_empty() {
            self.clock.on_write();
        }
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().any(|b| !b.is_empty()) {
            self.clock.on_write();
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn io_clock_stamps_turns() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = TimedIo::new(a);
        let clock = io.clock().clone();
        assert_eq!((clock.write_start(), clock.read_start()), (0, 0));
        let _ = stamp(Instant::now()); // the epoch is set before the first stamp
        io.write_all(b"request").await.unwrap();
        let w1 = clock.write_start();
        assert!(w1 > 0);
        io.write_all(b" more").await.unwrap();
        assert_eq!(clock.write_start(), w1, "one turn, one start");
        let mut buf = [0u8; 12];
        b.read_exact(&mut buf).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        b.write_all(b"answer").await.unwrap();
        let mut got = [0u8; 6];
        io.read_exact(&mut got).await.unwrap();
        let r1 = clock.read_start();
        assert!(r1 >= w1 + 5_000_000, "read turn began after the wait");
        assert!(clock.last_read() >= r1);
        b.write_all(b"!").await.unwrap();
        io.read_exact(&mut got[..1]).await.unwrap();
        assert_eq!(clock.read_start(), r1, "same read turn");
        io.write_all(b"next").await.unwrap();
        assert!(clock.write_start() > clock.last_read(), "a new write turn");
    }

    #[tokio::test]
    async fn the_listener_hears_each_write() {
        struct Count(std::sync::atomic::AtomicUsize);
        impl WriteListener for Count {
            fn wrote(&self, _at: Instant) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let count = Arc::new(Count(std::sync::atomic::AtomicUsize::new(0)));
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = TimedIo::with_listener(a, count.clone());
        io.write_all(b"one").await.unwrap();
        io.write_all(b"").await.unwrap();
        io.write_all(b"two").await.unwrap();
        assert_eq!(count.0.load(Ordering::Relaxed), 2);
        let mut buf = [0u8; 6];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"onetwo");
    }

    #[test]
    fn stamps_round_trip() {
        let now = Instant::now();
        let back = instant(stamp(now));
        assert!(back <= now && now - back < Duration::from_micros(1));
    }

    #[tokio::test]
    async fn records_inside_measure_only() {
        record(Duration::from_millis(5));
        let ((), nothing) = measure(async {}).await;
        assert_eq!(nothing, None);
        let ((), some) = measure(async {
            record(Duration::from_micros(30));
            tokio::task::yield_now().await;
            record(Duration::from_micros(12));
        })
        .await;
        assert_eq!(some, Some(Duration::from_micros(42)));
    }

    #[tokio::test]
    async fn timed_records_the_awaited_time() {
        let (value, wire) = measure(async {
            timed(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                7
            })
            .await
        })
        .await;
        assert_eq!(value, 7);
        assert!(
            wire.is_some_and(|w| w >= Duration::from_millis(20)),
            "{wire:?}"
        );
    }

    #[tokio::test]
    async fn nested_measures_are_separate() {
        let ((inner, outer_before), outer) = measure(async {
            record(Duration::from_micros(1));
            let inner = measure(async { record(Duration::from_micros(7)) }).await;
            (inner.1, ())
        })
        .await;
        let () = outer_before;
        assert_eq!(inner, Some(Duration::from_micros(7)));
        assert_eq!(outer, Some(Duration::from_micros(1)));
    }
}
