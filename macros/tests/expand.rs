//! The macro's output on a correct provider: descriptor metadata, schema,
//! config validation, build, and registration in the catalog.

use serde_json::json;
use switchboard_core::{
    Capabilities, ChatRequest, ChatResponse, Error, ErrorKind, Provider, ProviderContext,
    ProviderInit, async_trait, catalog, provider,
};

/// Settings of the test provider.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoConfig {
    /// What to prefix every answer with.
    pub prefix: String,
    /// How many times to repeat.
    #[serde(default)]
    pub repeat: u32,
}

/// Echoes the last user message.
///
/// Second paragraph.
#[provider(
    name = "echo-test",
    display_name = "Echo Test",
    config = EchoConfig,
    capabilities(streaming, tools)
)]
#[derive(Debug)]
pub struct Echo {
    prefix: String,
}

#[async_trait]
impl ProviderInit for Echo {
    type Config = EchoConfig;

    fn validate(config: &EchoConfig) -> Result<(), Error> {
        if config.repeat > 3 {
            return Err(Error::config("repeat must be at most 3").with_param("repeat"));
        }
        Ok(())
    }

    async fn init(config: EchoConfig, _ctx: ProviderContext) -> Result<Self, Error> {
        Ok(Echo {
            prefix: config.prefix,
        })
    }
}

#[async_trait]
impl Provider for Echo {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        Ok(ChatResponse {
            content: vec![switchboard_core::ContentPart::text(format!(
                "{}{}",
                self.prefix,
                request.last_user_text().unwrap_or_default()
            ))],
            ..Default::default()
        })
    }
}

/// Every capability at once.
#[provider(
    name = "all-caps-test",
    config = EchoConfig,
    capabilities(streaming, tools, vision, embeddings, json_schema, reasoning),
    version = "9.9.9",
    author = "A <a@example.com>",
    homepage = "https://example.com"
)]
#[derive(Debug)]
pub struct AllCaps;

#[async_trait]
impl ProviderInit for AllCaps {
    type Config = EchoConfig;
    async fn init(_: EchoConfig, _: ProviderContext) -> Result<Self, Error> {
        Ok(AllCaps)
    }
}

#[async_trait]
impl Provider for AllCaps {
    async fn chat(&self, _: &ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unsupported("no"))
    }
}

#[test]
fn descriptor_metadata() {
    let d = Echo::DESCRIPTOR;
    assert_eq!(d.name, "echo-test");
    assert_eq!(d.display_name, "Echo Test");
    assert_eq!(
        d.description,
        "Echoes the last user message.\n\nSecond paragraph."
    );
    assert_eq!(d.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(d.crate_name, "switchboard-macros");
    assert!(d.type_path.ends_with("::Echo"), "{}", d.type_path);
    assert_eq!(
        d.capabilities,
        Capabilities {
            streaming: true,
            tools: true,
            ..Capabilities::NONE
        }
    );
}

#[test]
fn explicit_metadata_and_every_capability() {
    let d = AllCaps::DESCRIPTOR;
    assert_eq!(d.version, "9.9.9");
    assert_eq!(d.authors(), vec!["A <a@example.com>"]);
    assert_eq!(d.homepage, "https://example.com");
    // display_name defaults to name
    assert_eq!(d.display_name, "all-caps-test");
    // The macro's capability list and core's agree.
    assert_eq!(d.capabilities.names(), Capabilities::NAMES);
}

#[test]
fn schema_comes_from_the_config_type() {
    let schema = Echo::DESCRIPTOR.config_schema();
    assert_eq!(schema["title"], "EchoConfig");
    assert_eq!(
        schema["properties"]["prefix"]["description"],
        "What to prefix every answer with."
    );
    assert_eq!(schema["required"], json!(["prefix"]));
}

#[test]
fn validation_names_the_key() {
    let d = Echo::DESCRIPTOR;
    assert!(d.validate(&json!({"prefix": ">"})).is_ok());
    let err = d
        .validate(&json!({"prefix": ">", "repeat": "x"}))
        .expect_err("wrong type");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(err.param(), Some("repeat"));
    let err = d.validate(&json!({})).expect_err("missing field");
    assert!(err.message().contains("prefix"), "{err}");
    let err = d
        .validate(&json!({"prefix": ">", "prefx": 1}))
        .expect_err("unknown field");
    assert!(err.message().contains("prefx"), "{err}");
    let err = d
        .validate(&json!({"prefix": ">", "repeat": 4}))
        .expect_err("custom validation");
    assert_eq!(err.param(), Some("repeat"));
}

#[tokio::test]
async fn builds_and_answers() {
    let p = Echo::DESCRIPTOR
        .build(json!({"prefix": "> "}), ProviderContext::standalone("e1"))
        .await
        .expect("valid config builds");
    let resp = p
        .chat(&ChatRequest::new(
            "m",
            vec![switchboard_core::Message::user("hi")],
        ))
        .await
        .expect("chat works");
    assert_eq!(resp.text(), "> hi");
    let err = Echo::DESCRIPTOR
        .build(json!({"prefix": 1}), ProviderContext::standalone("e2"))
        .await
        .err()
        .expect("bad config fails");
    assert_eq!(err.instance(), Some("e2"));
}

#[test]
fn registered_in_the_catalog() {
    let c = catalog().expect("no duplicate names");
    let d = c.get("echo-test").expect("registered");
    assert!(std::ptr::eq(d, Echo::DESCRIPTOR) || d.name == Echo::DESCRIPTOR.name);
    assert!(c.get("all-caps-test").is_some());
}
