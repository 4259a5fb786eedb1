//! The router: resolves a model name to targets, then tries them with
//! retries, exponential backoff with jitter, `Retry-After`, time and attempt
//! budgets, and fallback.
//!
//! `resolve` turns a model name into targets (skipping cooling
//! deployments), `plan` decides what follows a failed attempt, `stream`
//! opens a routed stream and tracks it after its first event, `forward`
//! serves the same-format fast path.
//!
//! Every duration from the configuration or an upstream is added to an
//! instant with [`deadline_after`], which saturates instead of panicking.

mod forward;
mod plan;
mod resolve;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Serialize;
use switchboard_core::{
    ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error, Provider,
};
use tokio::time::Instant;

use crate::config::types::{FallbackOn, ModelAlias, RouterConfig};
use crate::health::HealthPolicy;
use crate::registry::{Generation, Registry};
use crate::routes::Settings;
use crate::validated::{Routable, Validated};
pub use forward::{Forwarded, StreamForwarded};
use plan::Plan;
pub use plan::Target;

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

/// Routes requests to instances of a [`Registry`].
pub struct Router {
    registry: Arc<Registry>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "aliases",
                &self
                    .registry
                    .generation()
                    .routes
                    .aliases
                    .keys()
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router over `registry` with `config` and model `aliases` (published
    /// in the registry's [`Generation`](crate::registry::Generation)).
    pub fn new(
        registry: Arc<Registry>,
        config: RouterConfig,
        aliases: &BTreeMap<String, ModelAlias>,
    ) -> Self {
        registry.publish_routes(Arc::new(Settings::new(config, aliases)));
        Router { registry }
    }

    /// A router over `registry`, reading the routes published there.
    pub(crate) fn over(registry: Arc<Registry>) -> Self {
        Router { registry }
    }

    /// Replaces the router settings and aliases. A config reload through
    /// [`Switchboard`](crate::Switchboard) publishes them with the
    /// configuration and instances instead, as one step.
    pub fn update(&self, config: RouterConfig, aliases: &BTreeMap<String, ModelAlias>) {
        self.registry
            .publish_routes(Arc::new(Settings::new(config, aliases)));
    }

    /// The registry routed over.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Alias names.
    pub fn aliases(&self) -> Vec<String> {
        self.registry
            .generation()
            .routes
            .aliases
            .keys()
            .cloned()
            .collect()
    }

    /// Resolves `model` into the ordered targets to try: an alias,
    /// `instance/model`, or a bare model listed by exactly one instance.
    /// Instances that are not ready are left out, and so are deployments
    /// cooling down after failures, unless every target is: then the least
    /// recently failed one is tried rather than refusing the request.
    pub fn resolve(&self, model: &str) -> Result<Vec<Target>, Error> {
        let generation = self.registry.generation();
        generation
            .routes
            .resolve(&generation, model)
            .map(|(targets, _)| targets)
    }

    /// `model` in one spelling, whoever names it how: see
    /// [`Gateway::canonical_model`](switchboard_core::extension::Gateway::canonical_model).
    pub fn canonical_model(&self, model: &str) -> Option<String> {
        let generation = self.registry.generation();
        generation.routes.canonical(&generation, model)
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
        let (response, route) = self
            .route(self.registry.generation(), request, None, |p, r| p.chat(r))
            .await?;
        Ok(answered_by(response, route))
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
        // One generation for the whole request: a reload meanwhile changes
        // nothing it reads.
        let generation = self.registry.generation();
        let (targets, fallback_on) = generation
            .routes
            .resolve(&generation, request.get().model())?;
        self.stream_on(generation, targets, fallback_on, request, |p, r| {
            p.chat_stream(r)
        })
        .await
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
        let (mut response, route) = self
            .route(self.registry.generation(), request, None, |p, r| p.embed(r))
            .await?;
        if response.provider.is_empty() {
            response.provider = route.instance.to_string();
        }
        Ok(Routed {
            value: response,
            route,
        })
    }

    /// Resolves the request's model, then runs the retry/fallback loop,
    /// within the request's time budget and `deadline` if any.
    async fn route<R: Routable, T>(
        &self,
        generation: Arc<Generation>,
        request: Validated<R>,
        deadline: Option<Instant>,
        op: impl for<'a> Fn(&'a dyn Provider, &'a R) -> BoxFuture<'a, Result<T, Error>>,
    ) -> Result<(T, RouteInfo), Error> {
        let (targets, fallback_on) = generation
            .routes
            .resolve(&generation, request.get().model())?;
        self.run(&generation, targets, fallback_on, request, deadline, op)
            .await
    }

    /// The retry/fallback loop shared by chat, streams and embeddings. It
    /// takes a [`Validated`] request and only retargets it: no attempt
    /// validates it again.
    async fn run<R: Routable, T>(
        &self,
        generation: &Generation,
        targets: Vec<Target>,
        fallback_on: FallbackOn,
        mut request: Validated<R>,
        deadline: Option<Instant>,
        op: impl for<'a> Fn(&'a dyn Provider, &'a R) -> BoxFuture<'a, Result<T, Error>>,
    ) -> Result<(T, RouteInfo), Error> {
        let config = &generation.routes.config;
        let policy: HealthPolicy = generation.policy;
        let start = Instant::now();
        let budget = deadline_after(Duration::from_millis(config.timeout_ms));
        let deadline = deadline.map_or(budget, |d| d.min(budget));
        let budget_ms = deadline.saturating_duration_since(start).as_millis();
        let mut plan = Plan::new(&targets, config, fallback_on);
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
                    "the request's time budget of {budget_ms} ms ran out"
                ))),
            };
            let elapsed = started.elapsed();
            // What the provider's client reported waiting on the network, or
            // (for providers that report nothing) the whole call.
            upstream_time += wire.map_or(elapsed, |w| w.min(elapsed));
            let health = target.instance.health();
            match result {
                Ok(value) => {
                    health.record_routed_success(&target.model, elapsed, &policy);
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
                    health.record_routed_error(&target.model, &err, elapsed, &policy);
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

/// A routed chat answer, named after the instance that gave it when its
/// provider left `provider` empty.
fn answered_by(mut response: ChatResponse, route: RouteInfo) -> Routed<ChatResponse> {
    if response.provider.is_empty() {
        response.provider = route.instance.to_string();
    }
    Routed {
        value: response,
        route,
    }
}

/// `duration` from now, saturating: a duration too large for the clock
/// (a huge configured timeout or `Retry-After`) gives a far-future instant
/// instead of a panic.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    /// About 30 years: later than anything a request waits for.
    const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(FAR))
        .unwrap_or(now)
}
