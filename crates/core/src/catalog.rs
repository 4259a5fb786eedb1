//! Provider descriptors and the catalog of every provider linked into the binary.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

use crate::{Capabilities, Error, Provider, ProviderContext};

/// The future a descriptor's build fn returns.
pub type BuildFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn Provider>, Error>> + Send>>;

/// Everything Switchboard knows about a provider type before building it:
/// plain `'static` data and `fn` pointers, emitted by `#[provider]`.
#[derive(Clone, Copy)]
pub struct ProviderDescriptor {
    /// The provider's unique name: the `kind` in `[providers.<instance>]`.
    pub name: &'static str,
    /// A human-friendly name.
    pub display_name: &'static str,
    /// What the provider is, from the type's doc comment.
    pub description: &'static str,
    /// The provider crate's version.
    pub version: &'static str,
    /// The provider crate's authors, `:`-separated as Cargo gives them.
    pub authors: &'static str,
    /// The provider's homepage (may be empty).
    pub homepage: &'static str,
    /// The crate that defines the provider (named in duplicate-name errors).
    pub crate_name: &'static str,
    /// The Rust path of the provider type.
    pub type_path: &'static str,
    /// What the provider supports.
    pub capabilities: Capabilities,
    /// Returns the JSON Schema of the provider's config.
    pub config_schema: fn() -> Value,
    /// Deserializes and validates a config without building the provider.
    pub validate_config: fn(&Value) -> Result<(), Error>,
    /// Deserializes and validates a config, then builds the provider.
    pub build: fn(Value, ProviderContext) -> BuildFuture,
}

impl ProviderDescriptor {
    /// The JSON Schema of the provider's config.
    pub fn config_schema(&self) -> Value {
        (self.config_schema)()
    }

    /// Checks a config without building anything.
    pub fn validate(&self, config: &Value) -> Result<(), Error> {
        (self.validate_config)(config)
    }

    /// Builds a provider from `config`.
    pub async fn build(
        &self,
        config: Value,
        ctx: ProviderContext,
    ) -> Result<Arc<dyn Provider>, Error> {
        let instance = ctx.instance.clone();
        (self.build)(config, ctx)
            .await
            .map_err(|e| match e.instance() {
                Some(_) => e,
                None => e.with_instance(instance),
            })
    }
}

impl fmt::Debug for ProviderDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderDescriptor")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("crate_name", &self.crate_name)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl Serialize for ProviderDescriptor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ProviderDescriptor", 8)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("display_name", self.display_name)?;
        st.serialize_field("description", self.description)?;
        st.serialize_field("version", self.version)?;
        st.serialize_field("authors", &self.authors())?;
        st.serialize_field("homepage", self.homepage)?;
        st.serialize_field("crate", self.crate_name)?;
        st.serialize_field("capabilities", &self.capabilities.names())?;
        st.end()
    }
}

impl ProviderDescriptor {
    /// The authors as a list.
    pub fn authors(&self) -> Vec<&'static str> {
        self.authors.split(':').filter(|a| !a.is_empty()).collect()
    }
}

/// Every provider linked into this binary, sorted by name, with unique names.
#[derive(Debug, Clone)]
pub struct Catalog {
    providers: Vec<&'static ProviderDescriptor>,
}

impl Catalog {
    /// Builds a catalog, rejecting two descriptors with the same name (the
    /// error names both crates).
    pub fn from_descriptors(
        descriptors: impl IntoIterator<Item = &'static ProviderDescriptor>,
    ) -> Result<Self, Error> {
        let mut by_name: BTreeMap<&'static str, &'static ProviderDescriptor> = BTreeMap::new();
        for d in descriptors {
            if let Some(prev) = by_name.insert(d.name, d) {
                // Registration order is unspecified: sort the pair for a stable message.
                let (a, b) = if (prev.crate_name, prev.type_path) <= (d.crate_name, d.type_path) {
                    (prev, d)
                } else {
                    (d, prev)
                };
                return Err(Error::config(format!(
                    "two providers are registered with the name `{}`: `{}` in crate `{}` and `{}` in crate `{}`; \
                     provider names must be unique, so rename one or disable one crate's feature",
                    d.name, a.type_path, a.crate_name, b.type_path, b.crate_name
                )));
            }
        }
        Ok(Catalog {
            providers: by_name.into_values().collect(),
        })
    }

    /// The descriptor named `name`.
    pub fn get(&self, name: &str) -> Option<&'static ProviderDescriptor> {
        self.providers
            .binary_search_by(|d| d.name.cmp(name))
            .ok()
            .map(|i| self.providers[i])
    }

    /// All descriptors, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'static ProviderDescriptor> + '_ {
        self.providers.iter().copied()
    }

    /// All provider names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.providers.iter().map(|d| d.name).collect()
    }

    /// How many providers are linked.
    pub fn len(&self) -> usize {
        self.providers.len()
    }

    /// Whether no provider is linked.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }
}

