//! The provider under test, as the cases see it: its descriptor, and a way
//! to render its config and a built instance with `Debug`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use switchboard_core::{Error, ProviderContext, ProviderDescriptor, ProviderInit};

/// The future [`Target::debug`] returns.
pub type DebugFuture = Pin<Box<dyn Future<Output = Result<String, Error>> + Send>>;

/// The provider under test: its descriptor (capabilities, constructor) and a
/// way to render its config and a built instance with `Debug`, for the
/// secret check.
#[derive(Clone, Copy)]
pub struct Target {
    /// The descriptor `#[provider]` generated.
    pub descriptor: &'static ProviderDescriptor,
    /// Deserializes a config, builds the provider for an instance name, and
    /// returns the `Debug` output of both.
    pub debug: fn(Value, &'static str) -> DebugFuture,
}

impl Target {
    /// The target for provider type `P`, described by `descriptor` (pass `P::DESCRIPTOR`).
    pub fn new<P>(descriptor: &'static ProviderDescriptor) -> Self
    where
        P: ProviderInit + fmt::Debug,
        P::Config: fmt::Debug,
    {
        Target {
            descriptor,
            debug: debug_render::<P>,
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("provider", &self.descriptor.name)
            .finish_non_exhaustive()
    }
}

fn debug_render<P>(config: Value, instance: &'static str) -> DebugFuture
where
    P: ProviderInit + fmt::Debug,
    P::Config: fmt::Debug,
{
    Box::pin(async move {
        let config: P::Config = serde_json::from_value(config).map_err(|e| {
            Error::config(format!("the fixtures' config does not deserialize: {e}"))
        })?;
        let config_debug = format!("{config:?}");
        let provider = P::init(config, ProviderContext::standalone(instance)).await?;
        Ok(format!("{config_debug}\n{provider:?}"))
    })
}
