//! The checks several cases share: an error leaks no key and names the
//! instance, the key reached the upstream, and an answer (plain or
//! streamed) matches its scenario.

use serde_json::Value;
use switchboard_core::{ChatEvent, ChatResponse, Error, ResponseAccumulator};

use crate::cases::settings::{INSTANCE, TEST_API_KEY};
use crate::fixtures::Scenario;

/// What a case or a check returns: `Err` carries the first assertion that failed.
pub(crate) type CheckResult = Result<(), String>;

/// Returns `Err(format!(...))` from the enclosing check unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
pub(crate) use ensure;

/// Checks that an error does not leak the key (its `Display`, `Debug`, and
/// every source's `Display`) and names the instance.
pub fn check_error(err: &Error) -> CheckResult {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        texts.push(s.to_string());
        source = s.source();
    }
    for t in &texts {
        ensure!(
            !t.contains(TEST_API_KEY),
            "the API key appears in an error: {t}"
        );
    }
    ensure!(
        err.instance() == Some(INSTANCE),
        "the error does not name the instance `{INSTANCE}` (instance: {:?}): {err}",
        err.instance()
    );
    Ok(())
}

/// Checks that the configured key reached the upstream, in a header or in the URL.
pub(crate) fn key_reached_upstream(req: &wiremock::Request) -> CheckResult {
    let in_headers = req
        .headers
        .values()
        .any(|v| v.to_str().is_ok_and(|s| s.contains(TEST_API_KEY)));
    let in_url = req.url.as_str().contains(TEST_API_KEY);
    ensure!(
        in_headers || in_url,
        "the configured API key reached the upstream in no header and not in the URL"
    );
    Ok(())
}

/// Checks `usage` against the scenario's expected usage, if it has one.
pub(crate) fn check_usage(usage: Option<&switchboard_core::Usage>, sc: &Scenario) -> CheckResult {
    if let Some(expected) = &sc.usage {
        ensure!(
            usage == Some(expected),
            "usage {usage:?}, expected {expected:?}"
        );
    }
    Ok(())
}

/// Checks an answer's text, finish reason, tool calls and (unless `streamed`,
/// where the events carry it) usage against the scenario.
pub(crate) fn check_answer(resp: &ChatResponse, sc: &Scenario, streamed: bool) -> CheckResult {
    ensure!(
        resp.text() == sc.text,
        "answer text {:?}, expected {:?}",
        resp.text(),
        sc.text
    );
    ensure!(
        resp.finish_reason == sc.finish,
        "finish reason `{}`, expected `{}`",
        resp.finish_reason,
        sc.finish
    );
    ensure!(
        resp.tool_calls.len() == sc.tool_calls.len(),
        "{} tool call(s) {:?}, expected {}",
        resp.tool_calls.len(),
        resp.tool_calls,
        sc.tool_calls.len()
    );
    for (i, (got, want)) in resp.tool_calls.iter().zip(&sc.tool_calls).enumerate() {
        ensure!(
            got.name == want.name,
            "tool call {i} is `{}`, expected `{}`",
            got.name,
            want.name
        );
        if let Some(id) = &want.id {
            ensure!(
                &got.id == id,
                "tool call {i} has id `{}`, expected `{id}`",
                got.id
            );
        }
        let args: Value = serde_json::from_str(&got.arguments).map_err(|e| {
            format!(
                "tool call {i}'s arguments are not complete JSON ({e}): {:?}",
                got.arguments
            )
        })?;
        ensure!(
            args == want.arguments,
            "tool call {i}'s arguments are {args}, expected {}",
            want.arguments
        );
    }
    if !streamed {
        check_usage(Some(&resp.usage), sc)?;
    }
    Ok(())
}

/// Checks a stream's shape (one `Start` first, one `Finish` last) and that
/// its events add up to the scenario's answer and usage.
pub(crate) fn check_events(events: &[ChatEvent], sc: &Scenario) -> CheckResult {
    ensure!(
        matches!(events.first(), Some(ChatEvent::Start { .. })),
        "the first event is {:?}, not `Start`",
        events.first()
    );
    ensure!(
        matches!(events.last(), Some(ChatEvent::Finish { .. })),
        "the last event is {:?}, not `Finish`",
        events.last()
    );
    let starts = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Start { .. }))
        .count();
    let finishes = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Finish { .. }))
        .count();
    ensure!(
        starts == 1 && finishes == 1,
        "{starts} `Start` and {finishes} `Finish` events; expected one of each"
    );
    let mut acc = ResponseAccumulator::new();
    for e in events {
        acc.push(e);
    }
    let resp = acc.finish();
    check_answer(&resp, sc, true)?;
    if sc.usage.is_some() {
        let usage = events.iter().rev().find_map(|e| match e {
            ChatEvent::Usage(u) => Some(u),
            _ => None,
        });
        check_usage(usage, sc)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaked_keys_and_missing_instances_fail() {
        let leaky = Error::auth(format!("bad key {TEST_API_KEY}")).with_instance(INSTANCE);
        assert!(check_error(&leaky).is_err());
        let anonymous = Error::auth("bad key");
        assert!(check_error(&anonymous).is_err());
        let source = Error::auth("bad key")
            .with_instance(INSTANCE)
            .with_source(Error::protocol(TEST_API_KEY.to_owned()));
        assert!(check_error(&source).is_err());
        assert!(check_error(&Error::auth("bad key").with_instance(INSTANCE)).is_ok());
    }
}
