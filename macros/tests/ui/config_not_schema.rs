use switchboard_core::{async_trait, provider, ChatRequest, ChatResponse, Error, Provider, ProviderContext, ProviderInit};

/// Derives neither `Deserialize` nor `JsonSchema`.
#[derive(Debug, Clone)]
pub struct PlainCfg {}

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

#[provider(name = "p", config = PlainCfg)]
pub struct P;

#[async_trait]
impl ProviderInit for P {
    type Config = Cfg;
    async fn init(_: Cfg, _: ProviderContext) -> Result<Self, Error> {
        Ok(P)
    }
}

#[async_trait]
impl Provider for P {
    async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unsupported("x"))
    }
}

fn main() {}
