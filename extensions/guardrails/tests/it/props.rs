//! No panic on any input, and streaming never changes clean text.

use proptest::prelude::*;
use serde_json::json;
use switchboard_core::{ChatEvent, ChatRequest, Extension, FinishReason, Message};

use crate::{ctx, guardrails};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn redaction_never_panics(text in any::<String>(), digits in "[0-9 +()-]{0,40}") {
        let ext = guardrails(json!({}));
        let mut req = ChatRequest {
            messages: vec![Message::user(format!("{text}{digits}{text}"))],
            ..ChatRequest::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let result = rt.block_on(ext.on_request(&mut ctx(), &mut req));
        prop_assert!(result.is_ok());
    }

    #[test]
    fn streaming_keeps_clean_text_intact(chunks in proptest::collection::vec(any::<String>(), 0..12), max in 1usize..16) {
        let ext = guardrails(json!({"deny": ["\u{1F600}forbidden"], "max_match_chars": max}));
        let mut ctx = ctx();
        let mut out = Vec::new();
        for c in &chunks {
            ext.on_event(&mut ctx, ChatEvent::TextDelta { text: c.clone() }, &mut out)
                .expect("the pattern cannot appear: proptest strings rarely hold it");
        }
        ext.on_event(&mut ctx, ChatEvent::Finish { reason: FinishReason::Stop }, &mut out)
            .expect("finish");
        let sent: String = out.iter().filter_map(|e| match e {
            ChatEvent::TextDelta { text } => Some(text.as_str()),
            _ => None,
        }).collect();
        prop_assert_eq!(sent, chunks.concat());
    }
}
