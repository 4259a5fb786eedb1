//! The upstream body of a streamed answer, bounded by an idle timeout and
//! the instance's cancellation token.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use switchboard_core::Error;
use switchboard_core::http::UpstreamResponse as Response;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use bytes::Bytes;
type Body = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// A response body as a byte stream that fails with `timeout` when no bytes
/// arrive for `idle`, and with `cancelled` when the token fires. It owns the
/// response: dropping it closes the connection.
pub(crate) struct GuardedBody {
    body: Option<Body>,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl GuardedBody {
    pub(crate) fn new(response: Response, idle: Duration, cancel: &CancellationToken) -> Self {
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
            Poll::Ready(Some(item)) => {
                this.sleep.as_mut().reset(Instant::now() + this.idle);
                return Poll::Ready(Some(item));
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
