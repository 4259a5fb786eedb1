use switchboard_core::provider;

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

#[provider(name = "p", config = Cfg)]
pub struct P<T>(T);

fn main() {}
