//! The store extensions keep durable data in: namespaced JSON values, and a
//! usage ledger that can be summed by key, model, instance or day.
//!
//! The default is an embedded SQLite file (`switchboard-state`); shared
//! backends (PostgreSQL) implement the same trait.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// Durable data for extensions. Namespaces keep extensions apart (each uses
/// its own name). Object safe; every call is bounded and never blocks the
/// async runtime.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The backend's name (`sqlite`, `memory`, `postgres`), for status views.
    fn backend(&self) -> &'static str;

    /// The value stored under `key` in `namespace`.
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error>;

    /// Stores `value` under `key` in `namespace`, replacing any previous one.
    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error>;

    /// Removes `key` from `namespace`; whether it was there.
    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error>;

    /// Every key of `namespace` starting with `prefix`, sorted, with its value.
    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error>;

    /// Appends one row to the usage ledger.
    async fn append_usage(&self, row: &LedgerRow) -> Result<(), Error>;

    /// Sums the ledger rows `query` selects, one total per group, sorted by group.
    async fn usage_totals(&self, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error>;
}

/// One finished request in the usage ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The request id.
    pub request_id: String,
    /// The client key's id, if keys are configured.
    pub key_id: Option<String>,
    /// The instance that answered (empty if none did).
    pub instance: String,
    /// The model, as that instance names it.
    pub model: String,
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Generated tokens, reasoning included.
    pub output_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cached_input_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_input_tokens: u64,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: u64,
    /// What the request cost, in US dollars (0 when `cost_unknown`).
    pub cost_usd: f64,
    /// Whether no price was known for the model: unknown is not zero, and
    /// totals count these requests apart.
    #[serde(default)]
    pub cost_unknown: bool,
    /// Whether the token counts are an estimate (the upstream reported none).
    pub estimated: bool,
    /// Whether the counts cover only part of the answer (a cancelled stream).
    pub partial: bool,
}

/// How ledger totals are grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerGroup {
    /// One total for everything selected.
    #[default]
    All,
    /// Per client key id (`-` for requests without a key).
    Key,
    /// Per model.
    Model,
    /// Per instance.
    Instance,
    /// Per UTC day (`YYYY-MM-DD`).
    Day,
}

/// Which ledger rows to sum, and how to group them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerQuery {
    /// Grouping.
    pub group_by: LedgerGroup,
    /// Rows at or after this time (ms since the epoch).
    pub from_ms: Option<i64>,
    /// Rows before this time (ms since the epoch).
    pub to_ms: Option<i64>,
    /// Only this client key's rows.
    pub key_id: Option<String>,
}

/// The sum of a group of ledger rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerTotal {
    /// The group's value (a key id, model, instance or day; `all`).
    pub group: String,
    /// Requests counted.
    pub requests: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Prompt tokens read from cache.
    pub cached_input_tokens: u64,
    /// Prompt tokens written to cache.
    pub cache_write_input_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Cost in US dollars.
    pub cost_usd: f64,
    /// How many of the requests had estimated counts.
    pub estimated_requests: u64,
    /// How many of the requests had no known price (not in `cost_usd`).
    #[serde(default)]
    pub unpriced_requests: u64,
}

impl LedgerTotal {
    /// Adds one row to this total (saturating).
    pub fn add(&mut self, row: &LedgerRow) {
        self.requests = self.requests.saturating_add(1);
        self.input_tokens = self.input_tokens.saturating_add(row.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(row.output_tokens);
        self.cached_input_tokens = self
            .cached_input_tokens
            .saturating_add(row.cached_input_tokens);
        self.cache_write_input_tokens = self
            .cache_write_input_tokens
            .saturating_add(row.cache_write_input_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(row.reasoning_tokens);
        self.cost_usd += row.cost_usd;
        if row.estimated {
            self.estimated_requests = self.estimated_requests.saturating_add(1);
        }
        if row.cost_unknown {
            self.unpriced_requests = self.unpriced_requests.saturating_add(1);
        }
    }
}

impl LedgerGroup {
    /// The group `row` belongs to.
    pub fn of(&self, row: &LedgerRow) -> String {
        match self {
            LedgerGroup::All => "all".to_owned(),
            LedgerGroup::Key => row.key_id.clone().unwrap_or_else(|| "-".to_owned()),
            LedgerGroup::Model => row.model.clone(),
            LedgerGroup::Instance => row.instance.clone(),
            LedgerGroup::Day => utc_day(row.at_ms),
        }
    }
}

/// `YYYY-MM-DD` (UTC) of a time in ms since the epoch (civil-from-days,
/// Howard Hinnant's algorithm; no date crate needed for one conversion).
pub fn utc_day(at_ms: i64) -> String {
    let days = at_ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_days() {
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
        assert_eq!(utc_day(1_796_256_000_000 - 1), "2026-12-02");
        assert_eq!(utc_day(-1), "1969-12-31");
    }

    #[test]
    fn totals_add_and_count_estimates() {
        let mut t = LedgerTotal::default();
        let row = LedgerRow {
            input_tokens: 10,
            output_tokens: 5,
            cost_usd: 0.5,
            estimated: true,
            ..Default::default()
        };
        t.add(&row);
        t.add(&LedgerRow {
            estimated: false,
            ..row.clone()
        });
        assert_eq!(
            (t.requests, t.input_tokens, t.estimated_requests),
            (2, 20, 1)
        );
        assert!((t.cost_usd - 1.0).abs() < 1e-12);
        assert_eq!(LedgerGroup::Key.of(&row), "-");
    }
}
