//! A per-stream send deadline for HTTP/2 answers.
//!
//! On HTTP/1 a client that stops reading stalls the socket, and
//! [`WriteTimeout`](crate::conn::WriteTimeout) drops the connection. On
//! HTTP/2 a client can keep the connection busy (pings, other streams) and
//! never reopen one stream's flow-control window: hyper then stops polling
//! that stream's body, so nothing on the body's own path ever runs again,
//! and the upstream stream behind it would stay open. [`watch`] puts the
//! answer's body where a watchdog task can reach it: when hyper has not
//! asked for the next frame for `server.write_timeout_ms` since it last got
//! one (or since the answer began), the watchdog drops the body, and with it
//! the upstream stream; the next poll, if any, ends the stream with an error
//! (hyper resets it).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use hyper::body::{Frame, SizeHint};

/// What the body and the watchdog share.
struct Shared {
    /// The answer's body; `None` once the watchdog dropped it.
    body: Mutex<Option<Body>>,
    /// Since when hyper has held a frame without asking for the next one,
    /// in ms after `epoch`, plus one; 0 while the body is waiting on the
    /// upstream (not the client's fault).
    holding_since: AtomicU64,
    /// Set when the watchdog dropped the upstream.
    stalled: AtomicBool,
    epoch: Instant,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// The watched body hyper polls.
struct Watched {
    shared: Arc<Shared>,
    timeout: Duration,
    ended: bool,
}

/// Wraps `body` so that it is dropped when the client takes no data for
/// `timeout` (see the module docs). Spawns one watchdog task, which ends
/// with the body.
pub(crate) fn watch(body: Body, timeout: Duration) -> Body {
    let shared = Arc::new(Shared {
        body: Mutex::new(Some(body)),
        // The answer's headers are out: until the body first asks for an
        // event, the client is the one holding it up.
        holding_since: AtomicU64::new(1),
        stalled: AtomicBool::new(false),
        epoch: Instant::now(),
    });
    tokio::spawn(watchdog(Arc::downgrade(&shared), timeout));
    Body::new(Watched {
        shared,
        timeout,
        ended: false,
    })
}

async fn watchdog(shared: Weak<Shared>, timeout: Duration) {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    let tick = (timeout / 4).max(Duration::from_millis(20));
    loop {
        tokio::time::sleep(tick).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let since = shared.holding_since.load(Ordering::Acquire);
        if since != 0 && shared.now_ms().saturating_sub(since - 1) >= timeout_ms {
            shared.stalled.store(true, Ordering::Release);
            let dropped = match shared.body.lock() {
                Ok(mut body) => body.take(),
                Err(poisoned) => poisoned.into_inner().take(),
            };
            if dropped.is_some() {
                tracing::info!(
                    timeout_ms,
                    "an HTTP/2 client took no data for the write timeout; its answer and upstream stream are dropped"
                );
            }
            return;
        }
    }
}

impl hyper::body::Body for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        self.shared.holding_since.store(0, Ordering::Release);
        let polled = {
            let mut body = match self.shared.body.lock() {
                Ok(body) => body,
                Err(poisoned) => poisoned.into_inner(),
            };
            body.as_mut().map(|b| Pin::new(b).poll_frame(cx))
        };
        match polled {
            Some(Poll::Ready(Some(frame))) => {
                let now = self.shared.now_ms();
                self.shared
                    .holding_since
                    .store(now.saturating_add(1), Ordering::Release);
                Poll::Ready(Some(frame))
            }
            Some(Poll::Ready(None)) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Some(Poll::Pending) => Poll::Pending,
            None => {
                self.ended = true;
                if self.shared.stalled.load(Ordering::Acquire) {
                    let message = format!(
                        "the client took no data for {} ms (server.write_timeout_ms)",
                        self.timeout.as_millis()
                    );
                    Poll::Ready(Some(Err(axum::Error::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        message,
                    )))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn endless(dropped: Arc<AtomicBool>) -> Body {
        Body::from_stream(futures::stream::unfold(Flag(dropped), |f| async move {
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from_static(b"x")),
                f,
            ))
        }))
    }

    #[tokio::test]
    async fn a_body_nobody_polls_is_dropped_after_the_timeout() {
        let dropped = Arc::new(AtomicBool::new(false));
        let mut b = watch(endless(dropped.clone()), Duration::from_millis(100));
        assert!(b.frame().await.is_some_and(|f| f.is_ok()));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(dropped.load(Ordering::SeqCst), "the upstream was dropped");
        assert!(matches!(b.frame().await, Some(Err(_))));
        assert!(b.frame().await.is_none());
    }

    #[tokio::test]
    async fn a_body_read_steadily_or_waiting_on_its_upstream_is_kept() {
        let dropped = Arc::new(AtomicBool::new(false));
        let mut b = watch(endless(dropped.clone()), Duration::from_millis(1000));
        // Read for longer than the timeout, a frame every 25 ms.
        for _ in 0..60 {
            assert!(b.frame().await.is_some());
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(!dropped.load(Ordering::SeqCst));
        // Waiting on a slow upstream is not the client's fault.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let slow = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
        }));
        let mut slow = watch(slow, Duration::from_millis(1000));
        let waiter = tokio::spawn(async move { slow.frame().await.map(|r| r.is_ok()) });
        // Longer than the timeout: a loaded machine's late ticks cannot
        // make a steady reader look stalled.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tx.send(Bytes::from_static(b"late")).expect("sends");
        assert_eq!(waiter.await.expect("joins"), Some(true));
    }
}
