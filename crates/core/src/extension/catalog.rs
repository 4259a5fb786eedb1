//! Extension descriptors and the catalog of every extension linked into the
//! binary: the twin of the provider [`Catalog`](crate::Catalog).

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

use super::Extension;
use super::context::ExtensionContext;
use crate::Error;

/// The future a descriptor's build fn returns.
pub type ExtensionBuildFuture =
    Pin<Box<dyn Future<Output = Result<Arc<dyn Extension>, Error>> + Send>>;

/// Which hooks an extension implements (`#[extension(hooks(...))]`): the
/// gateway calls only these, so an unused hook costs nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hooks(u8);

impl Hooks {
    /// None.
    pub const NONE: Hooks = Hooks(0);
    /// [`Extension::on_request`].
    pub const REQUEST: Hooks = Hooks(1);
    /// [`Extension::on_response`].
    pub const RESPONSE: Hooks = Hooks(1 << 1);
    /// [`Extension::on_event`].
    pub const EVENT: Hooks = Hooks(1 << 2);
    /// [`Extension::on_complete`].
    pub const COMPLETE: Hooks = Hooks(1 << 3);
    /// [`Extension::methods`] and [`Extension::call`].
    pub const METHODS: Hooks = Hooks(1 << 4);
    /// [`Extension::on_models`].
    pub const MODELS: Hooks = Hooks(1 << 5);
    /// [`Extension::authenticate`].
    pub const AUTH: Hooks = Hooks(1 << 6);

    const NAMES: [(Hooks, &'static str); 7] = [
        (Hooks::REQUEST, "request"),
        (Hooks::RESPONSE, "response"),
        (Hooks::EVENT, "event"),
        (Hooks::COMPLETE, "complete"),
        (Hooks::METHODS, "methods"),
        (Hooks::MODELS, "models"),
        (Hooks::AUTH, "authenticate"),
    ];

    /// Both sets.
    #[must_use]
    pub const fn union(self, other: Hooks) -> Hooks {
        Hooks(self.0 | other.0)
    }

    /// Whether every hook of `other` is in `self`.
    pub const fn contains(self, other: Hooks) -> bool {
        self.0 & other.0 == other.0
    }

    /// The hooks' names (`request`, `response`, `event`, `complete`, `methods`,
    /// `models`, `authenticate`).
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(h, _)| self.contains(*h))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// Everything Switchboard knows about an extension type before building it:
/// `'static` data and `fn` pointers, emitted by `#[extension]`.
#[derive(Clone, Copy)]
pub struct ExtensionDescriptor {
    /// The extension's unique name: `[extensions.<name>]`.
    pub name: &'static str,
    /// What it does, from the type's doc comment.
    pub description: &'static str,
    /// The crate's version.
    pub version: &'static str,
    /// The crate's authors, `:`-separated as Cargo gives them.
    pub authors: &'static str,
    /// The homepage (may be empty).
    pub homepage: &'static str,
    /// The crate that defines it.
    pub crate_name: &'static str,
    /// The Rust path of the type.
    pub type_path: &'static str,
    /// The hooks it implements.
    pub hooks: Hooks,
    /// A path prefix under which its methods are also served
    /// (`POST {mount}/{method}`), e.g. `/v1/functions`; empty for none.
    pub mount: &'static str,
    /// Returns the JSON Schema of its config.
    pub config_schema: fn() -> Value,
    /// Deserializes and validates a config without building.
    pub validate_config: fn(&Value) -> Result<(), Error>,
    /// Deserializes and validates a config, then builds.
    pub build: fn(Value, ExtensionContext) -> ExtensionBuildFuture,
}

impl ExtensionDescriptor {
    /// The JSON Schema of its config.
    pub fn config_schema(&self) -> Value {
        (self.config_schema)()
    }

    /// Checks a config without building anything.
    pub fn validate(&self, config: &Value) -> Result<(), Error> {
        (self.validate_config)(config)
    }

