//! `[extensions.usage]`: every key has a default.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::Error;

use crate::catalog::Price;

/// The usage extension's settings (`enabled` and `order` are the gateway's).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UsageConfig {
    /// Prices in front of the catalog, in US dollars per million tokens,
    /// keyed `"<instance>/<model>"`, `"<instance>/*"` (every model of that
    /// instance) or a model name (on any instance). Each gives `input` and
    /// `output`, and optionally `cached_input`, `cache_write`, `reasoning`.
    pub prices: BTreeMap<String, Price>,
    /// Characters per token when the upstream reported no usage and tokens
    /// are estimated from the prompt's and answer's text (the common rule of
    /// thumb for English text).
    #[schemars(range(min = 0.5, max = 100.0))]
    pub estimate_chars_per_token: f64,
    /// The most distinct (instance, model, key) label sets the metrics keep;
    /// requests past it are counted under `key="other"`.
    #[schemars(range(min = 1))]
    pub max_metric_series: usize,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig {
            prices: BTreeMap::new(),
            estimate_chars_per_token: 4.0,
            max_metric_series: 10_000,
        }
    }
}

impl UsageConfig {
    /// Checks values beyond their types: prices finite and 0 or more,
    /// `estimate_chars_per_token` between 0.5 and 100, `max_metric_series`
    /// at least 1.
    pub fn validate(&self) -> Result<(), Error> {
        for (key, price) in &self.prices {
            if key.trim().is_empty() {
                return Err(Error::config(
                    "prices: a key must be `<instance>/<model>`, `<instance>/*` or a model name, not empty",
                ));
            }
            price.validate(&format!("prices.\"{key}\""))?;
        }
        let cpt = self.estimate_chars_per_token;
        if !(cpt.is_finite() && (0.5..=100.0).contains(&cpt)) {
            return Err(Error::config(format!(
                "estimate_chars_per_token must be between 0.5 and 100 (got {cpt})"
            )));
        }
        if self.max_metric_series == 0 {
            return Err(Error::config("max_metric_series must be at least 1"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_empty_table_is_a_valid_config() {
        let c: UsageConfig = serde_json::from_value(json!({})).expect("defaults");
        c.validate().expect("valid");
        assert!((c.estimate_chars_per_token - 4.0).abs() < f64::EPSILON);
        assert_eq!(c.max_metric_series, 10_000);
    }

    #[test]
    fn prices_parse_and_are_checked() {
        let c: UsageConfig = serde_json::from_value(json!({
            "prices": {"work/gpt-4o": {"input": 1.0, "output": 2.0, "cached_input": 0.5}}
        }))
        .expect("parses");
        c.validate().expect("valid");
        assert_eq!(c.prices["work/gpt-4o"].cached_input, Some(0.5));
        let bad: Result<UsageConfig, _> =
            serde_json::from_value(json!({"prices": {"m": {"input": 1.0}}}));
        assert!(bad.is_err(), "output is required");
        let bad: Result<UsageConfig, _> = serde_json::from_value(json!({"price": {}}));
        assert!(bad.is_err(), "unknown keys are errors");
        let c = UsageConfig {
            estimate_chars_per_token: 0.0,
            ..UsageConfig::default()
        };
        assert!(c.validate().is_err());
    }
}
