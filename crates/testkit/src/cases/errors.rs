//! Upstream failures and the error kinds they must map to: HTTP error
//! statuses, a refused connection, and a stream cut off mid-event.

use std::time::Duration;

use switchboard_core::{ChatEvent, Error, ErrorKind};

use crate::cases::assertions::{CheckResult, check_error, ensure};
use crate::cases::harness::CaseRun;
use crate::cases::settings::DEFAULT_TIMEOUT;
use crate::fixtures::{ErrorCase, WireFixtures};
use crate::upstream::refused_base_url;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// The HTTP error of `ec` gives its error kind and keeps the message, plain and streamed.
    pub(super) async fn error(&mut self, ec: ErrorCase) -> CheckResult {
        let message = ec.message();
        let mut response = self.fx.error_body(ec, message).with_status(ec.status());
        if ec == ErrorCase::RateLimited {
            response = response.with_header("retry-after", "7");
        }
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(resp) => return Err(format!("HTTP {} was answered with {resp:?}", ec.status())),
            Err(e) => e,
        };
        check_error(&err)?;
        check_error_kind(ec, &err, message).map_err(|m| format!("chat: {m}"))?;
        if self.streaming() {
            let (events, err) = self.stream(&*provider, &self.request()).await?;
            let Some(err) = err else {
                return Err(format!(
                    "chat_stream: HTTP {} was answered with events {events:?}",
                    ec.status()
                ));
            };
            ensure!(
                events.is_empty(),
                "chat_stream: events {events:?} came before the HTTP {} error",
                ec.status()
            );
            check_error_kind(ec, &err, message).map_err(|m| format!("chat_stream: {m}"))?;
        }
        Ok(())
    }

    /// Nothing listening at the base URL gives `unavailable`, plain and streamed.
    pub(super) async fn refused(&mut self) -> CheckResult {
        let base = refused_base_url()
            .await
            .map_err(|e| format!("finding a free port: {e}"))?;
        let provider = self.build_with(&base, DEFAULT_TIMEOUT).await?;
        let err = match self.chat(&*provider, &self.request()).await {
            Ok(r) => return Err(format!("nothing listens, yet chat answered {r:?}")),
            Err(e) => e,
        };
        check_error(&err)?;
        ensure!(
            err.kind() == &ErrorKind::Unavailable,
            "a refused connection gave a `{}` error, not `unavailable`: {err}",
            err.kind().code()
        );
        if self.streaming() {
            let (_, err) = self.stream(&*provider, &self.request()).await?;
            let err = err.ok_or("nothing listens, yet the stream ended cleanly")?;
            ensure!(
                err.kind() == &ErrorKind::Unavailable,
                "chat_stream: a refused connection gave a `{}` error, not `unavailable`: {err}",
                err.kind().code()
            );
        }
        Ok(())
    }

    /// A stream cut off mid-event ends with a `protocol` error and no `Finish`.
    pub(super) async fn truncated(&mut self) -> CheckResult {
        let sc = self.fx.stream_text();
        let body = &sc.response.body;
        let cut = cut_point(body).ok_or("the stream_text recording is too short to cut")?;
        let mut response = sc.response.clone();
        response.body = body[..cut].to_vec();
        let server = self.chat_server(&response).await;
        let provider = self.build(&server).await?;
        let (events, err) = self.stream(&*provider, &self.request()).await?;
        ensure!(
            !events.iter().any(|e| matches!(e, ChatEvent::Finish { .. })),
            "a stream cut off mid-event reported `Finish`: {events:?}"
        );
        let Some(err) = err else {
            return Err(format!(
                "a stream cut off mid-event ended without an error after {} events",
                events.len()
            ));
        };
        ensure!(
            err.kind() == &ErrorKind::Protocol,
            "a stream cut off mid-event gave a `{}` error, not `protocol`: {err}",
            err.kind().code()
        );
        Ok(())
    }
}

/// Checks that `err` is the kind `ec` maps to and keeps the upstream's message.
fn check_error_kind(ec: ErrorCase, err: &Error, message: &str) -> CheckResult {
    let kind = err.kind();
    let ok = match ec {
        ErrorCase::Unauthorized => kind == &ErrorKind::Auth,
        ErrorCase::Forbidden => kind == &ErrorKind::Permission,
        ErrorCase::NotFound => kind == &ErrorKind::NotFound,
        ErrorCase::BadRequest => kind == &ErrorKind::InvalidRequest,
        ErrorCase::ContextLengthExceeded => kind == &ErrorKind::ContextLengthExceeded,
        ErrorCase::RateLimited => {
            kind == &ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
            }
        }
        ErrorCase::Server(_) => err.is_retryable(),
    };
    ensure!(
        ok,
        "HTTP {} gave {kind:?}, which is not what {ec:?} must map to: {err}",
        ec.status()
    );
    ensure!(
        err.message().contains(message),
        "the error message does not keep the upstream's message `{message}`: {err}"
    );
    Ok(())
}

/// A position inside a line in the last third of `body`: cutting there ends
/// the stream in the middle of an event.
fn cut_point(body: &[u8]) -> Option<usize> {
    if body.len() < 16 {
        return None;
    }
    let mut p = body.len() * 2 / 3;
    while p > 1 {
        let prev = body[p - 1];
        let here = body[p];
        if prev != b'\n' && prev != b'\r' && here != b'\n' && here != b'\r' {
            return Some(p);
        }
        p -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_lands_inside_a_line() {
        let body = b"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n";
        let p = cut_point(body).expect("long enough");
        assert!(body[p - 1] != b'\n' && body[p] != b'\n');
        assert!(cut_point(b"short").is_none());
    }
}