    /// Builds the extension from `config`.
    pub async fn build(
        &self,
        config: Value,
        ctx: ExtensionContext,
    ) -> Result<Arc<dyn Extension>, Error> {
        (self.build)(config, ctx).await
    }

    /// The authors as a list.
    pub fn authors(&self) -> Vec<&'static str> {
        self.authors.split(':').filter(|a| !a.is_empty()).collect()
    }
}

impl fmt::Debug for ExtensionDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtensionDescriptor")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("crate_name", &self.crate_name)
            .field("hooks", &self.hooks.names())
            .finish_non_exhaustive()
    }
}

impl Serialize for ExtensionDescriptor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("ExtensionDescriptor", 8)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("description", self.description)?;
        st.serialize_field("version", self.version)?;
        st.serialize_field("authors", &self.authors())?;
        st.serialize_field("homepage", self.homepage)?;
        st.serialize_field("crate", self.crate_name)?;
        st.serialize_field("hooks", &self.hooks.names())?;
        if !self.mount.is_empty() {
            st.serialize_field("mount", self.mount)?;
        }
        st.end()
    }
}

/// Every extension linked into this binary, sorted by name, names unique.
#[derive(Debug, Clone, Default)]
pub struct ExtensionCatalog {
    extensions: Vec<&'static ExtensionDescriptor>,
}

impl ExtensionCatalog {
    /// Builds a catalog, rejecting two descriptors with the same name or the
    /// same mount (the error names both crates).
    pub fn from_descriptors(
        descriptors: impl IntoIterator<Item = &'static ExtensionDescriptor>,
    ) -> Result<Self, Error> {
        let mut by_name: BTreeMap<&'static str, &'static ExtensionDescriptor> = BTreeMap::new();
        for d in descriptors {
            if let Some(prev) = by_name.insert(d.name, d) {
                let (a, b) = if (prev.crate_name, prev.type_path) <= (d.crate_name, d.type_path) {
                    (prev, d)
                } else {
                    (d, prev)
                };
                return Err(Error::config(format!(
                    "two extensions are registered with the name `{}`: `{}` in crate `{}` and `{}` in crate `{}`; \
                     extension names must be unique, so rename one or disable one crate's feature",
                    d.name, a.type_path, a.crate_name, b.type_path, b.crate_name
                )));
            }
        }
        let mut mounts: BTreeMap<&'static str, &'static str> = BTreeMap::new();
        for d in by_name.values().filter(|d| !d.mount.is_empty()) {
            if let Some(prev) = mounts.insert(d.mount, d.name) {
                return Err(Error::config(format!(
                    "extensions `{prev}` and `{}` both mount their methods at `{}`",
                    d.name, d.mount
                )));
            }
        }
        Ok(ExtensionCatalog {
            extensions: by_name.into_values().collect(),
        })
    }

    /// The descriptor named `name`.
    pub fn get(&self, name: &str) -> Option<&'static ExtensionDescriptor> {
        self.extensions
            .binary_search_by(|d| d.name.cmp(name))
            .ok()
            .map(|i| self.extensions[i])
    }

    /// All descriptors, sorted by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &'static ExtensionDescriptor> + '_ {
        self.extensions.iter().copied()
    }

    /// All names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.extensions.iter().map(|d| d.name).collect()
    }

    /// How many extensions are linked.
    pub fn len(&self) -> usize {
        self.extensions.len()
    }

    /// Whether none is linked.
    pub fn is_empty(&self) -> bool {
        self.extensions.is_empty()
    }
}

/// The catalog of every extension linked into this binary, checked once and
/// cached. Fails if two linked extensions share a name or a mount.
pub fn extension_catalog() -> Result<&'static ExtensionCatalog, Error> {
    static CATALOG: OnceLock<Result<ExtensionCatalog, Error>> = OnceLock::new();
    CATALOG
        .get_or_init(|| ExtensionCatalog::from_descriptors(registered_extensions()))
        .as_ref()
        .map_err(Clone::clone)
}

