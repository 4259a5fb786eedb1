//! Tool calls, single and parallel, plain and streamed: the tool definition
//! reaches the upstream, the calls come back whole, and streamed arguments
//! arrive in fragments.

use switchboard_core::ChatEvent;

use crate::cases::assertions::{CheckResult, check_answer, check_events, ensure};
use crate::cases::harness::CaseRun;
use crate::fixtures::{Scenario, WireFixtures};

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// Tool calls (at least `min_calls`), plain or streamed; the tool
    /// definitions reach the upstream.
    pub(super) async fn tools(
        &mut self,
        sc: Scenario,
        stream: bool,
        min_calls: usize,
    ) -> CheckResult {
        ensure!(
            !sc.tools.is_empty(),
            "the tool scenario offers no tools (use Scenario::tool)"
        );
        ensure!(
            sc.tool_calls.len() >= min_calls,
            "the tool scenario expects {} call(s); this case needs at least {min_calls}",
            sc.tool_calls.len()
        );
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let req = self.scenario_request(&sc);
        if stream {
            let events = self.stream_ok(&*provider, &req).await?;
            check_events(&events, &sc)?;
            let min_fragments = if self.fx.streams_whole_tool_calls() {
                1
            } else {
                2
            };
            check_split_arguments(&events, min_fragments)?;
        } else {
            let resp = self.chat_ok(&*provider, &req).await?;
            check_answer(&resp, &sc, false)?;
        }
        let body = self.upstream_body(&server).await?;
        for tool in &sc.tools {
            self.fx.tool_sent(&body, tool)?;
        }
        Ok(())
    }
}

/// Every tool call's arguments came in at least `min_fragments` non-empty
/// fragments, each after the call's `ToolCallStart`.
fn check_split_arguments(events: &[ChatEvent], min_fragments: usize) -> CheckResult {
    let mut started: Vec<u32> = Vec::new();
    let mut fragments: std::collections::BTreeMap<u32, usize> = Default::default();
    for e in events {
        match e {
            ChatEvent::ToolCallStart { index, .. } => started.push(*index),
            ChatEvent::ToolCallDelta { index, arguments } => {
                ensure!(
                    started.contains(index),
                    "arguments for tool call {index} came before its `ToolCallStart`"
                );
                if !arguments.is_empty() {
                    *fragments.entry(*index).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    for index in &started {
        let n = fragments.get(index).copied().unwrap_or(0);
        ensure!(
            n >= min_fragments,
            "tool call {index}'s arguments came in {n} fragment(s), expected at least {min_fragments}; \
             the recording must split them so the case tests reassembly (or the fixtures must declare \
             `streams_whole_tool_calls`)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_arguments_are_required() {
        let start = ChatEvent::ToolCallStart {
            index: 0,
            id: "a".into(),
            name: "f".into(),
        };
        let frag = |s: &str| ChatEvent::ToolCallDelta {
            index: 0,
            arguments: s.into(),
        };
        assert!(check_split_arguments(&[start.clone(), frag("{}")], 2).is_err());
        assert!(check_split_arguments(&[start.clone(), frag("{}")], 1).is_ok());
        assert!(check_split_arguments(std::slice::from_ref(&start), 1).is_err());
        assert!(check_split_arguments(&[start.clone(), frag("{"), frag("}")], 2).is_ok());
        assert!(check_split_arguments(&[frag("{"), start, frag("}")], 2).is_err());
    }
}
