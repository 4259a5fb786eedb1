//! The routing table: the router's configuration and the aliases with
//! their targets split into instance, model and weight. Built from the
//! configuration, published with the instances in one
//! [`Generation`](crate::registry::Generation); how a model resolves against
//! it is the router's (`router/resolve.rs`).

use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;

use crate::config::types::{FallbackOn, ModelAlias, RouterConfig, Strategy};

/// An alias with its targets split into instance, model and weight.
#[derive(Debug)]
pub(crate) struct Alias {
    pub(crate) strategy: Strategy,
    pub(crate) fallback_on: FallbackOn,
    pub(crate) targets: Vec<(String, String, u32)>,
    pub(crate) next: AtomicUsize,
}

/// What the router reads per request, swapped whole on reload.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) config: RouterConfig,
    pub(crate) aliases: BTreeMap<String, Alias>,
}

impl Settings {
    /// The settings for `config`, with each alias's targets split into
    /// instance, model and weight.
    pub(crate) fn new(config: RouterConfig, aliases: &BTreeMap<String, ModelAlias>) -> Self {
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
                        fallback_on: alias.fallback_on,
                        targets,
                        next: AtomicUsize::new(0),
                    },
                )
            })
            .collect();
        Settings { config, aliases }
    }
}
