//! Exercising each declared hook with the sample inputs.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::extension::{Hooks, MethodCall};
use switchboard_core::{ChatEvent, ErrorKind, Extension, RequestAction};

use super::guard::{check_refusal, guarded, guarded_sync};
use super::samples;
use super::schemas::{check_methods, compile};

/// The method name the "unknown method" check calls.
pub(crate) const UNKNOWN_METHOD: &str = "no-such-method-conformance";

/// Collects the first problem of each sample, labelled.
fn collect(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `on_request` on every sample request: no panic, refusals with an error status.
pub(crate) async fn on_request(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    for (label, mut ctx, mut request) in samples::requests() {
        match guarded(ext.on_request(&mut ctx, &mut request)).await {
            Err(e) => problems.push(format!("`{label}` request: {e}")),
            Ok(Err(e)) => {
                if let Err(p) = check_refusal(&e) {
                    problems.push(format!("`{label}` request: {p}"));
                }
            }
            Ok(Ok(RequestAction::Continue | RequestAction::Answer(_))) => {}
            Ok(Ok(other)) => problems.push(format!("`{label}` request: unknown action {other:?}")),
        }
    }
    collect(problems)
}

/// `on_response` on every sample answer.
pub(crate) async fn on_response(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    for (label, mut response) in samples::responses() {
        let mut ctx = samples::context(
            label,
            switchboard_core::extension::InboundApi::OpenAi,
            false,
        );
        match guarded(ext.on_response(&mut ctx, &mut response)).await {
            Err(e) => problems.push(format!("`{label}` answer: {e}")),
            Ok(Err(e)) => {
                if let Err(p) = check_refusal(&e) {
                    problems.push(format!("`{label}` answer: {p}"));
                }
            }
            Ok(Ok(())) => {}
        }
    }
    collect(problems)
}

/// `on_event` on every sample stream, event by event: no panic, refusals
/// with an error status, and a stream it lets through still ends with
/// `Finish`.
pub(crate) fn on_event(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    for (label, events) in samples::streams() {
        let mut ctx =
            samples::context(label, switchboard_core::extension::InboundApi::OpenAi, true);
        let mut sent: Vec<ChatEvent> = Vec::new();
        let mut refused = false;
        for event in events {
            let mut out = Vec::new();
            match guarded_sync(|| ext.on_event(&mut ctx, event, &mut out)) {
                Err(e) => {
                    problems.push(format!("`{label}` stream: {e}"));
                    refused = true;
                }
                Ok(Err(e)) => {
                    if let Err(p) = check_refusal(&e) {
                        problems.push(format!("`{label}` stream: {p}"));
                    }
                    refused = true;
                }
                Ok(Ok(())) => sent.append(&mut out),
            }
            if refused {
                break;
            }
            // Bounded: the sample streams are about 1 MiB of text.
            sent.truncate(10_000);
        }
        if !refused && !matches!(sent.last(), Some(ChatEvent::Finish { .. })) {
            problems.push(format!(
                "`{label}` stream: the events let through do not end with `Finish` \
                 (release held text, then push the `Finish` event itself)"
            ));
        }
    }
    collect(problems)
}

/// `on_complete` on every sample record.
pub(crate) async fn on_complete(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    for (label, record) in samples::records() {
        if let Err(e) = guarded(ext.on_complete(&record)).await {
            problems.push(format!("`{label}` record: {e}"));
        }
    }
    collect(problems)
}

fn call(method: &str, arguments: Value) -> MethodCall {
    MethodCall {
        method: method.to_owned(),
        arguments,
        client_key: None,
        admin: true,
        request_id: Arc::from("conformance-method"),
    }
}

/// Method schemas and names; `methods` declared when methods are listed.
pub(crate) fn method_schemas(ext: &Arc<dyn Extension>, hooks: Hooks) -> Result<(), String> {
    let methods = guarded_sync(|| ext.methods()).map_err(|e| format!("methods(): {e}"))?;
    if !hooks.contains(Hooks::METHODS) && !methods.is_empty() {
        return Err(format!(
            "methods() lists {} method(s) but `hooks(...)` does not declare `methods`, \
             so the gateway would never expose them",
            methods.len()
        ));
    }
    check_methods(&methods)
}

/// An unknown method is a `not_found` error; every method whose arguments
/// schema accepts `{}` runs with `{}` without panicking, and answers a
/// result valid against its result schema (or an error status).
pub(crate) async fn method_calls(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    match guarded(ext.call(call(UNKNOWN_METHOD, json!({})))).await {
        Err(e) => problems.push(format!("calling an unknown method: {e}")),
        Ok(Ok(v)) => problems.push(format!(
            "calling unknown method `{UNKNOWN_METHOD}` succeeded with `{v}`; it must be a `not_found` error"
        )),
        Ok(Err(e)) if *e.kind() != ErrorKind::NotFound => problems.push(format!(
            "calling unknown method `{UNKNOWN_METHOD}` failed with kind `{}`; it must be `not_found`",
            e.kind().code()
        )),
        Ok(Err(_)) => {}
    }
    let methods = guarded_sync(|| ext.methods()).unwrap_or_default();
    for m in methods {
        let (Ok(args), Ok(result)) = (compile(&m.arguments), compile(&m.result)) else {
            continue; // reported by the schema check
        };
        let empty = json!({});
        if !args.is_valid(&empty) {
            continue;
        }
        match guarded(ext.call(call(&m.name, empty))).await {
            Err(e) => problems.push(format!("method `{}` with `{{}}`: {e}", m.name)),
            Ok(Ok(v)) => {
                if let Some(e) = result.iter_errors(&v).next() {
                    problems.push(format!(
                        "method `{}` answered `{{}}` with a result its result schema refuses: {e}",
                        m.name
                    ));
                }
            }
            Ok(Err(e)) => {
                if let Err(p) = check_refusal(&e) {
                    problems.push(format!("method `{}`: {p}", m.name));
                }
            }
        }
    }
    collect(problems)
}

/// `status()`, `metrics()` (names prefixed `switchboard_`) and `shutdown()`.
pub(crate) async fn status_metrics_shutdown(ext: &Arc<dyn Extension>) -> Result<(), String> {
    let mut problems = Vec::new();
    if let Err(e) = guarded_sync(|| ext.status()) {
        problems.push(format!("status(): {e}"));
    }
    let mut text = String::new();
    match guarded_sync(|| ext.metrics(&mut text)) {
        Err(e) => problems.push(format!("metrics(): {e}")),
        Ok(()) => {
            for line in text
                .lines()
                .filter(|l| !l.trim().is_empty() && *l != "# EOF")
            {
                let name = line
                    .strip_prefix("# TYPE ")
                    .or_else(|| line.strip_prefix("# HELP "))
                    .or_else(|| line.strip_prefix("# UNIT "))
                    .unwrap_or(line);
                if !name.starts_with("switchboard_") {
                    problems.push(format!(
                        "metrics(): line `{line}` names a metric not prefixed `switchboard_`"
                    ));
                    break;
                }
            }
        }
    }
    if let Err(e) = guarded(ext.shutdown()).await {
        problems.push(format!("shutdown(): {e}"));
    }
    collect(problems)
}
