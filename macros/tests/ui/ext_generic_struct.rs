use switchboard_core::extension;

#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
pub struct Cfg {}

#[extension(name = "e", config = Cfg)]
pub struct E<T>(T);

fn main() {}
