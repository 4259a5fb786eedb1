//! The cache's counters, for `/metrics` (OpenMetrics text) and the status
//! view (JSON).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::backend::BackendStats;

/// Why a request did not use the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bypass {
    /// `Cache-Control: no-store`: neither read nor written.
    NoStore,
    /// `Cache-Control: no-cache` (or `Pragma: no-cache`): not read, the
    /// fresh answer may be stored.
    NoCache,
    /// The model is not cached (`models`, `all_models`).
    Model,
}

/// Why an answer was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotStored {
    /// Larger than `max_entry_bytes`.
    TooLarge,
    /// It failed, was cancelled, or another extension answered.
    Incomplete,
}

/// Counters since the extension was built.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    bypass_no_store: AtomicU64,
    bypass_no_cache: AtomicU64,
    bypass_model: AtomicU64,
    stores: AtomicU64,
    too_large: AtomicU64,
    incomplete: AtomicU64,
    backend_errors: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests looked up and not found.
    pub misses: u64,
    /// Requests with `Cache-Control: no-store`.
    pub bypass_no_store: u64,
    /// Requests with `Cache-Control: no-cache`.
    pub bypass_no_cache: u64,
    /// Requests for models that are not cached.
    pub bypass_model: u64,
    /// Answers stored.
    pub stores: u64,
    /// Answers not stored for their size.
    pub too_large: u64,
    /// Answers not stored because they did not finish normally.
    pub incomplete: u64,
    /// Backend calls that failed.
    pub backend_errors: u64,
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// Counts a hit.
    pub(crate) fn hit(&self) {
        inc(&self.hits);
    }

    /// Counts a miss.
    pub(crate) fn miss(&self) {
        inc(&self.misses);
    }

    /// Counts a bypass.
    pub(crate) fn bypass(&self, why: Bypass) {
        inc(match why {
            Bypass::NoStore => &self.bypass_no_store,
            Bypass::NoCache => &self.bypass_no_cache,
            Bypass::Model => &self.bypass_model,
        });
    }

    /// Counts a stored answer.
    pub(crate) fn stored(&self) {
        inc(&self.stores);
    }

    /// Counts an answer not stored.
    pub(crate) fn not_stored(&self, why: NotStored) {
        inc(match why {
            NotStored::TooLarge => &self.too_large,
            NotStored::Incomplete => &self.incomplete,
        });
    }

    /// Counts a failed backend call.
    pub(crate) fn backend_error(&self) {
        inc(&self.backend_errors);
    }

    /// The counters now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            hits: l(&self.hits),
            misses: l(&self.misses),
            bypass_no_store: l(&self.bypass_no_store),
            bypass_no_cache: l(&self.bypass_no_cache),
            bypass_model: l(&self.bypass_model),
            stores: l(&self.stores),
            too_large: l(&self.too_large),
            incomplete: l(&self.incomplete),
            backend_errors: l(&self.backend_errors),
        }
    }
}

fn counter(out: &mut String, name: &str, help: &str, rows: &[(&str, u64)]) {
    let _ = writeln!(out, "# TYPE {name} counter\n# HELP {name} {help}");
    for (labels, n) in rows {
        let _ = writeln!(out, "{name}_total{labels} {n}");
    }
}

fn gauge(out: &mut String, name: &str, help: &str, n: u64) {
    let _ = writeln!(out, "# TYPE {name} gauge\n# HELP {name} {help}\n{name} {n}");
}

/// Appends the cache's metrics in the OpenMetrics text format; the size
/// gauges and evictions only when the backend can tell them (`b`).
pub(crate) fn write(out: &mut String, s: &Snapshot, b: Option<&BackendStats>, max_bytes: u64) {
    counter(
        out,
        "switchboard_cache_hits",
        "Requests answered from the response cache.",
        &[("", s.hits)],
    );
    counter(
        out,
        "switchboard_cache_misses",
        "Requests looked up in the response cache and not found (then answered upstream).",
        &[("", s.misses)],
    );
    counter(
        out,
        "switchboard_cache_bypasses",
        "Requests that did not read the response cache: Cache-Control no-store or no-cache from the client, or a model that is not cached.",
        &[
            ("{reason=\"no_store\"}", s.bypass_no_store),
            ("{reason=\"no_cache\"}", s.bypass_no_cache),
            ("{reason=\"model\"}", s.bypass_model),
        ],
    );
    counter(
        out,
        "switchboard_cache_stores",
        "Answers stored in the response cache.",
        &[("", s.stores)],
    );
    counter(
        out,
        "switchboard_cache_not_stored",
        "Answers not stored: larger than max_entry_bytes, or not finished normally (failed, cancelled, answered by another extension).",
        &[
            ("{reason=\"too_large\"}", s.too_large),
            ("{reason=\"incomplete\"}", s.incomplete),
        ],
    );
    counter(
        out,
        "switchboard_cache_backend_errors",
        "Response cache backend calls that failed (the request went on without the cache).",
        &[("", s.backend_errors)],
    );
    let Some(b) = b else { return };
    counter(
        out,
        "switchboard_cache_evictions",
        "Entries removed from the response cache: to stay within max_bytes (size) or past their TTL (expired).",
        &[
            ("{cause=\"size\"}", b.evicted),
            ("{cause=\"expired\"}", b.expired),
        ],
    );
    gauge(
        out,
        "switchboard_cache_entries",
        "Entries in the response cache.",
        b.entries,
    );
    gauge(
        out,
        "switchboard_cache_bytes",
        "Bytes the response cache holds (each entry: its answer's JSON plus a fixed overhead).",
        b.bytes,
    );
    gauge(
        out,
        "switchboard_cache_max_bytes",
        "The response cache's byte bound (max_bytes).",
        max_bytes,
    );
}

/// The status view: the same numbers as JSON (size and evictions `null`
/// when the backend cannot tell them).
pub(crate) fn status(
    backend: &str,
    s: &Snapshot,
    b: Option<&BackendStats>,
    max_bytes: u64,
) -> Value {
    json!({
        "backend": backend,
        "hits": s.hits,
        "misses": s.misses,
        "bypasses": {
            "no_store": s.bypass_no_store,
            "no_cache": s.bypass_no_cache,
            "model": s.bypass_model,
        },
        "stores": s.stores,
        "not_stored": {"too_large": s.too_large, "incomplete": s.incomplete},
        "backend_errors": s.backend_errors,
        "evictions": b.map(|b| json!({"size": b.evicted, "expired": b.expired})),
        "entries": b.map(|b| b.entries),
        "bytes": b.map(|b| b.bytes),
        "max_bytes": b.map(|_| max_bytes),
    })
}
