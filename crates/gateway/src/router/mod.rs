//! The router: resolves a model name to targets, then tries them with
//! retries, exponential backoff with jitter, `Retry-After`, time and attempt
//! budgets, and fallback.
//!
//! `plan` decides what follows a failed attempt; `stream` tracks a routed
//! stream after its first event.

mod plan;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::Serialize;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, Provider,
};
use tokio::time::Instant;

use crate::config::types::{ModelAlias, RouterConfig, Strategy};
use crate::health::HealthPolicy;
use crate::registry::{Instance, Registry};
use crate::validated::{Routable, Validated};
use plan::Plan;
pub use plan::Target;
use stream::TrackedStream;

/// Which instance and model served a request, and what it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteInfo {
    /// The instance that answered.
    pub instance: Arc<str>,
    /// The model, as that instance names it.
    pub model: String,
    /// Upstream attempts made, the successful one included.
    pub attempts: u32,
    /// How many times the router moved on to another target.
    pub fallbacks: u32,
    /// Time spent waiting on upstreams (for streams: until the first event):
    /// what the providers' clients recorded with
    /// [`wire_time::record`](switchboard_core::wire_time::record), or the
    /// whole provider call for providers that record nothing.
    #[serde(serialize_with = "ser_ms")]
    pub upstream_time: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// A routed result with its [`RouteInfo`].
#[derive(Debug)]
pub struct Routed<T> {
    /// The result.
    pub value: T,
    /// How it was obtained.
    pub route: RouteInfo,
}

#[derive(Debug)]
struct Alias {
    strategy: Strategy,
    targets: Vec<(String, String, u32)>,
    next: AtomicUsize,
}

#[derive(Debug)]
struct Settings {
    config: RouterConfig,
    aliases: BTreeMap<String, Alias>,
}

impl Settings {
    /// The settings for `config`, with each alias's targets split into
    /// instance, model and weight.
    fn new(config: RouterConfig, aliases: &BTreeMap<String, ModelAlias>) -> Self {
        let aliases = aliases
            .iter()
            .map(|(name, alias)| {
                let targets = alias
                    .targets
                    .iter()
                    .filter_map(|t| {
                        t.target()
                            .split_once('/')
                            .map(|(i, m)| (i.to_owned(), m.to_owned(), t.weight()))
                    })
                    .collect();
                (
                    name.clone(),
                    Alias {
                        strategy: alias.strategy,
                        targets,
                        next: AtomicUsize::new(0),
                    },
                )
            })
            .collect();
        Settings { config, aliases }
    }
}

/// Routes requests to instances of a [`Registry`].
pub struct Router {
    registry: Arc<Registry>,
    settings: ArcSwap<Settings>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "aliases",
                &self.settings.load().aliases.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router over `registry` with `config` and model `aliases`.
    pub fn new(
        registry: Arc<Registry>,
        config: RouterConfig,
        aliases: &BTreeMap<String, ModelAlias>,
    ) -> Self {
        Router {
            registry,
            settings: ArcSwap::from_pointee(Settings::new(config, aliases)),
        }
    }

    /// Replaces the router settings and aliases (on config reload).
    pub fn update(&self, config: RouterConfig, aliases: &BTreeMap<String, ModelAlias>) {
        self.settings
            .store(Arc::new(Settings::new(config, aliases)));
    }

    /// The registry routed over.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Alias names.
    pub fn aliases(&self) -> Vec<String> {
        self.settings.load().aliases.keys().cloned().collect()
    }

