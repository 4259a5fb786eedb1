//! The fault matrix as data: one row per fault × {alone, behind a fallback
//! alias} × {non-stream, stream}. This table is the spec; `mod.rs` runs it.
//!
//! - `fault` is the model asked of the chaos upstream (see
//!   `chaos_upstream::Fault`), or `refused` for the instance `dead`, whose
//!   port nothing listens on.
//! - `Alone` asks for `chaos/<fault>` directly; `Fallback` asks for the alias
//!   `fb-<fault>` = `strategy = "fallback", targets = ["chaos/<fault>",
//!   "mock/mock-1"]`.
//! - `expect`: `Served(instance)` is a 200 with a complete answer from that
//!   instance (a stream ends with `[DONE]`); `Status(code)` is an HTTP error
//!   status (a stream that failed before its first event gets one too);
//!   `StreamError(code)` is a 200 stream that ends with an in-stream error
//!   whose `code` is this one.
//! - `attempts`: requests the chaos upstream saw.
//! - `within_ms`: the request must finish within this (slack included).
//! - `pending`: the finding (ISSUE13) whose fix the row waits for; the row
//!   is skipped, with the reason printed, until the fix lands on main.
//!
//! The gateway of each row: `router.retries_per_target = 1`, backoff 20 ms,
//! the instance `chaos` with `timeout_ms = 1500`, default health (each row
//! has its own gateway, so no row's cooldown leaks into another).

/// How the model is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    Alone,
    Fallback,
}

