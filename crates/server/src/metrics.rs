//! Prometheus metrics: requests, errors by kind, latency and time to first
//! token by instance/model, tokens, retries, fallbacks, and the gateway's own
//! overhead (total time minus upstream time).

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use switchboard_core::Usage;
use switchboard_gateway::RouteInfo;
use switchboard_gateway::registry::Registry as Instances;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    api: &'static str,
    status: &'static str,
}

/// An instance name as a label value: cloning it is a reference count.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct InstanceName(Arc<str>);

impl EncodeLabelValue for InstanceName {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&&*self.0, encoder)
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    instance: InstanceName,
    model: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    instance: InstanceName,
    model: String,
    direction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    api: &'static str,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
}

fn latency_histogram() -> Histogram {
    // 5 ms .. ~80 s
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

fn overhead_histogram() -> Histogram {
    // 5 µs .. ~80 ms: the gateway's own time is small.
    Histogram::new(exponential_buckets(0.000_005, 2.0, 15))
}

/// Every metric the gateway exports.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<KindLabels, Counter>,
    duration: Family<TargetLabels, Histogram>,
    ttft: Family<TargetLabels, Histogram>,
    tokens: Family<TokenLabels, Counter>,
    retries: Family<TargetLabels, Counter>,
    fallbacks: Family<TargetLabels, Counter>,
    overhead: Family<ApiLabels, Histogram>,
    in_flight: Gauge<i64, AtomicI64>,
    instance_available: Family<InstanceLabels, Gauge>,
    deployment_available: Family<TargetLabels, Gauge>,
    deployment_cooldown: Family<TargetLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    instance: InstanceName,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Every metric registered, none observed yet.
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<KindLabels, Counter>::default();
        let duration = Family::<TargetLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let ttft = Family::<TargetLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        let retries = Family::<TargetLabels, Counter>::default();
        let fallbacks = Family::<TargetLabels, Counter>::default();
        let overhead = Family::<ApiLabels, Histogram>::new_with_constructor(
            overhead_histogram as fn() -> Histogram,
        );
        let in_flight = Gauge::<i64, AtomicI64>::default();
        let instance_available = Family::<InstanceLabels, Gauge>::default();
        let deployment_available = Family::<TargetLabels, Gauge>::default();
        let deployment_cooldown =
            Family::<TargetLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "instance_available",
            "1 when the instance takes requests, 0 while failed health checks cool it down",
            instance_available.clone(),
        );
        registry.register(
            "deployment_available",
            "1 when the deployment (instance and model) takes requests, 0 while it cools down; only deployments that failed are listed",
            deployment_available.clone(),
        );
        registry.register(
            "deployment_cooldown_remaining_seconds",
            "Remaining cooldown of a deployment (instance and model) that failed",
            deployment_cooldown.clone(),
        );
        registry.register(
            "requests",
            "Requests answered, by API and outcome",
            requests.clone(),
        );
        registry.register("errors", "Errors, by API and error kind", errors.clone());
        registry.register(
            "request_duration_seconds",
            "Time from request to the end of the answer, by instance and model",
            duration.clone(),
        );
        registry.register(
            "time_to_first_token_seconds",
            "Time from request to the first streamed event, by instance and model",
            ttft.clone(),
        );
        registry.register(
            "tokens",
            "Tokens, by instance, model and direction (input/output)",
            tokens.clone(),
        );
        registry.register(
            "retries",
            "Upstream retries on the same target",
            retries.clone(),
        );
        registry.register(
            "fallbacks",
            "Moves to another target after a failure",
            fallbacks.clone(),
        );
        registry.register(
            "gateway_overhead_seconds",
            "Time the gateway itself added: total time minus the time provider clients reported waiting on the upstream network (see switchboard_core::wire_time)",
            overhead.clone(),
        );
        registry.register(
            "in_flight_requests",
            "Requests being answered now (a streamed answer until its last byte)",
            in_flight.clone(),
        );
        Metrics {
            registry,
            requests,
            errors,
            duration,
            ttft,
            tokens,
            retries,
            fallbacks,
            overhead,
            in_flight,
            instance_available,
            deployment_available,
            deployment_cooldown,
        }
    }

    /// Sets the health gauges from the instances' passive health, at scrape
    /// time (nothing on the request path): instances and the deployments
    /// that failed. Gone instances and recovered deployments drop out.
    pub(crate) fn observe_health(&self, instances: &Instances) {
        self.instance_available.clear();
        self.deployment_available.clear();
        self.deployment_cooldown.clear();
        for instance in instances.instances() {
            let name = InstanceName(instance.name_arc().clone());
            let snapshot = instance.health().snapshot();
            self.instance_available
                .get_or_create(&InstanceLabels {
                    instance: name.clone(),
                })
                .set(i64::from(snapshot.available));
            for d in snapshot.deployments {
                let labels = TargetLabels {
                    instance: name.clone(),
                    model: d.model,
                };
                self.deployment_available
                    .get_or_create(&labels)
                    .set(i64::from(d.available));
                #[allow(clippy::cast_precision_loss)]
                let seconds = d.cooldown_remaining_ms as f64 / 1000.0;
                self.deployment_cooldown.get_or_create(&labels).set(seconds);
            }
        }
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    /// The gauge of requests being answered now.
    pub(crate) fn in_flight(&self) -> &Gauge<i64, AtomicI64> {
        &self.in_flight
    }

    /// Counts a finished request; `status` is `ok` or an error kind code.
    pub(crate) fn request(&self, api: &'static str, status: &'static str) {
        self.requests
            .get_or_create(&RequestLabels { api, status })
            .inc();
        if status != "ok" {
            self.errors
                .get_or_create(&KindLabels { api, kind: status })
                .inc();
        }
    }

    /// Records what routing took: retries, fallbacks.
    pub(crate) fn route(&self, route: &RouteInfo) {
        let labels = target_labels(route);
        let retries = route.attempts.saturating_sub(1 + route.fallbacks);
        if retries > 0 {
            self.retries
                .get_or_create(&labels)
                .inc_by(u64::from(retries));
        }
        if route.fallbacks > 0 {
            self.fallbacks
                .get_or_create(&labels)
                .inc_by(u64::from(route.fallbacks));
        }
    }

    /// Records one measure of the gateway's overhead.
    pub(crate) fn overhead(&self, api: &'static str, overhead: Duration) {
        self.overhead
            .get_or_create(&ApiLabels { api })
            .observe(overhead.as_secs_f64());
    }

    /// Records a stream's first event: time to first token and the overhead up to it.
    pub(crate) fn first_event(&self, api: &'static str, route: &RouteInfo, ttft: Duration) {
        self.ttft
            .get_or_create(&target_labels(route))
            .observe(ttft.as_secs_f64());
        self.overhead
            .get_or_create(&ApiLabels { api })
            .observe(ttft.saturating_sub(route.upstream_time).as_secs_f64());
    }

    /// Records a finished answer's (streamed or not) duration and tokens.
    pub(crate) fn answer_finished(&self, route: &RouteInfo, total: Duration, usage: &Usage) {
        let labels = target_labels(route);
        self.duration
            .get_or_create(&labels)
            .observe(total.as_secs_f64());
        self.tokens(labels, usage);
    }

    fn tokens(&self, labels: TargetLabels, usage: &Usage) {
        let TargetLabels { instance, model } = labels;
        let mut token_labels = TokenLabels {
            instance,
            model,
            direction: "input",
        };
        for (direction, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
        ] {
            if n > 0 {
                token_labels.direction = direction;
                self.tokens.get_or_create(&token_labels).inc_by(n);
            }
        }
    }
}

fn target_labels(route: &RouteInfo) -> TargetLabels {
    TargetLabels {
        instance: InstanceName(route.instance.clone()),
        model: route.model.clone(),
    }
}
