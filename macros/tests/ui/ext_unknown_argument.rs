use switchboard_core::extension::ExtensionContext;
use switchboard_core::{async_trait, extension, Error, Extension, ExtensionInit};

#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

#[extension(name = "e", config = Cfg, capabilities(streaming))]
pub struct E;

#[async_trait]
impl ExtensionInit for E {
    type Config = Cfg;
    async fn init(_: Cfg, _: ExtensionContext) -> Result<Self, Error> {
        Ok(E)
    }
}

#[async_trait]
impl Extension for E {}

fn main() {}