/// The catalog of every provider linked into this binary, checked once and
/// cached. Fails if two linked providers share a name.
pub fn catalog() -> Result<&'static Catalog, Error> {
    static CATALOG: OnceLock<Result<Catalog, Error>> = OnceLock::new();
    CATALOG
        .get_or_init(|| Catalog::from_descriptors(registered()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Every registered descriptor in registration order, unchecked (duplicates included).
pub fn registered() -> impl Iterator<Item = &'static ProviderDescriptor> {
    backend::iter()
}

/// Which registration backend this build of core uses: `"inventory"` or `"linkme"`.
pub const REGISTRATION_BACKEND: &str = backend::NAME;

#[cfg(not(feature = "linkme"))]
pub(crate) mod backend {
    use super::ProviderDescriptor;

    pub(crate) const NAME: &str = "inventory";

    /// One registered provider (an `inventory` item).
    #[derive(Debug)]
    pub struct Registration(pub &'static ProviderDescriptor);

    inventory::collect!(Registration);

    pub(crate) fn iter() -> impl Iterator<Item = &'static ProviderDescriptor> {
        inventory::iter::<Registration>.into_iter().map(|r| r.0)
    }

    /// Registers a descriptor with the `inventory` backend; invoked by `#[provider]`.
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __register_provider {
        ($descriptor:expr) => {
            $crate::__private::inventory::submit! {
                $crate::__private::Registration($descriptor)
            }
        };
    }
}

#[cfg(feature = "linkme")]
#[allow(unsafe_code)]
pub(crate) mod backend {
    use super::ProviderDescriptor;

    pub(crate) const NAME: &str = "linkme";

    /// Every registered provider (a `linkme` distributed slice).
    #[linkme::distributed_slice]
    pub static PROVIDERS: [&'static ProviderDescriptor];

    pub(crate) fn iter() -> impl Iterator<Item = &'static ProviderDescriptor> {
        PROVIDERS.iter().copied()
    }

    /// Registers a descriptor with the `linkme` backend; invoked by `#[provider]`.
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __register_provider {
        ($descriptor:expr) => {
            #[$crate::__private::linkme::distributed_slice($crate::__private::PROVIDERS)]
            #[linkme(crate = $crate::__private::linkme)]
            static __SWITCHBOARD_PROVIDER: &'static $crate::ProviderDescriptor = $descriptor;
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        Value::Null
    }
    fn validate(_: &Value) -> Result<(), Error> {
        Ok(())
    }
    fn build(_: Value, _: ProviderContext) -> BuildFuture {
        Box::pin(async { Err(Error::unsupported("test descriptor")) })
    }

    const fn desc(name: &'static str, crate_name: &'static str) -> ProviderDescriptor {
        ProviderDescriptor {
            name,
            display_name: name,
            description: "",
            version: "0.0.0",
            authors: "a:b",
            homepage: "",
            crate_name,
            type_path: "x::Provider",
            capabilities: Capabilities::NONE,
            config_schema: schema,
            validate_config: validate,
            build,
        }
    }

    static A: ProviderDescriptor = desc("alpha", "crate-a");
    static B: ProviderDescriptor = desc("beta", "crate-b");
    static A2: ProviderDescriptor = desc("alpha", "crate-z");

    #[test]
    fn sorted_and_searchable() {
        let c = Catalog::from_descriptors([&B, &A]).expect("unique names");
        assert_eq!(c.names(), vec!["alpha", "beta"]);
        assert_eq!(c.get("beta").map(|d| d.crate_name), Some("crate-b"));
        assert!(c.get("gamma").is_none());
        assert_eq!(A.authors(), vec!["a", "b"]);
    }

    #[test]
    fn duplicate_names_name_both_crates() {
        let err = Catalog::from_descriptors([&A, &B, &A2]).expect_err("duplicate");
        let msg = err.to_string();
        assert!(msg.contains("`alpha`"), "{msg}");
        assert!(msg.contains("crate-a") && msg.contains("crate-z"), "{msg}");
        assert_eq!(err.kind(), &crate::ErrorKind::Config);
    }

    #[test]
    fn descriptor_serializes_metadata() {
        let v = serde_json::to_value(A).expect("serializes");
        assert_eq!(v["name"], "alpha");
        assert_eq!(v["crate"], "crate-a");
        assert_eq!(v["capabilities"], serde_json::json!([]));
    }
}
