use switchboard_core::provider;

#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

#[provider(name = "p", config = Cfg)]
pub enum P { A }

fn main() {}