/// Every registered extension descriptor, unchecked (duplicates included).
pub fn registered_extensions() -> impl Iterator<Item = &'static ExtensionDescriptor> {
    backend::iter()
}

#[cfg(not(feature = "linkme"))]
#[doc(hidden)]
pub mod backend {
    use super::ExtensionDescriptor;

    /// One registered extension (an `inventory` item).
    #[derive(Debug)]
    pub struct ExtensionRegistration(pub &'static ExtensionDescriptor);

    inventory::collect!(ExtensionRegistration);

    pub(crate) fn iter() -> impl Iterator<Item = &'static ExtensionDescriptor> {
        inventory::iter::<ExtensionRegistration>
            .into_iter()
            .map(|r| r.0)
    }

    /// Registers an extension descriptor with `inventory`; invoked by `#[extension]`.
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __register_extension {
        ($descriptor:expr) => {
            $crate::__private::inventory::submit! {
                $crate::__private::ExtensionRegistration($descriptor)
            }
        };
    }
}

#[cfg(feature = "linkme")]
#[allow(unsafe_code)]
#[doc(hidden)]
pub mod backend {
    use super::ExtensionDescriptor;

    /// Every registered extension (a `linkme` distributed slice).
    #[linkme::distributed_slice]
    pub static EXTENSIONS: [&'static ExtensionDescriptor];

    pub(crate) fn iter() -> impl Iterator<Item = &'static ExtensionDescriptor> {
        EXTENSIONS.iter().copied()
    }

    /// Registers an extension descriptor with `linkme`; invoked by `#[extension]`.
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __register_extension {
        ($descriptor:expr) => {
            #[$crate::__private::linkme::distributed_slice($crate::__private::EXTENSIONS)]
            #[linkme(crate = $crate::__private::linkme)]
            static __SWITCHBOARD_EXTENSION: &'static $crate::extension::ExtensionDescriptor =
                $descriptor;
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
    fn build(_: Value, _: ExtensionContext) -> ExtensionBuildFuture {
        Box::pin(async { Err(Error::unsupported("test descriptor")) })
    }

    const fn desc(
        name: &'static str,
        crate_name: &'static str,
        mount: &'static str,
    ) -> ExtensionDescriptor {
        ExtensionDescriptor {
            name,
            description: "",
            version: "0.0.0",
            authors: "a",
            homepage: "",
            crate_name,
            type_path: "x::Ext",
            hooks: Hooks::REQUEST.union(Hooks::METHODS),
            mount,
            config_schema: schema,
            validate_config: validate,
            build,
        }
    }

    static A: ExtensionDescriptor = desc("alpha", "crate-a", "/v1/a");
    static B: ExtensionDescriptor = desc("beta", "crate-b", "");
    static A2: ExtensionDescriptor = desc("alpha", "crate-z", "");
    static C: ExtensionDescriptor = desc("gamma", "crate-c", "/v1/a");

    #[test]
    fn sorted_unique_and_serialized() {
        let c = ExtensionCatalog::from_descriptors([&B, &A]).expect("unique");
        assert_eq!(c.names(), vec!["alpha", "beta"]);
        let v = serde_json::to_value(A).expect("serializes");
        assert_eq!(v["hooks"], serde_json::json!(["request", "methods"]));
        assert_eq!(v["mount"], "/v1/a");
        assert!(serde_json::to_value(B).expect("ok").get("mount").is_none());
    }

    #[test]
    fn duplicate_names_and_mounts_are_refused() {
        let e = ExtensionCatalog::from_descriptors([&A, &A2]).expect_err("dup");
        assert!(e.to_string().contains("crate-a") && e.to_string().contains("crate-z"));
        let e = ExtensionCatalog::from_descriptors([&A, &C]).expect_err("dup mount");
        assert!(e.to_string().contains("/v1/a"), "{e}");
    }
}
