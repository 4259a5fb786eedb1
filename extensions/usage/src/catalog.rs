//! The price catalog (`prices.json`, embedded) and the lookup that puts
//! config overrides in front of it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::{Error, ModelInfo};

use crate::model_id;

/// The checked-in catalog, embedded at build time.
pub const CATALOG_JSON: &str = include_str!("../prices.json");

/// The price of one model, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached prompt tokens.
    pub input: f64,
    /// Generated tokens (reasoning included unless `reasoning` is set).
    pub output: f64,
    /// Prompt tokens read from the provider's cache (absent: the input price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Prompt tokens written to the provider's cache (absent: the input price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Reasoning tokens, when priced apart from output (absent: the output price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

impl Price {
    /// Checks that every price is a finite number, 0 or more; `at` names it in the error.
    pub fn validate(&self, at: &str) -> Result<(), Error> {
        let fields = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cached_input", self.cached_input),
            ("cache_write", self.cache_write),
            ("reasoning", self.reasoning),
        ];
        for (name, value) in fields {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(Error::config(format!(
                    "{at}.{name}: a price must be a finite number of US dollars per million tokens, 0 or more (got {v})"
                )));
            }
        }
        Ok(())
    }
}

/// One provider's block of the catalog file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogProvider {
    kind: String,
    source: String,
    date: String,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    #[serde(default)]
    default: Option<Price>,
    models: BTreeMap<String, CatalogModel>,
}

/// A model's entry: its price, and optionally its own source and date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogModel {
    input: f64,
    output: f64,
    #[serde(default)]
    cached_input: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
    #[serde(default)]
    reasoning: Option<f64>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

impl CatalogModel {
    fn price(&self) -> Price {
        Price {
            input: self.input,
            output: self.output,
            cached_input: self.cached_input,
            cache_write: self.cache_write,
            reasoning: self.reasoning,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    #[allow(dead_code)]
    about: String,
    providers: Vec<CatalogProvider>,
}

/// Where a resolved price came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum PriceOrigin {
    /// `[extensions.usage.prices."<key>"]` in the config.
    Config {
        /// The key that matched (`instance/model`, `instance/*` or `model`).
        key: String,
    },
    /// The catalog's entry for a model.
    Catalog {
        /// The provider kind the entry is listed under.
        provider: String,
        /// The catalog model name that matched.
        model: String,
        /// Where the price was taken from.
        source: String,
        /// When.
        date: String,
    },
    /// The catalog's default for every model of an instance of a provider kind.
    ProviderDefault {
        /// The provider kind.
        provider: String,
    },
}

/// A price and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedPrice {
    /// The price.
    pub price: Price,
    /// Its origin.
    pub origin: PriceOrigin,
}

/// Prices: config overrides in front of the catalog.
#[derive(Debug, Clone)]
pub struct PriceBook {
    overrides: BTreeMap<String, Price>,
    providers: Vec<CatalogProvider>,
}

impl PriceBook {
    /// The embedded catalog with `overrides` (keys `instance/model`,
    /// `instance/*` or a model name) in front of it.
    pub fn new(overrides: BTreeMap<String, Price>) -> Result<Self, Error> {
        Self::from_json(CATALOG_JSON, overrides)
    }

    /// A catalog read from `json` (the `prices.json` format).
    pub fn from_json(json: &str, overrides: BTreeMap<String, Price>) -> Result<Self, Error> {
        let file: CatalogFile = serde_json::from_str(json)
            .map_err(|e| Error::config(format!("the price catalog does not parse: {e}")))?;
        for p in &file.providers {
            if let Some(d) = &p.default {
                d.validate(&format!("catalog {}.default", p.kind))?;
            }
            for (name, m) in &p.models {
                m.price().validate(&format!("catalog {}.{name}", p.kind))?;
            }
        }
        for (key, price) in &overrides {
            price.validate(&format!("prices.\"{key}\""))?;
        }
        Ok(PriceBook {
            overrides,
            providers: file.providers,
        })
    }

