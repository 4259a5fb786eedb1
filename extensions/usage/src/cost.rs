//! Cost arithmetic, token estimates, and the cost header's format.

use switchboard_core::Usage;

use crate::catalog::Price;

/// What a request's tokens cost, in US dollars.
///
/// The core [`Usage`] counts cached and cache-written prompt tokens inside
/// `input_tokens`, and reasoning tokens inside `output_tokens`, so:
///
/// ```text
/// cost = (input - cached - cache_write) × input price
///      + cached × cached-read price      (input price if none)
///      + cache_write × cache-write price (input price if none)
///      + (output - reasoning) × output price
///      + reasoning × reasoning price      (output price if none)
/// ```
///
/// all per million tokens. Counts that do not add up (more cached than
/// input, more reasoning than output: untrusted upstream numbers) are
/// clamped, never underflow.
pub fn cost_usd(usage: &Usage, price: &Price) -> f64 {
    let input = usage.input_tokens;
    let cached = usage.cached_input_tokens.min(input);
    let write = usage.cache_write_input_tokens.min(input - cached);
    let uncached = input - cached - write;
    let output = usage.output_tokens;
    let (reasoning, reasoning_price) = match price.reasoning {
        Some(p) => (usage.reasoning_tokens.min(output), p),
        None => (0, price.output),
    };
    let micro = tokens(uncached) * price.input
        + tokens(cached) * price.cached_input.unwrap_or(price.input)
        + tokens(write) * price.cache_write.unwrap_or(price.input)
        + tokens(output - reasoning) * price.output
        + tokens(reasoning) * reasoning_price;
    micro / 1_000_000.0
}

#[allow(clippy::cast_precision_loss)]
fn tokens(n: u64) -> f64 {
    n as f64
}

/// Tokens estimated from a text length: `chars / chars_per_token`, rounded
/// up (any text is at least one token). The default, 4 characters per
/// token, is the common rule of thumb for English text with the GPT and
/// Claude tokenizers; code and other languages run higher.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]
pub fn estimate_tokens(chars: u64, chars_per_token: f64) -> u64 {
    if chars == 0 || !(chars_per_token.is_finite() && chars_per_token > 0.0) {
        return 0;
    }
    // `as` saturates on overflow, which is what a bound wants.
    (chars as f64 / chars_per_token).ceil() as u64
}

/// An estimated usage: `prompt_chars` and `output_chars` turned into tokens.
pub fn estimate_usage(prompt_chars: u64, output_chars: u64, chars_per_token: f64) -> Usage {
    Usage::new(
        estimate_tokens(prompt_chars, chars_per_token),
        estimate_tokens(output_chars, chars_per_token),
    )
}

/// Whether a reported usage is really "none": no tokens at all for an answer
/// that has text. Upstreams that send no usage leave a complete answer's
/// counts at zero; an answer with text cannot have cost nothing.
pub fn usage_is_missing(usage: &Usage, output_chars: u64) -> bool {
    usage.input_tokens == 0 && usage.output_tokens == 0 && output_chars > 0
}

/// The `x-switchboard-cost-usd` value: a plain decimal with up to 10
/// fractional digits and no trailing zeros (`0.000123`, `0`, `1.5`).
pub fn format_usd(usd: f64) -> String {
    if !usd.is_finite() || usd <= 0.0 {
        return "0".to_owned();
    }
    let s = format!("{usd:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "0" || s.is_empty() {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    const MOCK: Price = Price {
        input: 1.0,
        output: 2.0,
        cached_input: Some(0.1),
        cache_write: Some(1.25),
        reasoning: Some(3.0),
    };

    #[test]
    fn every_term_counts_once() {
        let u = Usage {
            input_tokens: 1_000,
            cached_input_tokens: 300,
            cache_write_input_tokens: 200,
            output_tokens: 400,
            reasoning_tokens: 100,
            total_tokens: 1_400,
        };
        // 500×1 + 300×0.1 + 200×1.25 + 300×2 + 100×3 = 1680 per million.
        assert!(close(cost_usd(&u, &MOCK), 0.001_68));
        // Without a reasoning price, reasoning is output.
        let p = Price {
            reasoning: None,
            ..MOCK
        };
        assert!(close(cost_usd(&u, &p), 0.001_58));
        // Without cache prices, cached tokens cost the input price.
        let p = Price::default();
        assert!(close(cost_usd(&u, &Price { input: 1.0, ..p }), 0.001));
    }

    #[test]
    fn inconsistent_counts_are_clamped() {
        let u = Usage {
            input_tokens: 10,
            cached_input_tokens: 50,
            cache_write_input_tokens: 50,
            output_tokens: 1,
            reasoning_tokens: 9,
            total_tokens: 0,
        };
        // 10 cached × 0.1 + 1 reasoning × 3.
        assert!(close(cost_usd(&u, &MOCK), 4.0 / 1e6));
        let max = Usage {
            input_tokens: u64::MAX,
            output_tokens: u64::MAX,
            ..Usage::default()
        };
        assert!(cost_usd(&max, &MOCK).is_finite());
    }

    #[test]
    fn estimates_round_up_at_four_chars_per_token() {
        assert_eq!(estimate_tokens(0, 4.0), 0);
        assert_eq!(estimate_tokens(1, 4.0), 1);
        assert_eq!(estimate_tokens(8, 4.0), 2);
        assert_eq!(estimate_tokens(9, 4.0), 3);
        assert_eq!(estimate_tokens(9, 0.0), 0);
        assert_eq!(estimate_tokens(u64::MAX, 0.5), u64::MAX);
        assert_eq!(estimate_usage(40, 12, 4.0), Usage::new(10, 3));
    }

    #[test]
    fn missing_usage_is_zero_counts_with_text() {
        assert!(usage_is_missing(&Usage::default(), 5));
        assert!(!usage_is_missing(&Usage::default(), 0));
        assert!(!usage_is_missing(&Usage::new(1, 0), 5));
    }

    #[test]
    fn header_values_are_plain_decimals() {
        assert_eq!(format_usd(0.000_123), "0.000123");
        assert_eq!(format_usd(1.5), "1.5");
        assert_eq!(format_usd(0.0), "0");
        assert_eq!(format_usd(1e-12), "0");
        assert_eq!(format_usd(f64::NAN), "0");
        assert_eq!(format_usd(0.000_000_05), "0.00000005");
    }
}
