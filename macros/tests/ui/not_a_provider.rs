use switchboard_core::provider;

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

/// Forgot the impls.
#[provider(name = "p", config = Cfg)]
pub struct P;

fn main() {}
