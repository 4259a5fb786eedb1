//! `usage`: token usage and cost for every request.
//!
//! - a **price catalog** (`prices.json`, embedded; per provider and model,
//!   each price with its source and date), overridable in config;
//! - **the answer's cost** in `x-switchboard-cost-usd` (complete answers:
//!   a stream's headers are gone before its usage arrives), `unknown` for a
//!   model without a price, and `x-switchboard-usage-estimated: true` when
//!   the upstream reported no usage and the tokens were estimated;
//! - **a ledger** in the store, one row per billed request, with estimated
//!   (no usage reported: ~4 characters per token) and partial (cancelled or
//!   failed stream: what was received) rows flagged;
//! - **metrics**: `switchboard_cost_usd_total` and `switchboard_tokens_total`
//!   by instance, model and client key;
//! - **`GET /v1/usage`** (method `get`): totals by key, model, instance or day;
//! - **model prices**: the models the gateway lists (`/v1/models`,
//!   `switchboard models`) get the catalog's input and output prices where
//!   their provider gave none.
//!
//! Unknown is not zero: usage the upstream did not report is estimated and
//! flagged, and a model without a price has cost `unknown` in the header and
//! is counted in `switchboard_usage_unpriced_requests_total` (its ledger rows
//! say 0: the ledger has no "unknown" cost).

mod catalog;
mod config;
mod cost;
mod ledger;
mod metrics;
mod model_id;
mod query;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use switchboard_core::extension::{
    CompletionRecord, ExtensionContext, Gateway, MethodCall, MethodInfo, RequestContext, Store,
};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, Error, Extension, ExtensionInit, ModelInfo,
    RequestAction, async_trait, extension,
};

pub use catalog::{CATALOG_JSON, Price, PriceBook, PriceOrigin, ResolvedPrice};
pub use config::UsageConfig;
pub use cost::{cost_usd, estimate_tokens, estimate_usage, format_usd, usage_is_missing};
pub use ledger::{Billed, Entry, RequestTally, billed_usage, entry, prompt_chars, response_chars};
pub use metrics::{OTHER, UsageMetrics};
pub use query::{get_method, get_result, ledger_query, parse_time};

/// The response header with a complete answer's cost in US dollars.
pub const COST_HEADER: &str = "x-switchboard-cost-usd";
/// The response header set (to `true`) when the cost rests on estimated tokens.
pub const ESTIMATED_HEADER: &str = "x-switchboard-usage-estimated";
/// The cost header's value for a model without a known price.
pub const UNKNOWN_COST: &str = "unknown";

/// Usage and cost: prices every answer from a catalog, writes a ledger,
/// counts cost and tokens for `/metrics`, and serves totals at `GET /v1/usage`.
#[extension(
    name = "usage",
    config = UsageConfig,
    hooks(on_request, on_response, on_event, on_complete, methods, on_models),
    mount = "/v1/usage"
)]
pub struct UsageExtension {
    book: PriceBook,
    chars_per_token: f64,
    store: Arc<dyn Store>,
    /// Tells an instance's provider kind, for the catalog lookup (absent
    /// when built with [`new`](Self::new): instance names stand in).
    gateway: Option<Arc<dyn Gateway>>,
    metrics: UsageMetrics,
    ledger_errors: AtomicU64,
}

impl std::fmt::Debug for UsageExtension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageExtension")
            .field("store", &self.store.backend())
            .field("chars_per_token", &self.chars_per_token)
            .finish_non_exhaustive()
    }
}

impl UsageExtension {
    /// Builds the extension from a (validated) config and a store.
    pub fn new(config: UsageConfig, store: Arc<dyn Store>) -> Result<Self, Error> {
        config.validate()?;
        Ok(UsageExtension {
            book: PriceBook::new(config.prices)?,
            chars_per_token: config.estimate_chars_per_token,
            store,
            gateway: None,
            metrics: UsageMetrics::new(config.max_metric_series),
            ledger_errors: AtomicU64::new(0),
        })
    }

