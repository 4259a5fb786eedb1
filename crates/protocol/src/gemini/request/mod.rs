//! Core requests → `generateContent` bodies ([`to_wire_request`]), with the
//! per-instance settings a provider adds ([`RequestOptions`]).

mod messages;
mod to_wire;

use std::collections::BTreeMap;

use serde_json::Value;

use super::types::SafetySetting;

pub use self::to_wire::{effort_budget, to_wire_request};

/// What a provider instance adds to every `generateContent` body, and how
/// reasoning is replayed. [`Default`] is what Google's API expects without
/// configuration: no safety settings or generation config, thought summaries
/// asked for, signatures replayed, the placeholder signature as fallback.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestOptions {
    /// `safetySettings` sent with every request (a request's `extra` wins).
    pub safety_settings: Vec<SafetySetting>,
    /// `generationConfig` fields sent with every request; the request's own
    /// values win.
    pub generation_config: BTreeMap<String, Value>,
    /// When a request asks for reasoning, also ask for thought summaries
    /// (`thinkingConfig.includeThoughts`).
    pub include_thoughts: bool,
    /// Send Gemini's thought signatures back on later turns.
    pub replay_thought_signatures: bool,
    /// Send [`SKIP_THOUGHT_SIGNATURE`](super::SKIP_THOUGHT_SIGNATURE) for a
    /// replayed function call that has no signature.
    pub thought_signature_fallback: bool,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            safety_settings: Vec::new(),
            generation_config: BTreeMap::new(),
            include_thoughts: true,
            replay_thought_signatures: true,
            thought_signature_fallback: true,
        }
    }
}
