//! `keys`: virtual API keys, with per-key models, expiry, request and token
//! limits, parallel requests and budgets.
//!
//! - **Keys** (`sk-sb-…`, 256 random bits) are made by the `create` method
//!   (`switchboard call keys.create`, `POST /v1/extensions/keys/create`,
//!   admin only) and shown once; the store keeps only their SHA-256 and a
//!   short prefix. `list`, `get`, `update` and `revoke` manage them.
//! - **Authentication** (the `authenticate` hook): a key the static
//!   `server.api_keys` do not know is looked up here; a revoked or expired
//!   key is refused with a clear 401. With this extension enabled, requests
//!   without a key are refused.
//! - **Limits** (`on_request`, before routing): requests per minute, tokens
//!   per minute (estimated from the request, reconciled with the real usage
//!   after) as token buckets (GCRA: a burst of the limit, then the limit's
//!   rate; no doubling at a minute's edge), and requests at once. A refusal is a 429
//!   with `retry-after`; every answer carries `x-ratelimit-limit-*`,
//!   `x-ratelimit-remaining-*` and `x-ratelimit-reset-*`. Counted in this
//!   process, or in Redis (`limits_backend = "redis"`: one atomic script per
//!   request, shared by every gateway node; failing open or closed).
//! - **Budgets** from the usage ledger (the `usage` extension writes it):
//!   past the hard limit a 429 `insufficient_quota`, past the soft limit a
//!   `x-switchboard-budget-warning` header.

mod config;
mod limits;
mod methods;
pub mod record;
mod registry;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::extension::{
    ClientKeyInfo, CompletionRecord, ExtensionContext, KeyGrant, MethodCall, MethodInfo,
    RequestContext,
};
use switchboard_core::{
    ChatRequest, Error, Extension, ExtensionInit, RequestAction, async_trait, extension,
};

pub use config::{KeysConfig, LimitsBackend, OnBudgetError, OnRedisError, SharedLimits};
pub use limits::{
    Admission, Ask, BackendError, InFlight, LimitBackend, Limits, MemoryLimits, ParallelSlot,
    RedisLimits, RedisSlot, Refused, Slot, Verdict, WINDOW, Windows,
};
use record::{KEY_PREFIX, KeyRecord, hash_key, now_secs};
pub use registry::{Registry, period_start};

/// The header a key over its soft budget gets on every answer.
pub const BUDGET_WARNING_HEADER: &str = "x-switchboard-budget-warning";

/// Virtual API keys: made, listed, changed and revoked through methods,
/// checked on every request, with per-key models, expiry, rate and token
/// limits, parallel requests and budgets.
#[extension(
    name = "keys",
    config = KeysConfig,
    hooks(authenticate, on_request, on_complete, methods)
)]
#[derive(Debug)]
pub struct Keys {
    registry: Registry,
    limits: Limits,
    chars_per_token: f64,
    on_budget_error: OnBudgetError,
    teams: BTreeMap<String, SharedLimits>,
    models: BTreeMap<String, SharedLimits>,
    refused_rate: AtomicU64,
    refused_budget: AtomicU64,
    refused_auth: AtomicU64,
    budget_unchecked: AtomicU64,
}

/// What `on_request` leaves for `on_complete`: the slots held while the
/// request runs (its key's, team's, model's), and each tokens window it was
/// counted in, its `tpm`, and the tokens counted there before it ran.
#[derive(Debug, Default)]
struct Admitted {
    slots: Vec<ParallelSlot>,
    counted: Vec<(String, u64, u64)>,
}

/// A group of requests sharing limits.
#[derive(Debug, Clone, Copy)]
enum Group<'a> {
    /// One API key (its id).
    Key(&'a str),
    /// Every key of a team.
    Team(&'a str),
    /// Every request for a model or alias.
    Model(&'a str),
}

impl Group<'_> {
    /// Its name in the limits' backend: the key id, `team:<name>` or
    /// `model:<name>` (key ids start with `key_`, so they never collide).
    fn subject(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Group::Key(id) => std::borrow::Cow::Borrowed(id),
            Group::Team(name) => std::borrow::Cow::Owned(format!("team:{name}")),
            Group::Model(name) => std::borrow::Cow::Owned(format!("model:{name}")),
        }
    }
}