    /// The prices in use (catalog and overrides).
    pub fn prices(&self) -> &PriceBook {
        &self.book
    }

    /// The price of `model` on instance `instance`, the instance's provider
    /// kind asked of the gateway.
    pub fn price(&self, instance: &str, model: &str) -> Option<ResolvedPrice> {
        self.book
            .lookup_kind(instance, self.provider_kind(instance), model)
    }

    fn provider_kind(&self, instance: &str) -> Option<&'static str> {
        self.gateway.as_ref()?.provider_kind(instance)
    }
}

#[async_trait]
impl ExtensionInit for UsageExtension {
    type Config = UsageConfig;

    fn validate(config: &UsageConfig) -> Result<(), Error> {
        config.validate()?;
        PriceBook::new(config.prices.clone()).map(|_| ())
    }

    async fn init(config: UsageConfig, ctx: ExtensionContext) -> Result<Self, Error> {
        let mut usage = UsageExtension::new(config, ctx.store)?;
        usage.gateway = Some(ctx.gateway);
        Ok(usage)
    }
}

#[async_trait]
impl Extension for UsageExtension {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        ctx.scratch.get_or_default::<RequestTally>().prompt_chars = prompt_chars(request);
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        if ctx.answered_by.is_some() {
            // Answered by an extension (a cache hit): no provider, no cost.
            ctx.set_response_header(COST_HEADER, "0");
            return Ok(());
        }
        let answer_chars = response_chars(response);
        // Kept for `on_complete`, so the ledger estimates like the header.
        let tally = ctx.scratch.get_or_default::<RequestTally>();
        tally.output_chars_seen = tally.output_chars_seen.max(answer_chars);
        let billed = billed_usage(
            Some(&response.usage),
            tally.prompt_chars,
            answer_chars,
            self.chars_per_token,
        );
        let cost = match self.price(&response.provider, &response.model) {
            Some(p) => format_usd(cost_usd(&billed.usage, &p.price)),
            None => UNKNOWN_COST.to_owned(),
        };
        ctx.set_response_header(COST_HEADER, cost);
        if billed.estimated {
            ctx.set_response_header(ESTIMATED_HEADER, "true");
        }
        Ok(())
    }

    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        ctx.scratch.get_or_default::<RequestTally>().observe(&event);
        out.push(event);
        Ok(())
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        let kind = record
            .instance
            .as_deref()
            .and_then(|i| self.provider_kind(i));
        let Some(e) = entry(record, &self.book, kind, self.chars_per_token) else {
            return;
        };
        let r = &e.row;
        let usage = switchboard_core::Usage {
            input_tokens: r.input_tokens,
            output_tokens: r.output_tokens,
            cached_input_tokens: r.cached_input_tokens,
            cache_write_input_tokens: r.cache_write_input_tokens,
            reasoning_tokens: r.reasoning_tokens,
            total_tokens: r.input_tokens.saturating_add(r.output_tokens),
        };
        let key = r.key_id.as_deref().unwrap_or("-");
        self.metrics
            .record(&r.instance, &r.model, key, &usage, e.cost_usd, r.estimated);
        if self.store.append_usage(&e.row).await.is_err() {
            self.ledger_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_models(&self, models: &mut [ModelInfo]) {
        self.book.fill_models(models, |i| self.provider_kind(i));
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![get_method()]
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        if call.method != "get" {
            return Err(Error::not_found(format!(
                "the usage extension has no method `{}` (it has: get)",
                call.method
            )));
        }
        let query = ledger_query(&call)?;
        let totals = self.store.usage_totals(&query).await?;
        Ok(get_result(&query, &call, totals))
    }

    fn metrics(&self, out: &mut String) {
        self.metrics.write(out);
    }

    fn status(&self) -> Value {
        json!({
            "store": self.store.backend(),
            "catalog_models": self.book.catalog_len(),
            "price_overrides": self.book.overrides_len(),
            "estimate_chars_per_token": self.chars_per_token,
            "metric_series": self.metrics.series(),
            "ledger_write_errors": self.ledger_errors.load(Ordering::Relaxed),
        })
    }
}
