//! Streamed answers: events in order, text arriving incrementally, usage in
//! the stream, and dropping a stream hanging up the upstream connection.

use std::time::Instant;

use futures::StreamExt;
use switchboard_core::{ChatEvent, ChatStream, Error};

use crate::cases::assertions::{CheckResult, check_error, check_events, check_usage, ensure};
use crate::cases::harness::CaseRun;
use crate::cases::settings::{CALL_LIMIT, CANCEL_LIMIT, DEFAULT_TIMEOUT};
use crate::fixtures::WireFixtures;
use crate::upstream::EndlessUpstream;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// Streamed text (or, with `usage_only`, only the stream's usage) matches the recording.
    pub(super) async fn stream_text(&mut self, usage_only: bool) -> CheckResult {
        let sc = self.fx.stream_text();
        if usage_only {
            ensure!(
                sc.usage.is_some(),
                "the fixtures' stream_text scenario gives no usage to check"
            );
        }
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let events = self.stream_ok(&*provider, &self.request()).await?;
        if usage_only {
            let usage = events.iter().rev().find_map(|e| match e {
                ChatEvent::Usage(u) => Some(*u),
                _ => None,
            });
            ensure!(usage.is_some(), "the stream reported no usage: {events:?}");
            return check_usage(usage.as_ref(), &sc);
        }
        let text_deltas = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::TextDelta { text } if !text.is_empty()))
            .count();
        ensure!(
            text_deltas >= 2,
            "the text came in {text_deltas} delta(s); a streamed answer must arrive incrementally"
        );
        check_events(&events, &sc)
    }

    /// Dropping a stream midway closes the upstream connection.
    pub(super) async fn cancellation(&mut self) -> CheckResult {
        let endless = self.fx.endless_stream();
        let mut upstream = EndlessUpstream::start(endless)
            .await
            .map_err(|e| format!("starting the endless upstream: {e}"))?;
        let provider = self.build_with(&upstream.base_url, DEFAULT_TIMEOUT).await?;
        let req = self.request();
        let mut stream: ChatStream =
            match tokio::time::timeout(CALL_LIMIT, provider.chat_stream(&req)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    check_error(&e)?;
                    return Err(format!(
                        "chat_stream failed against the endless upstream: {e}"
                    ));
                }
                Err(_) => return Err("chat_stream did not return within the limit".into()),
            };
        let mut seen = Vec::new();
        let got_text = tokio::time::timeout(CALL_LIMIT, async {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(ev) => {
                        let text = matches!(&ev, ChatEvent::TextDelta { text } if !text.is_empty());
                        seen.push(ev);
                        if text {
                            return Ok(());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(Error::protocol("the endless stream ended"))
        })
        .await;
        match got_text {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                check_error(&e)?;
                return Err(format!(
                    "the endless stream failed before any text: {e}; events {seen:?}"
                ));
            }
            Err(_) => return Err(format!("no text event within the limit; events {seen:?}")),
        }
        ensure!(
            matches!(seen.first(), Some(ChatEvent::Start { .. })),
            "the first event was {:?}, not `Start`",
            seen.first()
        );
        drop(stream);
        let dropped_at = Instant::now();
        // The provider (and its connection pool) stays alive: only the drop
        // of the stream may close the connection.
        let closed = upstream.closed_within(CANCEL_LIMIT).await;
        drop(provider);
        match closed {
            Some(at) => {
                let after = at.saturating_duration_since(dropped_at);
                ensure!(
                    after <= CANCEL_LIMIT,
                    "the upstream connection closed {after:?} after the stream was dropped"
                );
                Ok(())
            }
            None => Err(format!(
                "the upstream connection was still open {CANCEL_LIMIT:?} after the stream was dropped: \
                 the stream must own the HTTP response so that dropping it hangs up"
            )),
        }
    }
}
