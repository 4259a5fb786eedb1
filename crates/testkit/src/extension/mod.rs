//! The extension conformance check: the single-extension contract every
//! extension crate runs in its tests (hook order across several extensions
//! is the gateway's to test).
//!
//! ```rust,ignore
//! // extensions/foo/tests/it/main.rs
//! #[test]
//! fn conformance() {
//!     switchboard_testkit::assert_extension_conforms(
//!         switchboard_ext_foo::Foo::DESCRIPTOR,
//!         serde_json::json!({}),
//!     );
//! }
//! ```

mod gateway;
mod guard;
mod hooks;
mod samples;
mod schemas;
mod store;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use switchboard_core::Error;
use switchboard_core::extension::{ExtensionContext, ExtensionDescriptor, Hooks};
use tokio_util::sync::CancellationToken;

pub use gateway::FakeGateway;
pub use store::MemoryStore;

use crate::runner::Outcome;

/// One check of the extension conformance suite and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionCheck {
    /// What was checked (`config schema`, `on_request`, ...).
    pub name: &'static str,
    /// How it went (`Skipped` for a hook the extension does not declare).
    pub outcome: Outcome,
}

/// Every check of one extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionReport {
    /// The extension's name.
    pub extension: &'static str,
    /// The checks, in the order they ran.
    pub checks: Vec<ExtensionCheck>,
}

