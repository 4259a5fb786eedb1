use switchboard_core::extension;

#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

/// Forgot the impls.
#[extension(name = "e", config = Cfg)]
pub struct E;

fn main() {}
