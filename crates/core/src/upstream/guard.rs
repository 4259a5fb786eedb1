//! [`GuardedBody`]: the one idle-timeout and cancellation guard on a
//! streamed upstream body.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::client::UpstreamResponse;
use crate::Error;

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// A response body as a byte stream that fails with `timeout` when no bytes
/// arrive for `idle`, and with `cancelled` when the instance's token fires.
/// It owns the response: dropping it closes the connection.
pub struct GuardedBody {
    body: Option<Body>,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl std::fmt::Debug for GuardedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedBody")
            .field("idle", &self.idle)
            .field("open", &self.body.is_some())
            .finish()
    }
}

impl GuardedBody {
    /// Guards `response`'s body with an `idle` timeout and `cancel`.
    pub fn new(response: UpstreamResponse, idle: Duration, cancel: &CancellationToken) -> Self {
        GuardedBody {
            body: Some(response.into_stream()),
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            cancelled: Box::pin(cancel.clone().cancelled_owned()),
        }
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        match body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                this.sleep.as_mut().reset(Instant::now() + this.idle);
                return Poll::Ready(Some(Ok(bytes)));
            }
            Poll::Ready(Some(Err(err))) => {
                this.body = None;
                return Poll::Ready(Some(Err(err)));
            }
            Poll::Ready(None) => {
                this.body = None;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.cancelled.as_mut().poll(cx).is_ready() {
            this.body = None;
            return Poll::Ready(Some(Err(Error::cancelled(
                "the provider instance was shut down during the answer",
            ))));
        }
        if this.sleep.as_mut().poll(cx).is_ready() {
            this.body = None;
            return Poll::Ready(Some(Err(Error::timeout(format!(
                "the upstream sent nothing for {} ms in the middle of the answer",
                this.idle.as_millis()
            )))));
        }
        Poll::Pending
    }
}
