//! Cost arithmetic on the providers' usage blocks (`tests/data/usage_fixtures.json`).

use serde::Deserialize;
use serde_json::Value;
use switchboard_core::Usage;
use switchboard_ext_usage::{PriceBook, cost_usd};
use switchboard_protocol::{anthropic, openai};

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    provider: String,
    instance: String,
    model: String,
    wire: Value,
    core: Usage,
    cost_usd: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("../data/usage_fixtures.json");
    serde_json::from_str::<Fixtures>(text)
        .expect("usage_fixtures.json parses")
        .cases
}

fn u(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The wire block turns into the stated core usage, as the provider does it.
fn check_core(case: &Case) {
    match case.provider.as_str() {
        "openai" => {
            let wire: openai::types::CompletionUsage =
                serde_json::from_value(case.wire.clone()).expect("OpenAI usage");
            assert_eq!(openai::usage_from_wire(&wire), case.core, "{}", case.name);
        }
        "anthropic" => {
            let wire: anthropic::types::MessageUsage =
                serde_json::from_value(case.wire.clone()).expect("Anthropic usage");
            assert_eq!(
                anthropic::usage_from_wire(&wire),
                case.core,
                "{}",
                case.name
            );
        }
        "gemini" => {
            // The Gemini provider's documented rules (providers/gemini
            // convert::usage): output = candidates + thoughts, reasoning =
            // thoughts, cached = cachedContentTokenCount, no cache writes.
            let w = &case.wire;
            let c = &case.core;
            assert_eq!(c.input_tokens, u(w, "promptTokenCount"), "{}", case.name);
            assert_eq!(
                c.output_tokens,
                u(w, "candidatesTokenCount") + u(w, "thoughtsTokenCount"),
                "{}",
                case.name
            );
            assert_eq!(c.reasoning_tokens, u(w, "thoughtsTokenCount"));
            assert_eq!(c.cached_input_tokens, u(w, "cachedContentTokenCount"));
            assert_eq!(c.cache_write_input_tokens, 0);
        }
        "mock" => assert!(case.wire.is_null()),
        other => panic!("unexpected provider {other}"),
    }
}

#[test]
fn every_documented_usage_block_costs_what_the_catalog_says() {
    let book = PriceBook::new(Default::default()).expect("catalog");
    let cases = cases();
    assert!(cases.len() >= 8);
    for case in &cases {
        check_core(case);
        let cost = book
            .lookup(&case.instance, &case.model)
            .map(|p| cost_usd(&case.core, &p.price));
        match (cost, case.cost_usd) {
            (Some(got), Some(want)) => assert!(
                (got - want).abs() < 1e-12,
                "{}: cost {got} != {want}",
                case.name
            ),
            (None, None) => {}
            (got, want) => panic!("{}: cost {got:?}, expected {want:?}", case.name),
        }
    }
    // Cached, cache-written and reasoning tokens are all exercised.
    assert!(
        cases
            .iter()
            .any(|c| c.core.cached_input_tokens > 0 && c.provider == "openai")
    );
    assert!(
        cases
            .iter()
            .any(|c| c.core.reasoning_tokens > 0 && c.provider == "openai")
    );
    assert!(cases.iter().any(|c| c.core.cache_write_input_tokens > 0));
    assert!(
        cases
            .iter()
            .any(|c| c.core.cached_input_tokens > 0 && c.provider == "gemini")
    );
    assert!(
        cases
            .iter()
            .any(|c| c.core.reasoning_tokens > 0 && c.provider == "gemini")
    );
}