impl std::fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Group::Key(id) => write!(f, "API key `{id}`"),
            Group::Team(name) => write!(f, "team `{name}`"),
            Group::Model(name) => write!(f, "model `{name}`"),
        }
    }
}

/// The `x-ratelimit-*` headers an answer shows: of all the windows that
/// admitted it, the one with the least left (requests and tokens apart).
#[derive(Debug, Default)]
struct Shown {
    requests: Option<Verdict>,
    tokens: Option<Verdict>,
}

impl Shown {
    fn note(&mut self, admission: &Admission) {
        for (mine, theirs) in [
            (&mut self.requests, admission.requests),
            (&mut self.tokens, admission.tokens),
        ] {
            if let Some(v) = theirs
                && mine.is_none_or(|m| v.remaining < m.remaining)
            {
                *mine = Some(v);
            }
        }
    }

    fn write(&self, ctx: &mut RequestContext) {
        if let Some(v) = &self.requests {
            rate_headers(ctx, REQUEST_HEADERS, v);
        }
        if let Some(v) = &self.tokens {
            rate_headers(ctx, TOKEN_HEADERS, v);
        }
    }
}

#[async_trait]
impl ExtensionInit for Keys {
    type Config = KeysConfig;

    fn validate(config: &KeysConfig) -> Result<(), Error> {
        config.validate()
    }

    async fn init(config: KeysConfig, ctx: ExtensionContext) -> Result<Self, Error> {
        Self::validate(&config)?;
        Ok(Keys {
            registry: Registry::new(
                ctx.store,
                Duration::from_millis(config.cache_ttl_ms),
                config.cache_capacity,
            ),
            limits: Limits::from_config(&config)?,
            chars_per_token: config.estimate_chars_per_token,
            on_budget_error: config.on_budget_error,
            teams: config.teams,
            models: config.models,
            refused_rate: AtomicU64::new(0),
            refused_budget: AtomicU64::new(0),
            refused_auth: AtomicU64::new(0),
            budget_unchecked: AtomicU64::new(0),
        })
    }
}

impl Keys {
    /// The registry of keys (the store behind the methods).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn estimate_tokens(&self, request: &ChatRequest) -> u64 {
        let chars = serde_json::to_vec(&request.messages).map_or(0, |b| b.len()) as f64;
        (chars / self.chars_per_token).ceil() as u64
    }

    /// The 429 for a request `refused` by `who`'s limits.
    fn refusal(&self, refused: Refused, who: &str, ask: &Ask, admission: &Admission) -> Error {
        self.refused_rate.fetch_add(1, Ordering::Relaxed);
        let (what, v) = match refused {
            Refused::Parallel => {
                return Error::rate_limited(
                    Some(Duration::from_secs(1)),
                    format!(
                        "{who} already has {} requests running (max_parallel); retry in 1s",
                        ask.max_parallel.unwrap_or_default()
                    ),
                );
            }
            Refused::Requests => ("requests", admission.requests.unwrap_or(UNKNOWN)),
            Refused::Tokens => ("tokens", admission.tokens.unwrap_or(UNKNOWN)),
        };
        let wait = whole_secs(v.reset).max(1);
        Error::rate_limited(
            Some(Duration::from_secs(wait)),
            format!(
                "rate limit of {who}: {} {what} per minute; retry in {wait}s",
                v.limit
            ),
        )
    }

    async fn check_budget(&self, ctx: &mut RequestContext, key: &KeyRecord) -> Result<(), Error> {
        let Some(budget) = &key.budget else {
            return Ok(());
        };
        // Fails closed by default: a budget that cannot be read refuses the
        // request (`on_budget_error = "open"` admits it unchecked).
        let spent = match self
            .registry
            .spent(&key.id, budget.period, now_secs())
            .await
        {
            Ok(spent) => spent,
            Err(e) => match self.on_budget_error {
                OnBudgetError::Closed => {
                    return Err(Error::unavailable(format!(
                        "the budget of API key `{}` cannot be checked ({e}); refused \
                         (on_budget_error = \"closed\")",
                        key.id
                    )));
                }
                OnBudgetError::Open => {
                    self.budget_unchecked.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
            },
        };
        if spent >= budget.amount_usd {
            self.refused_budget.fetch_add(1, Ordering::Relaxed);
            return Err(Error::quota_exceeded(format!(
                "API key `{}` has spent its budget: ${spent:.4} of ${:.4} per {}",
                key.id,
                budget.amount_usd,
                period_name(budget.period)
            )));
        }
        if let Some(soft) = budget.soft_amount_usd
            && spent >= soft
        {
            ctx.set_response_header(
                BUDGET_WARNING_HEADER,
                format!(
                    "spent ${spent:.4} of ${:.4} (soft limit ${soft:.4})",
                    budget.amount_usd
                ),
            );
        }
        Ok(())
    }
}