/// What the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Served(&'static str),
    Status(u16),
    StreamError(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Case {
    pub(super) fault: &'static str,
    pub(super) via: Via,
    pub(super) stream: bool,
    pub(super) expect: Expect,
    pub(super) attempts: usize,
    pub(super) within_ms: u64,
    pub(super) pending: Option<&'static str>,
}

const fn c(
    fault: &'static str,
    via: Via,
    stream: bool,
    expect: Expect,
    attempts: usize,
    within_ms: u64,
    pending: Option<&'static str>,
) -> Case {
    Case {
        fault,
        via,
        stream,
        expect,
        attempts,
        within_ms,
        pending,
    }
}

use Expect::{Served, Status, StreamError};
use Via::{Alone, Fallback};
const N: bool = false;
const S: bool = true;
const MOCK: Expect = Served("mock");
const CHAOS: Expect = Served("chaos");

#[rustfmt::skip]
pub(super) const CASES: &[Case] = &[
    //  fault               via       stream expect                 attempts within  pending
    // A healthy model of the chaos instance: the control row.
    c("ok",                 Alone,    N, CHAOS,                     1,  3_000, None),
    c("ok",                 Alone,    S, CHAOS,                     1,  3_000, None),
    c("ok",                 Fallback, N, CHAOS,                     1,  3_000, None),
    c("ok",                 Fallback, S, CHAOS,                     1,  3_000, None),
    // 429 with a short Retry-After: honoured (retried once), then the next target.
    c("429-short",          Alone,    N, Status(429),               2,  4_000, None),
    c("429-short",          Alone,    S, Status(429),               2,  4_000, None),
    c("429-short",          Fallback, N, MOCK,                      2,  4_000, None),
    c("429-short",          Fallback, S, MOCK,                      2,  4_000, None),
    // 429 with Retry-After: 120 (> router.max_retry_after_ms): back at once
    // when alone; the next target at once when there is one (#4).
    c("429-long",           Alone,    N, Status(429),               1,  2_000, None),
    c("429-long",           Alone,    S, Status(429),               1,  2_000, None),
    c("429-long",           Fallback, N, MOCK,                      1,  2_000, None),
    c("429-long",           Fallback, S, MOCK,                      1,  2_000, None),
    // 5xx: retried once, then the next target.
    c("500",                Alone,    N, Status(502),               2,  3_000, None),
    c("500",                Alone,    S, Status(502),               2,  3_000, None),
    c("500",                Fallback, N, MOCK,                      2,  3_000, None),
    c("500",                Fallback, S, MOCK,                      2,  3_000, None),
    c("503",                Alone,    N, Status(503),               2,  3_000, None),
    c("503",                Alone,    S, Status(503),               2,  3_000, None),
    c("503",                Fallback, N, MOCK,                      2,  3_000, None),
    c("503",                Fallback, S, MOCK,                      2,  3_000, None),
    c("529",                Alone,    N, Status(503),               2,  3_000, None),
    c("529",                Alone,    S, Status(503),               2,  3_000, None),
    c("529",                Fallback, N, MOCK,                      2,  3_000, None),
    c("529",                Fallback, S, MOCK,                      2,  3_000, None),
    // A wrong key is the instance's problem: the next target (#5).
    c("401",                Alone,    N, Status(401),               1,  2_000, None),
    c("401",                Alone,    S, Status(401),               1,  2_000, None),
    c("401",                Fallback, N, MOCK,                      1,  2_000, None),
    c("401",                Fallback, S, MOCK,                      1,  2_000, None),
    // A request-level error stops the chain.
    c("400",                Alone,    N, Status(400),               1,  2_000, None),
    c("400",                Alone,    S, Status(400),               1,  2_000, None),
    c("400",                Fallback, N, Status(400),               1,  2_000, None),
    c("400",                Fallback, S, Status(400),               1,  2_000, None),
    // No headers ever: the instance timeout (1.5 s), retried once, then the next target.
    c("hang",               Alone,    N, Status(504),               2,  5_000, None),
    c("hang",               Alone,    S, Status(504),               2,  5_000, None),
    c("hang",               Fallback, N, MOCK,                      2,  5_000, None),
    c("hang",               Fallback, S, MOCK,                      2,  5_000, None),
    // A 200 whose body is garbage: an upstream protocol error, the next target (#5).
    c("malformed",          Alone,    N, Status(502),               1,  2_000, None),
    c("malformed",          Alone,    S, Status(502),               1,  2_000, None),
    c("malformed",          Fallback, N, MOCK,                      1,  2_000, None),
    c("malformed",          Fallback, S, MOCK,                      1,  2_000, None),
    c("html",               Alone,    N, Status(502),               1,  2_000, None),
    c("html",               Alone,    S, Status(502),               1,  2_000, None),
    c("html",               Fallback, N, MOCK,                      1,  2_000, None),
    c("html",               Fallback, S, MOCK,                      1,  2_000, None),
    // Connection refused (instance `dead`): unavailable, the next target.
    c("refused",            Alone,    N, Status(503),               0,  3_000, None),
    c("refused",            Alone,    S, Status(503),               0,  3_000, None),
    c("refused",            Fallback, N, MOCK,                      0,  3_000, None),
    c("refused",            Fallback, S, MOCK,                      0,  3_000, None),
    // Slow but within the timeouts: served.
    c("slow-body",          Alone,    N, CHAOS,                     1,  3_000, None),
    c("slow-body",          Alone,    S, CHAOS,                     1,  3_000, None),
    c("slow-body",          Fallback, N, CHAOS,                     1,  3_000, None),
    c("slow-body",          Fallback, S, CHAOS,                     1,  3_000, None),
    // 40 MB (instance `big`, same upstream, a 20 s timeout): under the 64 MB
    // body cap, served; a stream's one 40 MB event is over the 16 MB SSE
    // event cap, an upstream protocol error before the first event, so the
    // next target (#5).
    c("huge",               Alone,    N, Served("big"),             1, 20_000, None),
    c("huge",               Alone,    S, Status(502),               1, 10_000, None),
    c("huge",               Fallback, N, Served("big"),             1, 20_000, None),
    c("huge",               Fallback, S, MOCK,                      1, 10_000, None),
    // Two chunks, then only `: keep-alive`: comments do not reset the idle
    // timer, so the stream ends with a timeout error event (#6). After the
    // first event there is no fallback.
    c("keep-alive",         Alone,    N, Status(504),               2,  5_000, None),
    c("keep-alive",         Alone,    S, StreamError("timeout"),    1,  4_000, None),
    c("keep-alive",         Fallback, N, MOCK,                      2,  5_000, None),
    c("keep-alive",         Fallback, S, StreamError("timeout"),    1,  4_000, None),
    // Only `: keep-alive` from the start: no first event, so the next target (#6).
    c("keep-alive-first",   Alone,    N, Status(504),               2,  5_000, None),
    c("keep-alive-first",   Alone,    S, Status(504),               2,  5_000, None),
    c("keep-alive-first",   Fallback, N, MOCK,                      2,  5_000, None),
    c("keep-alive-first",   Fallback, S, MOCK,                      2,  5_000, None),
    // Half an SSE line, then the connection closes: after the first event, an
    // in-stream error; a body cut short is a protocol error, the next target.
    c("partial",            Alone,    N, Status(502),               1,  2_000, None),
    c("partial",            Alone,    S, StreamError("protocol"),   1,  2_000, None),
    c("partial",            Fallback, N, MOCK,                      1,  2_000, None),
    c("partial",            Fallback, S, StreamError("protocol"),   1,  2_000, None),
    // A typed error event after the first chunk: forwarded in-stream. Not
    // streamed, a 200 whose body is an error object: an upstream error,
    // retried, then the next target.
    c("mid-stream-error",   Alone,    N, Status(502),               2,  2_000, None),
    c("mid-stream-error",   Alone,    S, StreamError("upstream"),   1,  2_000, None),
    c("mid-stream-error",   Fallback, N, MOCK,                      2,  2_000, None),
    c("mid-stream-error",   Fallback, S, StreamError("upstream"),   1,  2_000, None),
];
