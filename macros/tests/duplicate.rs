//! Two providers registered under one name make the catalog fail, naming both.

use switchboard_core::{
    ChatRequest, ChatResponse, Error, Provider, ProviderContext, ProviderInit, async_trait,
    provider,
};

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

macro_rules! dummy {
    ($ty:ident) => {
        #[async_trait]
        impl ProviderInit for $ty {
            type Config = Cfg;
            async fn init(_: Cfg, _: ProviderContext) -> Result<Self, Error> {
                Ok($ty)
            }
        }
        #[async_trait]
        impl Provider for $ty {
            async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, Error> {
                Err(Error::unsupported("dummy"))
            }
        }
    };
}

/// First.
#[provider(name = "twin", config = Cfg)]
#[derive(Debug)]
pub struct First;
dummy!(First);

/// Second.
#[provider(name = "twin", config = Cfg)]
#[derive(Debug)]
pub struct Second;
dummy!(Second);

#[test]
fn duplicate_names_fail_the_catalog() {
    let err = switchboard_core::catalog().expect_err("two providers named twin");
    let msg = err.to_string();
    assert!(msg.contains("`twin`"), "{msg}");
    assert!(msg.contains("duplicate::First"), "{msg}");
    assert!(msg.contains("duplicate::Second"), "{msg}");
    assert!(msg.contains("switchboard-macros"), "{msg}");
    assert_eq!(switchboard_core::registered().count(), 2);
}
