//! Cost and token counters by instance, model and client key, kept in a
//! bounded map and written in the OpenMetrics text format at scrape time.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use switchboard_core::Usage;

/// The label value that label sets over the cap are counted under.
pub const OTHER: &str = "other";

/// Extra room, past the cap, for `(instance, model, "other")` sets; past it
/// everything goes to `("other", "other", "other")`.
const OVERFLOW_RESERVE: usize = 1_000;

/// One label set: instance, model, client key id (`-` without keys).
type Labels = (String, String, String);

#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    cost_usd: f64,
    input: u64,
    output: u64,
    cached_input: u64,
    cache_write: u64,
    reasoning: u64,
}

#[derive(Debug, Default)]
struct Inner {
    series: HashMap<Labels, Counts>,
    estimated_requests: u64,
    unpriced_requests: u64,
}

/// The extension's counters. Updates take a short lock, off the request
/// path (from `on_complete`).
#[derive(Debug)]
pub struct UsageMetrics {
    cap: usize,
    inner: Mutex<Inner>,
}

impl UsageMetrics {
    /// Counters holding at most about `cap` distinct label sets.
    pub fn new(cap: usize) -> Self {
        UsageMetrics {
            cap: cap.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Counts one request: its tokens, its cost (`None`: unknown price, not
    /// added), and whether the tokens were estimated.
    pub fn record(
        &self,
        instance: &str,
        model: &str,
        key: &str,
        usage: &Usage,
        cost_usd: Option<f64>,
        estimated: bool,
    ) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if estimated {
            inner.estimated_requests = inner.estimated_requests.saturating_add(1);
        }
        if cost_usd.is_none() {
            inner.unpriced_requests = inner.unpriced_requests.saturating_add(1);
        }
        let labels = self.slot(&inner.series, instance, model, key);
        let c = inner.series.entry(labels).or_default();
        c.cost_usd += cost_usd.unwrap_or(0.0);
        c.input = c.input.saturating_add(usage.input_tokens);
        c.output = c.output.saturating_add(usage.output_tokens);
        c.cached_input = c.cached_input.saturating_add(usage.cached_input_tokens);
        c.cache_write = c.cache_write.saturating_add(usage.cache_write_input_tokens);
        c.reasoning = c.reasoning.saturating_add(usage.reasoning_tokens);
    }

    /// The label set to count under: the request's own while there is room.
    fn slot(
        &self,
        series: &HashMap<Labels, Counts>,
        instance: &str,
        model: &str,
        key: &str,
    ) -> Labels {
        let own = (instance.to_owned(), model.to_owned(), key.to_owned());
        if series.contains_key(&own) || series.len() < self.cap {
            return own;
        }
        let other_key = (instance.to_owned(), model.to_owned(), OTHER.to_owned());
        if series.contains_key(&other_key) || series.len() < self.cap + OVERFLOW_RESERVE {
            return other_key;
        }
        (OTHER.to_owned(), OTHER.to_owned(), OTHER.to_owned())
    }

    /// How many label sets are held.
    pub fn series(&self) -> usize {
        self.inner.lock().map(|i| i.series.len()).unwrap_or(0)
    }

    /// Appends the counters in the OpenMetrics text format.
    pub fn write(&self, out: &mut String) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<(&Labels, &Counts)> = inner.series.iter().collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str("# TYPE switchboard_cost_usd counter\n");
        out.push_str(
            "# HELP switchboard_cost_usd What requests cost, in US dollars, by instance, model and client key (unpriced models add nothing).\n",
        );
        for ((i, m, k), c) in &rows {
            let _ = writeln!(
                out,
                "switchboard_cost_usd_total{{instance=\"{}\",model=\"{}\",key=\"{}\"}} {}",
                escape(i),
                escape(m),
                escape(k),
                c.cost_usd
            );
        }
        out.push_str("# TYPE switchboard_tokens counter\n");
        out.push_str(
            "# HELP switchboard_tokens Tokens by instance, model, client key and type (cached_input and cache_write are part of input, reasoning part of output).\n",
        );
        for ((i, m, k), c) in &rows {
            for (ty, n) in [
                ("input", c.input),
                ("output", c.output),
                ("cached_input", c.cached_input),
                ("cache_write", c.cache_write),
                ("reasoning", c.reasoning),
            ] {
                let _ = writeln!(
                    out,
                    "switchboard_tokens_total{{instance=\"{}\",model=\"{}\",key=\"{}\",type=\"{ty}\"}} {n}",
                    escape(i),
                    escape(m),
                    escape(k),
                );
            }
        }
        out.push_str("# TYPE switchboard_usage_estimated_requests counter\n");
        out.push_str("# HELP switchboard_usage_estimated_requests Requests whose token counts were estimated (the upstream reported none).\n");
        let _ = writeln!(
            out,
            "switchboard_usage_estimated_requests_total {}",
            inner.estimated_requests
        );
        out.push_str("# TYPE switchboard_usage_unpriced_requests counter\n");
        out.push_str("# HELP switchboard_usage_unpriced_requests Requests to a model without a known price (cost unknown, counted as 0).\n");
        let _ = writeln!(
            out,
            "switchboard_usage_unpriced_requests_total {}",
            inner.unpriced_requests
        );
    }
}

/// A label value escaped for the text format (`\\`, `\"`, `\n`).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_up_and_render() {
        let m = UsageMetrics::new(10);
        let u = Usage {
            cached_input_tokens: 2,
            reasoning_tokens: 1,
            ..Usage::new(10, 5)
        };
        m.record("openai", "gpt-4o", "k1", &u, Some(0.5), false);
        m.record("openai", "gpt-4o", "k1", &u, Some(0.25), true);
        m.record("openai", "x\"y", "-", &u, None, false);
        let mut out = String::new();
        m.write(&mut out);
        assert!(out.contains(
            "switchboard_cost_usd_total{instance=\"openai\",model=\"gpt-4o\",key=\"k1\"} 0.75\n"
        ));
        assert!(out.contains(
            "switchboard_tokens_total{instance=\"openai\",model=\"gpt-4o\",key=\"k1\",type=\"cached_input\"} 4\n"
        ));
        assert!(out.contains("model=\"x\\\"y\""));
        assert!(out.contains("switchboard_usage_estimated_requests_total 1\n"));
        assert!(out.contains("switchboard_usage_unpriced_requests_total 1\n"));
    }

    #[test]
    fn label_sets_are_bounded() {
        let m = UsageMetrics::new(3);
        let u = Usage::new(1, 1);
        for k in 0..100 {
            m.record("i", "m", &format!("k{k}"), &u, Some(1.0), false);
        }
        // Three keys of their own, the rest under key="other".
        assert_eq!(m.series(), 4);
        let mut out = String::new();
        m.write(&mut out);
        assert!(
            out.contains(
                "switchboard_cost_usd_total{instance=\"i\",model=\"m\",key=\"other\"} 97\n"
            )
        );
        // Past the reserve too, everything lands in one set.
        let m = UsageMetrics::new(1);
        for i in 0..(OVERFLOW_RESERVE + 50) {
            m.record(&format!("i{i}"), "m", "k", &u, Some(1.0), false);
        }
        assert_eq!(m.series(), 1 + OVERFLOW_RESERVE + 1);
    }
}
