//! The macro's output on a correct extension: descriptor metadata, hooks,
//! mount, schema, config validation, build, and registration in the
//! extension catalog.

use std::sync::Arc;

use serde_json::{Value, json};
use switchboard_core::extension::{
    ExtensionContext, Gateway, Hooks, LedgerQuery, LedgerRow, LedgerTotal, MethodCall, MethodInfo,
    RequestContext, Store, extension_catalog,
};
use switchboard_core::{
    ChatRequest, ChatResponse, Error, ErrorKind, Extension, ExtensionInit, RequestAction,
    async_trait, extension,
};

/// Settings of the test extension.
#[derive(Debug, Clone, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TagConfig {
    /// The header value to add.
    pub tag: String,
    /// At most 3.
    pub level: u32,
}

/// Tags every answer with a header.
///
/// Second paragraph.
#[extension(
    name = "tag-test",
    config = TagConfig,
    hooks(on_request, on_complete, methods),
    mount = "/v1/tag-test"
)]
#[derive(Debug)]
pub struct Tag {
    tag: String,
}

#[async_trait]
impl ExtensionInit for Tag {
    type Config = TagConfig;

    fn validate(config: &TagConfig) -> Result<(), Error> {
        if config.level > 3 {
            return Err(Error::config("level must be at most 3").with_param("level"));
        }
        Ok(())
    }

    async fn init(config: TagConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Ok(Tag { tag: config.tag })
    }
}

#[async_trait]
impl Extension for Tag {
    async fn on_request(
        &self,
        ctx: &mut RequestContext,
        _request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        ctx.set_response_header("x-tag", self.tag.clone());
        Ok(RequestAction::Continue)
    }

    fn methods(&self) -> Vec<MethodInfo> {
        vec![MethodInfo::new(
            "tag",
            "The tag.",
            json!({"type": "object"}),
            json!({"type": "string"}),
        )]
    }

    async fn call(&self, _call: MethodCall) -> Result<Value, Error> {
        Ok(Value::String(self.tag.clone()))
    }
}

/// Every hook at once, explicit metadata, no mount.
#[extension(
    name = "all-hooks-test",
    config = TagConfig,
    hooks(on_request, on_response, on_event, on_complete, methods),
    version = "9.9.9",
    author = "A <a@example.com>",
    homepage = "https://example.com"
)]
#[derive(Debug)]
pub struct AllHooks;

#[async_trait]
impl ExtensionInit for AllHooks {
    type Config = TagConfig;
    async fn init(_: TagConfig, _: ExtensionContext) -> Result<Self, Error> {
        Ok(AllHooks)
    }
}

#[async_trait]
impl Extension for AllHooks {}

/// A store that holds nothing (building needs one).
struct NoStore;

#[async_trait]
impl Store for NoStore {
    fn backend(&self) -> &'static str {
        "none"
    }
    async fn get(&self, _: &str, _: &str) -> Result<Option<Value>, Error> {
        Ok(None)
    }
    async fn put(&self, _: &str, _: &str, _: &Value) -> Result<(), Error> {
        Ok(())
    }
    async fn delete(&self, _: &str, _: &str) -> Result<bool, Error> {
        Ok(false)
    }
    async fn list(&self, _: &str, _: &str) -> Result<Vec<(String, Value)>, Error> {
        Ok(Vec::new())
    }
    async fn append_usage(&self, _: &LedgerRow) -> Result<(), Error> {
        Ok(())
    }
    async fn usage_totals(&self, _: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        Ok(Vec::new())
    }
}

/// A gateway that answers nothing.
struct NoGateway;

#[async_trait]
impl Gateway for NoGateway {
    async fn chat(&self, _: RequestContext, _: ChatRequest) -> Result<ChatResponse, Error> {
        Err(Error::unsupported("no gateway in this test"))
    }
}

fn context() -> ExtensionContext {
    ExtensionContext {
        name: Arc::from("tag-test"),
        store: Arc::new(NoStore),
        gateway: Arc::new(NoGateway),
        cancel: Default::default(),
    }
}

#[test]
fn descriptor_metadata_hooks_and_mount() {
    let d = Tag::DESCRIPTOR;
    assert_eq!(d.name, "tag-test");
    assert_eq!(
        d.description,
        "Tags every answer with a header.\n\nSecond paragraph."
    );
    assert_eq!(d.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(d.crate_name, "switchboard-macros");
    assert!(d.type_path.ends_with("::Tag"), "{}", d.type_path);
    assert_eq!(
        d.hooks,
        Hooks::REQUEST.union(Hooks::COMPLETE).union(Hooks::METHODS)
    );
    assert!(!d.hooks.contains(Hooks::RESPONSE));
    assert_eq!(d.mount, "/v1/tag-test");
}

#[test]
fn explicit_metadata_and_every_hook() {
    let d = AllHooks::DESCRIPTOR;
    assert_eq!(d.version, "9.9.9");
    assert_eq!(d.authors(), vec!["A <a@example.com>"]);
    assert_eq!(d.homepage, "https://example.com");
    assert_eq!(d.mount, "");
    // The macro's hook list and core's agree.
    assert_eq!(
        d.hooks.names(),
        vec!["request", "response", "event", "complete", "methods"]
    );
}

#[test]
fn schema_and_validation_come_from_the_config_type() {
    let d = Tag::DESCRIPTOR;
    let schema = d.config_schema();
    assert_eq!(schema["title"], "TagConfig");
    assert_eq!(
        schema["properties"]["tag"]["description"],
        "The header value to add."
    );
    assert!(d.validate(&json!({})).is_ok(), "every key has a default");
    let err = d.validate(&json!({"level": "x"})).expect_err("wrong type");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(err.param(), Some("level"));
    let err = d.validate(&json!({"lvl": 1})).expect_err("unknown key");
    assert!(err.message().contains("lvl"), "{err}");
    let err = d.validate(&json!({"level": 4})).expect_err("custom");
    assert_eq!(err.param(), Some("level"));
}

#[tokio::test]
async fn builds_and_runs_its_hook() {
    let ext = Tag::DESCRIPTOR
        .build(json!({"tag": "t1"}), context())
        .await
        .expect("valid config builds");
    let mut ctx = RequestContext::new("r1", switchboard_core::extension::InboundApi::OpenAi);
    let mut req = ChatRequest::new("m", vec![switchboard_core::Message::user("hi")]);
    let action = ext.on_request(&mut ctx, &mut req).await.expect("continues");
    assert!(matches!(action, RequestAction::Continue));
    assert_eq!(ctx.header("x-tag"), None);
    assert_eq!(ctx.response_headers, vec![("x-tag".into(), "t1".into())]);
    assert_eq!(ext.methods()[0].name, "tag");
    assert!(
        Tag::DESCRIPTOR
            .build(json!({"tag": 1}), context())
            .await
            .is_err()
    );
}

#[test]
fn registered_in_the_extension_catalog() {
    let c = extension_catalog().expect("no duplicate names or mounts");
    let d = c.get("tag-test").expect("registered");
    assert_eq!(d.mount, "/v1/tag-test");
    assert!(c.get("all-hooks-test").is_some());
    assert!(c.names().contains(&"tag-test"));
}