    /// Resolves `model` into the ordered targets to try:
    /// an alias, `instance/model`, or a bare model listed by exactly one instance.
    /// Instances that are not ready or are cooling down are left out.
    pub fn resolve(&self, model: &str) -> Result<Vec<Target>, Error> {
        let settings = self.settings.load();
        if let Some(alias) = settings.aliases.get(model) {
            return self.resolve_alias(model, alias);
        }
        if let Some((instance, rest)) = model.split_once('/')
            && let Some(inst) = self.registry.get(instance)
        {
            self.usable(&inst)?;
            return Ok(vec![Target {
                instance: inst,
                model: rest.to_owned(),
            }]);
        }
        let instances = self.registry.instances();
        let listing: Vec<&Arc<Instance>> =
            instances.iter().filter(|i| i.lists_model(model)).collect();
        match listing.as_slice() {
            [one] => {
                self.usable(one)?;
                Ok(vec![Target {
                    instance: (*one).clone(),
                    model: model.to_owned(),
                }])
            }
            [] => {
                // A single configured instance takes any model: it may serve
                // models it does not list (fine-tunes, local servers).
                if let [only] = instances.as_slice() {
                    self.usable(only)?;
                    return Ok(vec![Target {
                        instance: only.clone(),
                        model: model.to_owned(),
                    }]);
                }
                Err(self.unknown_model(model, &settings))
            }
            many => Err(Error::invalid_param(
                "model",
                format!(
                    "model `{model}` is served by several instances; name one of: {}",
                    many.iter()
                        .map(|i| format!("`{}/{model}`", i.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    fn unknown_model(&self, model: &str, settings: &Settings) -> Error {
        let mut available: Vec<String> = settings.aliases.keys().cloned().collect();
        for inst in self.registry.instances() {
            for m in inst.models() {
                available.push(format!("{}/{}", inst.name(), m.id));
            }
        }
        let list = if available.is_empty() {
            "none are configured".to_owned()
        } else {
            available.join(", ")
        };
        Error::not_found(format!(
            "model `{model}` does not exist; available models: {list}"
        ))
        .with_param("model")
    }

    /// Errors if `inst` cannot take requests now.
    fn usable(&self, inst: &Instance) -> Result<(), Error> {
        if inst.provider().is_none() {
            return Err(Error::unavailable(format!(
                "instance `{}` is not available ({})",
                inst.name(),
                describe_state(inst)
            ))
            .with_instance(inst.name_arc().clone()));
        }
        if inst.health().is_cooling_down() {
            return Err(Error::unavailable(format!(
                "instance `{}` is cooling down after failures ({} ms left)",
                inst.name(),
                inst.health().snapshot().cooldown_remaining_ms
            ))
            .with_instance(inst.name_arc().clone()));
        }
        Ok(())
    }

    fn resolve_alias(&self, name: &str, alias: &Alias) -> Result<Vec<Target>, Error> {
        let mut candidates: Vec<(Target, u32)> = Vec::with_capacity(alias.targets.len());
        let mut skipped = Vec::new();
        for (instance, model, weight) in &alias.targets {
            match self.registry.get(instance) {
                Some(inst) => match self.usable(&inst) {
                    Ok(()) => candidates.push((
                        Target {
                            instance: inst,
                            model: model.clone(),
                        },
                        *weight,
                    )),
                    Err(e) => skipped.push(e.message().to_owned()),
                },
                None => skipped.push(format!("instance `{instance}` does not exist")),
            }
        }
        if candidates.is_empty() {
            return Err(Error::unavailable(format!(
                "no target of `{name}` is available: {}",
                skipped.join("; ")
            )));
        }
        match alias.strategy {
            Strategy::Fallback => {}
            Strategy::RoundRobin => {
                let start = alias.next.fetch_add(1, Ordering::Relaxed) % candidates.len();
                candidates.rotate_left(start);
            }
            Strategy::Weighted => {
                let total: u64 = candidates.iter().map(|(_, w)| u64::from(*w)).sum();
                if total > 0 {
                    let mut pick = fastrand::u64(0..total);
                    let idx = candidates
                        .iter()
                        .position(|(_, w)| {
                            let w = u64::from(*w);
                            if pick < w {
                                true
                            } else {
                                pick -= w;
                                false
                            }
                        })
                        .unwrap_or(0);
                    let chosen = candidates.remove(idx);
                    candidates.insert(0, chosen);
                }
            }
            Strategy::LeastLatency => {
                // Unmeasured targets (0) sort first, so each gets measured.
                candidates.sort_by_key(|(t, _)| t.instance.health().ewma_latency_us());
            }
        }
        Ok(candidates.into_iter().map(|(t, _)| t).collect())
    }

    /// A chat answer, routed. Validates `request` once, as
    /// [`Switchboard::chat`](crate::Switchboard::chat) does for the server
    /// and library users; no retry or fallback validates it again.
    pub async fn chat(&self, request: ChatRequest) -> Result<Routed<ChatResponse>, Error> {
        self.chat_validated(Validated::new(request)?).await
    }

    /// [`chat`](Self::chat) for a request the caller validated.
    pub(crate) async fn chat_validated(
        &self,
        request: Validated<ChatRequest>,
    ) -> Result<Routed<ChatResponse>, Error> {
        let (mut response, route) = self.route(request, |p, r| p.chat(r)).await?;
        if response.provider.is_empty() {
            response.provider = route.instance.to_string();
        }
        Ok(Routed {
            value: response,
            route,
        })
    }

    /// A streamed chat answer, routed. Falls back only before the first
    /// event: once an event reached the caller, errors end the stream.
    /// Validates `request` once, as [`chat`](Self::chat) does.
    pub async fn chat_stream(&self, request: ChatRequest) -> Result<Routed<ChatStream>, Error> {
        self.chat_stream_validated(Validated::new(request)?).await
    }

    /// [`chat_stream`](Self::chat_stream) for a request the caller validated.
    pub(crate) async fn chat_stream_validated(
        &self,
        request: Validated<ChatRequest>,
    ) -> Result<Routed<ChatStream>, Error> {
        let first_event_timeout =
            Duration::from_millis(self.settings.load().config.first_event_timeout_ms);
        let (started, route) = self
            .route(request, |p, r| {
                Box::pin(async move {
                    let mut stream = p.chat_stream(r).await?;
                    // Waiting for the first event is waiting on the upstream:
                    // as the provider's client timed it on the socket, or the
                    // whole wait for a client that records nothing.
                    let waiting = Instant::now();
                    let (first, wire) = switchboard_core::wire_time::measure(tokio::time::timeout(
                        first_event_timeout,
                        stream.next(),
                    ))
                    .await;
                    switchboard_core::wire_time::record(wire.unwrap_or_else(|| waiting.elapsed()));
                    match first {
                        Ok(Some(Ok(first))) => Ok((first, stream)),
                        Ok(Some(Err(e))) => Err(e),
                        Ok(None) => Err(Error::protocol("the stream ended before its first event")),
                        Err(_) => Err(Error::timeout(format!(
                            "no first event within {} ms",
                            first_event_timeout.as_millis()
                        ))),
                    }
                })
            })
            .await?;
        let (first, rest) = started;
        let instance = self.registry.get(&route.instance);
        let stream = TrackedStream {
            first: Some(first),
            inner: rest,
            name: route.instance.clone(),
            instance,
            policy: *self.registry.policy().as_ref(),
            ttft: route.upstream_time,
            done: false,
        };
        Ok(Routed {
            value: Box::pin(stream),
            route,
        })
    }

    /// Embeddings, routed. Validates `request` once, as [`chat`](Self::chat)
    /// does.
    pub async fn embed(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<Routed<EmbeddingsResponse>, Error> {
        self.embed_validated(Validated::new(request)?).await
    }

    /// [`embed`](Self::embed) for a request the caller validated.
    pub(crate) async fn embed_validated(
        &self,
        request: Validated<EmbeddingsRequest>,
    ) -> Result<Routed<EmbeddingsResponse>, Error> {
        let (mut response, route) = self.route(request, |p, r| p.embed(r)).await?;
        if response.provider.is_empty() {
            response.provider = route.instance.to_string();
        }
        Ok(Routed {
            value: response,
            route,
        })
    }

    /// Resolves the request's model, then runs the retry/fallback loop.
    async fn route<R: Routable, T>(
        &self,
        request: Validated<R>,
        op: impl for<'a> Fn(&'a dyn Provider, &'a R) -> BoxFuture<'a, Result<T, Error>>,
    ) -> Result<(T, RouteInfo), Error> {
        let targets = self.resolve(request.get().model())?;
        self.run(targets, request, op).await
    }

    /// The retry/fallback loop shared by chat, streams and embeddings. It
    /// takes a [`Validated`] request and only retargets it: no attempt
    /// validates it again.
    async fn run<R: Routable, T>(
        &self,
        targets: Vec<Target>,
        mut request: Validated<R>,
        op: impl for<'a> Fn(&'a dyn Provider, &'a R) -> BoxFuture<'a, Result<T, Error>>,
    ) -> Result<(T, RouteInfo), Error> {
        let config = self.settings.load().config.clone();
        let policy: HealthPolicy = *self.registry.policy().as_ref();
        let deadline = Instant::now() + Duration::from_millis(config.timeout_ms);
        let mut plan = Plan::new(&targets, &config);
        let mut upstream_time = Duration::ZERO;
        loop {
            let target = &targets[plan.index];
            let Some(provider) = target.instance.provider() else {
                // Disabled or failed since resolve: move on without an attempt.
                let err = Error::unavailable(format!(
                    "instance `{}` became unavailable",
                    target.instance.name()
                ));
                match plan.next_target() {
                    true => continue,
                    false => return Err(err.with_instance(target.instance.name_arc().clone())),
                }
            };
            let retargeted = request.retarget(&target.model);
            plan.attempts += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let started = Instant::now();
            let (result, wire) = match retargeted {
                Ok(()) => {
                    switchboard_core::wire_time::measure(tokio::time::timeout(
                        remaining,
                        op(provider.as_ref(), request.get()),
                    ))
                    .await
                }
                // The target's model is empty: fail the attempt as the
                // request's `validate()` would, without calling the provider.
                Err(invalid) => (Ok(Err(invalid)), None),
            };
            let result = match result {
                Ok(r) => r,
                Err(_) => Err(Error::timeout(format!(
                    "the request's time budget of {} ms ran out",
                    config.timeout_ms
                ))),
            };
            let elapsed = started.elapsed();
            // What the provider's client reported waiting on the network, or
            // (for providers that report nothing) the whole call.
            upstream_time += wire.map_or(elapsed, |w| w.min(elapsed));
            match result {
                Ok(value) => {
                    target.instance.health().record_success(elapsed, &policy);
                    return Ok((
                        value,
                        RouteInfo {
                            instance: target.instance.name_arc().clone(),
                            model: target.model.clone(),
                            attempts: plan.attempts,
                            fallbacks: plan.fallbacks,
                            upstream_time,
                        },
                    ));
                }
                Err(err) => {
                    target
                        .instance
                        .health()
                        .record_error(&err, elapsed, &policy);
                    // The one place a provider call's error gets its instance:
                    // `with_instance` sets the single tag, so an error the
                    // provider already tagged with this instance is unchanged.
                    let err = err.with_instance(target.instance.name_arc().clone());
                    tracing::debug!(
                        instance = target.instance.name(),
                        model = %target.model,
                        attempt = plan.attempts,
                        error = %err,
                        "upstream attempt failed"
                    );
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    match plan.after_error(&err, &targets, remaining) {
                        Some(delay) => {
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                        }
                        None => return Err(err),
                    }
                }
            }
        }
    }
}

fn describe_state(inst: &Instance) -> String {
    match inst.state() {
        crate::registry::InstanceState::Ready => "ready".into(),
        crate::registry::InstanceState::Disabled => "disabled".into(),
        crate::registry::InstanceState::Failed { error } => format!("failed: {error}"),
    }
}