    /// The price of `model` on `instance`, for an instance whose provider
    /// kind is unknown: [`lookup_kind`](Self::lookup_kind) with the instance
    /// name as the kind.
    pub fn lookup(&self, instance: &str, model: &str) -> Option<ResolvedPrice> {
        self.lookup_kind(instance, None, model)
    }

    /// The price of `model` on `instance` of provider kind `kind`: the
    /// config's `instance/model`, then `instance/*`, then `model`; then the
    /// catalog: first the provider `kind` (then the provider named like the
    /// instance), its models then its default; then every provider's
    /// models. A model matches a catalog name exactly or as that name plus
    /// a snapshot suffix (`-latest`, `-YYYYMMDD`, `-YYYY-MM-DD`, `-NNN`,
    /// `@YYYYMMDD`), under its own id or the id reduced as clouds spell it
    /// (`models/` dropped; Bedrock's profile prefix, vendor and `-v1:0`
    /// dropped). `None`: unknown.
    pub fn lookup_kind(
        &self,
        instance: &str,
        kind: Option<&str>,
        model: &str,
    ) -> Option<ResolvedPrice> {
        let names = model_id::lookup_names(model);
        let model = names[0].unwrap_or(model);
        for key in [format!("{instance}/{model}"), format!("{instance}/*")] {
            if let Some(p) = self.overrides.get(&key) {
                return Some(config_price(key, *p));
            }
        }
        if let Some(p) = self.overrides.get(model) {
            return Some(config_price(model.to_owned(), *p));
        }
        let find = |p: &CatalogProvider| names.iter().flatten().find_map(|n| find_model(p, n));
        let own = [kind, Some(instance)]
            .into_iter()
            .flatten()
            .find_map(|k| self.providers.iter().find(|p| p.kind == k));
        if let Some(own) = own {
            if let Some(found) = find(own) {
                return Some(found);
            }
            if let Some(d) = own.default {
                return Some(ResolvedPrice {
                    price: d,
                    origin: PriceOrigin::ProviderDefault {
                        provider: own.kind.clone(),
                    },
                });
            }
        }
        self.providers.iter().find_map(find)
    }

