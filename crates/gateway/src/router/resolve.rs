//! [`Settings`]: the router's configuration and aliases, and how a model
//! name resolves into the targets to try.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use switchboard_core::Error;

use super::plan::Target;
use crate::config::types::{FallbackOn, Strategy};
use crate::registry::{Generation, Instance, InstanceState};
use crate::routes::{Alias, Settings};

impl Settings {
    /// Resolves `model` into the ordered targets to try and the policy for
    /// moving between them: an alias, `instance/model`, or a bare model
    /// listed by exactly one instance.
    ///
    /// Instances that are not ready are left out, and so are deployments
    /// cooling down after failures, unless every target is: then the least
    /// recently failed one is tried (the "panic" rule of outlier detection),
    /// rather than refusing the request.
    pub(super) fn resolve(
        &self,
        registry: &Generation,
        model: &str,
    ) -> Result<(Vec<Target>, FallbackOn), Error> {
        if let Some(alias) = self.aliases.get(model) {
            return Ok((resolve_alias(registry, model, alias)?, alias.fallback_on));
        }
        let one = |instance: &Arc<Instance>, model: &str| {
            usable(instance).map(|()| {
                (
                    vec![Target {
                        instance: instance.clone(),
                        model: model.to_owned(),
                    }],
                    FallbackOn::default(),
                )
            })
        };
        if let Some((instance, rest)) = model.split_once('/')
            && let Some(inst) = registry.get(instance)
        {
            return one(&inst, rest);
        }
        let instances = registry.instances();
        let listing: Vec<&Arc<Instance>> =
            instances.iter().filter(|i| i.lists_model(model)).collect();
        match listing.as_slice() {
            [only] => one(only, model),
            [] => {
                // A single configured instance takes any model: it may serve
                // models it does not list (fine-tunes, local servers).
                if let [only] = instances.as_slice() {
                    return one(only, model);
                }
                Err(self.unknown_model(registry, model))
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

    /// `model`'s canonical spelling (see `Router::canonical_model`): the
    /// same lookup as [`Settings::resolve`], without health.
    pub(super) fn canonical(&self, registry: &Generation, model: &str) -> Option<String> {
        if let Some(alias) = self.aliases.get(model) {
            let targets: Vec<String> = alias
                .targets
                .iter()
                .map(|(instance, model, _)| format!("{instance}/{model}"))
                .collect();
            return Some(targets.join(","));
        }
        if let Some((instance, _)) = model.split_once('/')
            && registry.get(instance).is_some()
        {
            return Some(model.to_owned());
        }
        // Borrowed, not collected: this runs on every request a cache sees.
        let instances = &registry.instances;
        let mut listing = instances.values().filter(|i| i.lists_model(model));
        match (listing.next(), listing.next()) {
            (Some(only), None) => Some(format!("{}/{model}", only.name())),
            (None, _) if instances.len() == 1 => instances
                .values()
                .next()
                .map(|only| format!("{}/{model}", only.name())),
            _ => None,
        }
    }

    fn unknown_model(&self, registry: &Generation, model: &str) -> Error {
        let mut available: Vec<String> = self.aliases.keys().cloned().collect();
        for inst in registry.instances() {
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
}

/// Errors if `inst` cannot take requests at all (disabled or failed).
fn usable(inst: &Instance) -> Result<(), Error> {
    if inst.provider().is_none() {
        return Err(Error::unavailable(format!(
            "instance `{}` is not available ({})",
            inst.name(),
            describe_state(inst)
        ))
        .with_instance(inst.name_arc().clone()));
    }
    Ok(())
}

fn resolve_alias(registry: &Generation, name: &str, alias: &Alias) -> Result<Vec<Target>, Error> {
    let mut candidates: Vec<(Target, u32)> = Vec::with_capacity(alias.targets.len());
    let mut skipped = Vec::new();
    // The cooling target that failed longest ago, by age of its last failure.
    let mut least_recently_failed: Option<(Target, u64)> = None;
    for (instance, model, weight) in &alias.targets {
        let Some(inst) = registry.get(instance) else {
            skipped.push(format!("instance `{instance}` does not exist"));
            continue;
        };
        if let Err(e) = usable(&inst) {
            skipped.push(e.message().to_owned());
            continue;
        }
        match inst.health().cooling(model) {
            None => candidates.push((
                Target {
                    instance: inst,
                    model: model.clone(),
                },
                *weight,
            )),
            Some(age) => {
                if least_recently_failed.as_ref().is_none_or(|(_, a)| age > *a) {
                    least_recently_failed = Some((
                        Target {
                            instance: inst,
                            model: model.clone(),
                        },
                        age,
                    ));
                }
            }
        }
    }
    if candidates.is_empty() {
        if let Some((target, _)) = least_recently_failed {
            tracing::debug!(
                alias = name,
                instance = target.instance.name(),
                model = %target.model,
                "every target is cooling down; trying the least recently failed"
            );
            return Ok(vec![target]);
        }
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

fn describe_state(inst: &Instance) -> String {
    match inst.state() {
        InstanceState::Ready => "ready".into(),
        InstanceState::Disabled => "disabled".into(),
        InstanceState::Failed { error } => format!("failed: {error}"),
    }
}
