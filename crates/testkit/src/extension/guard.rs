//! Running one hook call so that a panic, a hang or a 2xx refusal is a
//! failure to report, not a crashed test.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use switchboard_core::Error;

/// How long one hook call may take.
pub(crate) const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-string payload".to_owned())
}

/// Awaits `fut`, turning a panic or a timeout into an error message.
pub(crate) async fn guarded<T>(fut: impl Future<Output = T>) -> Result<T, String> {
    match tokio::time::timeout(HOOK_TIMEOUT, AssertUnwindSafe(fut).catch_unwind()).await {
        Err(_) => Err(format!("did not finish within {HOOK_TIMEOUT:?}")),
        Ok(Err(panic)) => Err(format!("panicked: {}", panic_message(&*panic))),
        Ok(Ok(v)) => Ok(v),
    }
}

/// Runs `f`, turning a panic into an error message.
pub(crate) fn guarded_sync<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .map_err(|panic| format!("panicked: {}", panic_message(&*panic)))
}

/// A refusal must carry a kind whose status is an error status (4xx/5xx):
/// the client would otherwise see an error body with a success status.
pub(crate) fn check_refusal(e: &Error) -> Result<(), String> {
    let status = e.kind().http_status();
    if (400..=599).contains(&status) {
        Ok(())
    } else {
        Err(format!(
            "refused with kind `{}`, whose HTTP status {status} is not an error status \
             (use a 4xx or 5xx kind: invalid_request, content_filter, quota_exceeded, ...): {e}",
            e.kind().code()
        ))
    }
}
