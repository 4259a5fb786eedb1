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

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

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