    /// The price of every model in `models` whose provider left it empty,
    /// where one is known (`kind_of` gives an instance's provider kind).
    /// Ids are `instance/model` with `provider` the instance, as the gateway
    /// lists them; aliases (no `provider`) are left alone.
    pub fn fill_models(
        &self,
        models: &mut [ModelInfo],
        kind_of: impl Fn(&str) -> Option<&'static str>,
    ) {
        for m in models.iter_mut().filter(|m| !m.provider.is_empty()) {
            let bare =
                m.id.strip_prefix(m.provider.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .unwrap_or(&m.id);
            if let Some(p) = self.lookup_kind(&m.provider, kind_of(&m.provider), bare) {
                m.input_price_per_million.get_or_insert(p.price.input);
                m.output_price_per_million.get_or_insert(p.price.output);
            }
        }
    }

    /// How many models the catalog lists.
    pub fn catalog_len(&self) -> usize {
        self.providers.iter().map(|p| p.models.len()).sum()
    }

    /// How many overrides the config gave.
    pub fn overrides_len(&self) -> usize {
        self.overrides.len()
    }
}

fn config_price(key: String, price: Price) -> ResolvedPrice {
    ResolvedPrice {
        price,
        origin: PriceOrigin::Config { key },
    }
}

/// The longest catalog name of `provider` that `model` is or snapshots.
fn find_model(provider: &CatalogProvider, model: &str) -> Option<ResolvedPrice> {
    let (name, entry) = provider
        .models
        .iter()
        .filter(|(name, _)| {
            model == name.as_str()
                || model
                    .strip_prefix(name.as_str())
                    .is_some_and(is_snapshot_suffix)
        })
        .max_by_key(|(name, _)| name.len())?;
    Some(ResolvedPrice {
        price: entry.price(),
        origin: PriceOrigin::Catalog {
            provider: provider.kind.clone(),
            model: name.clone(),
            source: entry
                .source
                .clone()
                .unwrap_or_else(|| provider.source.clone()),
            date: entry.date.clone().unwrap_or_else(|| provider.date.clone()),
        },
    })
}

/// `-latest`, `-YYYYMMDD`, `-YYYY-MM-DD`, `-NNN` or Vertex AI's `@YYYYMMDD`
/// (a dated or numbered snapshot of the same model, priced like it).
fn is_snapshot_suffix(rest: &str) -> bool {
    let Some(rest) = rest.strip_prefix('-').or_else(|| rest.strip_prefix('@')) else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if rest == "latest" || digits(rest, 8) || digits(rest, 3) {
        return true;
    }
    let parts: Vec<&str> = rest.split('-').collect();
    matches!(parts.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(overrides: &[(&str, Price)]) -> PriceBook {
        let o = overrides
            .iter()
            .map(|(k, p)| ((*k).to_owned(), *p))
            .collect();
        PriceBook::new(o).expect("the embedded catalog is valid")
    }

    fn price(input: f64, output: f64) -> Price {
        Price {
            input,
            output,
            ..Price::default()
        }
    }

    #[test]
    fn the_embedded_catalog_parses_and_covers_every_provider() {
        let b = book(&[]);
        assert!(b.catalog_len() > 30);
        for (instance, model) in [
            ("openai", "gpt-4o"),
            ("anthropic", "claude-sonnet-4-5"),
            ("gemini", "gemini-2.5-pro"),
            ("mock", "mock-1"),
        ] {
            assert!(b.lookup(instance, model).is_some(), "{model}");
        }
    }

    #[test]
    fn snapshots_match_their_model_and_nothing_else() {
        let b = book(&[]);
        let model_of = |m: &str| match b.lookup("proxy", m).map(|r| r.origin) {
            Some(PriceOrigin::Catalog { model, .. }) => Some(model),
            _ => None,
        };
        assert_eq!(model_of("gpt-4o-2024-08-06").as_deref(), Some("gpt-4o"));
        assert_eq!(
            model_of("gpt-4o-mini-2024-07-18").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(
            model_of("claude-opus-4-1-20250805").as_deref(),
            Some("claude-opus-4-1")
        );
        assert_eq!(
            model_of("claude-3-5-sonnet-latest").as_deref(),
            Some("claude-3-5-sonnet")
        );
        assert_eq!(
            model_of("models/gemini-2.0-flash-001").as_deref(),
            Some("gemini-2.0-flash")
        );
        // Not a snapshot: another model that merely starts the same way.
        assert_eq!(model_of("gpt-4o-audio-preview"), None);
        assert_eq!(model_of("claude-opus-4-9"), None);
        assert_eq!(model_of("o3-pro"), None);
    }

    #[test]
    fn overrides_win_in_order_instance_model_then_instance_then_model() {
        let b = book(&[
            ("work/gpt-4o", price(1.0, 1.0)),
            ("work/*", price(2.0, 2.0)),
            ("gpt-4o", price(3.0, 3.0)),
        ]);
        let input = |i: &str, m: &str| b.lookup(i, m).map(|r| r.price.input);
        assert_eq!(input("work", "gpt-4o"), Some(1.0));
        assert_eq!(input("work", "gpt-4o-mini"), Some(2.0));
        assert_eq!(input("openai", "gpt-4o"), Some(3.0));
        assert_eq!(input("openai", "gpt-4o-mini"), Some(0.15));
        assert_eq!(
            b.lookup("work", "x").map(|r| r.origin),
            Some(PriceOrigin::Config {
                key: "work/*".into()
            })
        );
    }

    #[test]
    fn local_instances_are_free_and_unknown_models_unknown() {
        let b = book(&[]);
        let ollama = b.lookup("ollama", "llama3.2").expect("ollama is priced");
        assert_eq!(ollama.price, price(0.0, 0.0));
        assert_eq!(
            ollama.origin,
            PriceOrigin::ProviderDefault {
                provider: "ollama".into()
            }
        );
        // Any model of an instance named `mock` has the documented test price.
        assert_eq!(b.lookup("mock", "echo").map(|r| r.price.output), Some(2.0));
        assert_eq!(b.lookup("openai", "gpt-9-ultra"), None);
        assert_eq!(b.lookup("my-local", "llama3.2"), None);
    }

    #[test]
    fn model_info_prices_are_filled_where_empty() {
        let b = book(&[]);
        let listed = |id: &str, provider: &str| ModelInfo {
            id: id.into(),
            provider: provider.into(),
            ..ModelInfo::default()
        };
        let mut models = [
            ModelInfo {
                output_price_per_million: Some(9.0),
                ..listed("work/gpt-4o-mini", "work")
            },
            listed("work/nope", "work"),
            listed("east/amazon.nova-pro-v1:0", "east"),
            listed("east/us.anthropic.claude-sonnet-4-20250514-v1:0", "east"),
            listed("fast", ""),
        ];
        b.fill_models(&mut models, |i| (i == "east").then_some("bedrock"));
        let prices: Vec<_> = models
            .iter()
            .map(|m| (m.input_price_per_million, m.output_price_per_million))
            .collect();
        assert_eq!(
            prices,
            [
                // The provider's own price stays.
                (Some(0.15), Some(9.0)),
                (None, None),
                (Some(0.8), Some(3.2)),
                (Some(3.0), Some(15.0)),
                // An alias is not priced.
                (None, None),
            ]
        );
    }

    #[test]
    fn cloud_spellings_find_the_catalog_price() {
        let b = book(&[]);
        let origin = |i: &str, k: Option<&str>, m: &str| match b.lookup_kind(i, k, m) {
            Some(ResolvedPrice {
                origin:
                    PriceOrigin::Catalog {
                        provider, model, ..
                    },
                ..
            }) => Some(format!("{provider}/{model}")),
            _ => None,
        };
        let bedrock = Some("bedrock");
        assert_eq!(
            origin("east", bedrock, "amazon.nova-lite-v1:0").as_deref(),
            Some("bedrock/nova-lite")
        );
        assert_eq!(
            origin(
                "east",
                bedrock,
                "eu.anthropic.claude-3-5-haiku-20241022-v1:0"
            )
            .as_deref(),
            Some("anthropic/claude-3-5-haiku")
        );
        assert_eq!(
            origin("vx", Some("vertex"), "claude-opus-4-1@20250805").as_deref(),
            Some("anthropic/claude-opus-4-1")
        );
        assert_eq!(
            origin("co", Some("cohere"), "command-a-03-2025").as_deref(),
            Some("cohere/command-a-03-2025")
        );
        // The kind wins over the instance name: an `ollama`-kind instance
        // named `lab` is free.
        assert_eq!(
            b.lookup_kind("lab", Some("ollama"), "llama3.2")
                .map(|r| r.price.input),
            Some(0.0)
        );
        assert_eq!(b.lookup_kind("lab", None, "llama3.2"), None);
    }

    #[test]
    fn bad_prices_are_config_errors_naming_the_key() {
        let mut o = BTreeMap::new();
        o.insert("x".to_owned(), price(-1.0, 0.0));
        let err = PriceBook::new(o).expect_err("negative price");
        assert!(err.to_string().contains("prices.\"x\".input"), "{err}");
        let err = PriceBook::from_json("{}", BTreeMap::new()).expect_err("bad catalog");
        assert!(err.to_string().contains("catalog"), "{err}");
    }
}