impl SharedLimits {
    /// What one request asks of these limits (its tokens filled in later).
    fn ask(&self) -> Ask {
        Ask {
            max_parallel: self.max_parallel,
            rpm: self.rpm,
            tpm: self.tpm,
            tokens: 0,
        }
    }
}

fn period_name(p: record::BudgetPeriod) -> &'static str {
    match p {
        record::BudgetPeriod::Day => "day",
        record::BudgetPeriod::Month => "month",
        record::BudgetPeriod::Total => "key lifetime",
    }
}

/// A verdict a refusal lacks (never: a backend refusing by a window
/// reports its verdict).
const UNKNOWN: Verdict = Verdict {
    admitted: false,
    limit: 0,
    remaining: 0,
    reset: WINDOW,
};

/// The `x-ratelimit-*` header names (limit, remaining, reset) of requests.
const REQUEST_HEADERS: [&str; 3] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
];
/// The same of tokens.
const TOKEN_HEADERS: [&str; 3] = [
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

/// Sets the `x-ratelimit-*` headers named (limit, remaining, reset) to `v`.
fn rate_headers(ctx: &mut RequestContext, [limit, remaining, reset]: [&str; 3], v: &Verdict) {
    ctx.set_response_header(limit, v.limit.to_string());
    ctx.set_response_header(remaining, v.remaining.to_string());
    ctx.set_response_header(reset, format!("{}s", whole_secs(v.reset)));
}

/// `d` in whole seconds, rounded up: a client told to wait that long does
/// not come back a moment too early.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[async_trait]
impl Extension for Keys {
    async fn authenticate(&self, key: &str) -> Result<Option<KeyGrant>, Error> {
        if !key.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        let Some(record) = self.registry.by_hash(&hash_key(key)).await? else {
            return Ok(None);
        };
        if let Some(refusal) = record.refusal(now_secs()) {
            self.refused_auth.fetch_add(1, Ordering::Relaxed);
            return Err(refusal);
        }
        Ok(Some(KeyGrant {
            key: ClientKeyInfo {
                id: Arc::from(record.id.as_str()),
                team: record.team.as_deref().map(Arc::from),
                metadata: record.metadata.clone(),
            },
            models: (!record.models.is_empty()).then(|| record.models.clone()),
        }))
    }

    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        // Only this extension's keys have limits of their own (static keys
        // have none); teams and models are limited whoever asks.
        let key = match ctx.client_key.as_ref() {
            Some(k) => self.registry.cached(&k.id),
            None => None,
        };
        let team = key
            .as_ref()
            .and_then(|k| k.team.as_deref())
            .or_else(|| ctx.client_key.as_ref().and_then(|k| k.team.as_deref()))
            .and_then(|t| self.teams.get_key_value(t));
        let model = self.models.get_key_value(request.model.as_str());
        if key.is_none() && team.is_none() && model.is_none() {
            return Ok(RequestAction::Continue);
        }
        // At most three groups, in order; nothing is formatted unless a
        // group refuses (the names only go into a refusal's message).
        let mut groups: [Option<(Group<'_>, Ask)>; 3] = [
            key.as_deref().map(|k| {
                let ask = Ask {
                    max_parallel: k.max_parallel,
                    rpm: k.rpm.map(u64::from),
                    tpm: k.tpm,
                    tokens: 0,
                };
                (Group::Key(&k.id), ask)
            }),
            team.map(|(name, limits)| (Group::Team(name), limits.ask())),
            model.map(|(name, limits)| (Group::Model(name), limits.ask())),
        ];
        // A group with no limit at all costs nothing (no lock, no Redis
        // round trip).
        for group in &mut groups {
            if group.as_ref().is_some_and(|(_, a)| a.is_unlimited()) {
                *group = None;
            }
        }
        if groups.iter().flatten().any(|(_, a)| a.tpm.is_some()) {
            let estimate = self.estimate_tokens(request);
            for (_, ask) in groups.iter_mut().flatten() {
                if let Some(tpm) = ask.tpm {
                    ask.tokens = estimate.min(tpm);
                }
            }
        }
        let mut admitted = Admitted::default();
        let mut shown = Shown::default();
        for (group, ask) in groups.iter().flatten() {
            let subject = group.subject();
            // `None`: the backend failed and the limits fail open.
            let Some(admission) = self.limits.admit(&subject, ask).await? else {
                continue;
            };
            if let Some(refused) = admission.refused {
                // The refusing window's numbers, not the tightest so far.
                shown = Shown::default();
                shown.note(&admission);
                shown.write(ctx);
                return Err(self.refusal(refused, &group.to_string(), ask, &admission));
            }
            shown.note(&admission);
            admitted.slots.extend(admission.slot);
            if let Some(tpm) = ask.tpm {
                admitted
                    .counted
                    .push((subject.into_owned(), tpm, ask.tokens));
            }
        }
        shown.write(ctx);
        if let Some(key) = &key {
            self.check_budget(ctx, key).await?;
        }
        if !admitted.slots.is_empty() || !admitted.counted.is_empty() {
            ctx.scratch.insert(admitted);
        }
        Ok(RequestAction::Continue)
    }

    async fn on_complete(&self, record: &CompletionRecord) {
        let Some(usage) = &record.usage else {
            return;
        };
        let Some(admitted) = record.scratch.get::<Admitted>() else {
            return;
        };
        let used = usage.input_tokens.saturating_add(usage.output_tokens);
        for (subject, tpm, estimated) in &admitted.counted {
            let extra = used.saturating_sub(*estimated);
            self.limits.add_tokens(subject, *tpm, extra).await;
        }
    }

    fn methods(&self) -> Vec<MethodInfo> {
        methods::infos()
    }

    async fn call(&self, call: MethodCall) -> Result<Value, Error> {
        methods::call(&self.registry, call).await
    }

    fn metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            out,
            "# TYPE switchboard_keys_refused counter\n\
             # HELP switchboard_keys_refused Requests the keys extension refused, by reason."
        );
        for (reason, n) in [
            ("rate_limit", self.refused_rate.load(Ordering::Relaxed)),
            ("budget", self.refused_budget.load(Ordering::Relaxed)),
            (
                "revoked_or_expired",
                self.refused_auth.load(Ordering::Relaxed),
            ),
            ("limits_unavailable", self.limits.refused_unavailable()),
        ] {
            let _ = writeln!(
                out,
                "switchboard_keys_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let backend = self.limits.backend_name();
        let _ = writeln!(
            out,
            "# TYPE switchboard_keys_limits_unchecked counter\n\
             # HELP switchboard_keys_limits_unchecked Requests admitted without their rate limits checked (the limits' backend failed; on_redis_error = \"open\").\n\
             switchboard_keys_limits_unchecked_total{{backend=\"{backend}\"}} {}\n\
             # TYPE switchboard_keys_limits_backend_errors counter\n\
             # HELP switchboard_keys_limits_backend_errors Calls to the rate limits' backend that failed or timed out.\n\
             switchboard_keys_limits_backend_errors_total{{backend=\"{backend}\"}} {}\n\
             # TYPE switchboard_keys_budget_unchecked counter\n\
             # HELP switchboard_keys_budget_unchecked Requests admitted without their budget checked (the ledger could not be read; on_budget_error = \"open\").\n\
             switchboard_keys_budget_unchecked_total {}",
            self.limits.unchecked(),
            self.limits.failures(),
            self.budget_unchecked.load(Ordering::Relaxed)
        );
    }

    fn status(&self) -> Value {
        json!({
            "refused": {
                "rate_limit": self.refused_rate.load(Ordering::Relaxed),
                "budget": self.refused_budget.load(Ordering::Relaxed),
                "revoked_or_expired": self.refused_auth.load(Ordering::Relaxed),
                "limits_unavailable": self.limits.refused_unavailable(),
            },
            "limits": {
                "backend": self.limits.backend_name(),
                "unchecked": self.limits.unchecked(),
                "backend_errors": self.limits.failures(),
            },
            "budget_unchecked": self.budget_unchecked.load(Ordering::Relaxed),
        })
    }
}