impl ExtensionReport {
    /// The checks that failed, with why.
    pub fn failures(&self) -> Vec<(&'static str, &str)> {
        self.checks
            .iter()
            .filter_map(|c| match &c.outcome {
                Outcome::Failed(why) => Some((c.name, why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Whether no check failed.
    pub fn is_success(&self) -> bool {
        self.failures().is_empty()
    }

    fn push(&mut self, name: &'static str, result: Result<(), String>) {
        let outcome = match result {
            Ok(()) => Outcome::Passed,
            Err(why) => Outcome::Failed(why),
        };
        self.checks.push(ExtensionCheck { name, outcome });
    }

    fn skip(&mut self, name: &'static str, why: &str) {
        self.checks.push(ExtensionCheck {
            name,
            outcome: Outcome::Skipped(why.to_owned()),
        });
    }
}

impl fmt::Display for ExtensionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "extension `{}` conformance:", self.extension)?;
        for c in &self.checks {
            match &c.outcome {
                Outcome::Passed => writeln!(f, "  ok      {}", c.name)?,
                Outcome::Skipped(why) => writeln!(f, "  skipped {} ({why})", c.name)?,
                Outcome::Failed(why) => writeln!(f, "  FAILED  {}: {why}", c.name)?,
            }
        }
        Ok(())
    }
}

/// The record the gateway hands `on_complete` for the request of `ctx`: one
/// attempt at `mock/mock-1` that went well, no usage, 5 ms; the context's
/// id, key, model, stream flag and scratch. Tests change what they need with
/// struct update syntax (`CompletionRecord { usage: …, ..completion_record(ctx) }`).
pub fn completion_record(
    ctx: switchboard_core::extension::RequestContext,
) -> switchboard_core::extension::CompletionRecord {
    switchboard_core::extension::CompletionRecord {
        request_id: ctx.request_id,
        started_at: std::time::SystemTime::now(),
        api: ctx.api,
        client_key: ctx.client_key,
        requested_model: ctx.requested_model,
        instance: Some(Arc::from("mock")),
        model: Some("mock-1".into()),
        attempts: 1,
        fallbacks: 0,
        streamed: ctx.stream,
        answered_by_extension: false,
        usage: None,
        usage_partial: false,
        output_chars: 0,
        outcome: switchboard_core::extension::Outcome::Ok,
        latency: std::time::Duration::from_millis(5),
        time_to_first_token: None,
        scratch: ctx.scratch,
    }
}

/// A build context for tests: a fresh [`MemoryStore`], a fresh
/// [`FakeGateway`] and a cancellation token, for extension `name`.
pub fn test_extension_context(name: &str) -> ExtensionContext {
    ExtensionContext {
        name: Arc::from(name),
        store: Arc::new(MemoryStore::new()),
        gateway: Arc::new(FakeGateway::new()),
        cancel: CancellationToken::new(),
    }
}

/// Runs the conformance checks on the extension `descriptor` describes,
/// built from `config` (its own keys, as in `[extensions.<name>]`) with a
/// [`MemoryStore`] and a [`FakeGateway`]:
///
/// - the config schema is a valid JSON Schema object, `{}` validates against
///   it and passes the extension's validation, and so does `config`;
/// - every declared hook runs on ordinary and awkward inputs (plain and
///   streamed requests in both API formats, empty messages, 1 MiB of text,
///   empty and huge answers and streams, failed and cancelled records)
///   without panicking or hanging, and every refusal carries a 4xx/5xx kind;
///   a stream let through still ends with `Finish`;
/// - methods have `[a-z0-9_-]+` names and valid JSON Schemas (arguments an
///   object), are declared in `hooks(...)`, an unknown method is a
///   `not_found` error, and a method accepting `{}` answers it with a result
///   its schema accepts;
/// - `status`, `metrics` (names prefixed `switchboard_`) and `shutdown` do
///   not panic.
///
/// Fails (`Err`) only when the extension cannot be built from `config`.
pub async fn check_extension(
    descriptor: &'static ExtensionDescriptor,
    config: Value,
) -> Result<ExtensionReport, Error> {
    let mut report = ExtensionReport {
        extension: descriptor.name,
        checks: Vec::new(),
    };
    let config_check =
        guard::guarded_sync(|| schemas::check_config(descriptor, &config)).and_then(|r| r);
    report.push("config schema", config_check);

    let ctx = test_extension_context(descriptor.name);
    let ext = match guard::guarded(descriptor.build(config, ctx)).await {
        Ok(built) => built.map_err(|e| {
            Error::new(
                e.kind().clone(),
                format!("extension `{}` cannot be built: {e}", descriptor.name),
            )
        })?,
        Err(why) => {
            return Err(Error::internal(format!(
                "building extension `{}` {why}",
                descriptor.name
            )));
        }
    };

    let hooks = descriptor.hooks;
    let not_declared = "not declared in `hooks(...)`";
    if hooks.contains(Hooks::REQUEST) {
        report.push("on_request", hooks::on_request(&ext).await);
    } else {
        report.skip("on_request", not_declared);
    }
    if hooks.contains(Hooks::RESPONSE) {
        report.push("on_response", hooks::on_response(&ext).await);
    } else {
        report.skip("on_response", not_declared);
    }
    if hooks.contains(Hooks::EVENT) {
        report.push("on_event", hooks::on_event(&ext));
    } else {
        report.skip("on_event", not_declared);
    }
    if hooks.contains(Hooks::COMPLETE) {
        report.push("on_complete", hooks::on_complete(&ext).await);
    } else {
        report.skip("on_complete", not_declared);
    }
    report.push("method schemas", hooks::method_schemas(&ext, hooks));
    if hooks.contains(Hooks::METHODS) {
        report.push("method calls", hooks::method_calls(&ext).await);
    } else {
        report.skip("method calls", not_declared);
    }
    report.push(
        "status, metrics, shutdown",
        hooks::status_metrics_shutdown(&ext).await,
    );
    Ok(report)
}

/// Runs [`check_extension`] on a fresh tokio runtime and panics with the
/// report if a check failed or the extension cannot be built: one line in
/// an extension crate's `#[test]`.
#[track_caller]
pub fn assert_extension_conforms(descriptor: &'static ExtensionDescriptor, config: Value) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
    match runtime.block_on(check_extension(descriptor, config)) {
        Err(e) => panic!("{e}"),
        Ok(report) if !report.is_success() => panic!("{report}"),
        Ok(_) => {}
    }
}
