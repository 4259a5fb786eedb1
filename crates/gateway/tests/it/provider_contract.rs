//! What the runtime guarantees a provider, checked with a probe provider that
//! neither validates requests nor tags its errors: requests are validated
//! once before routing (never per retry or fallback), and every error from a
//! provider call, in streams too, carries the attempt's instance once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard_core::{
    BuildFuture, Capabilities, Catalog, ChatEvent, ChatRequest, ChatResponse, ChatStream, Error,
    ErrorKind, HealthReport, Message, Provider, ProviderContext, ProviderDescriptor, async_trait,
};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;

/// What the probe saw: per instance, the model of every request and whether
/// that request passed `validate()`.
static SEEN: Mutex<BTreeMap<String, Vec<(String, bool)>>> = Mutex::new(BTreeMap::new());

fn seen(instance: &str) -> Vec<(String, bool)> {
    SEEN.lock()
        .map(|s| s.get(instance).cloned().unwrap_or_default())
        .unwrap_or_default()
}

/// Settings: `fail` (how many calls fail, `unavailable`), `tag` (`"none"` or
/// `"self"`: how the probe tags its errors), `stream_error` (a stream fails
/// after its first event), `health_error` (health checks fail).
struct Probe {
    instance: Arc<str>,
    settings: Value,
    calls: AtomicU32,
}

impl Probe {
    fn error(&self, e: Error) -> Error {
        match self.settings["tag"].as_str() {
            Some("self") => e.with_instance(self.instance.clone()),
            _ => e,
        }
    }

    fn attempt(&self, request: &ChatRequest) -> Result<(), Error> {
        if let Ok(mut seen) = SEEN.lock() {
            seen.entry(self.instance.to_string())
                .or_default()
                .push((request.model.clone(), request.validate().is_ok()));
        }
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let fail = self.settings["fail"].as_u64().unwrap_or(0);
        if u64::from(call) < fail {
            return Err(self.error(Error::unavailable("probe is down")));
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for Probe {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        self.attempt(request)?;
        Ok(ChatResponse {
            model: request.model.clone(),
            ..Default::default()
        })
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        self.attempt(request)?;
        let mut items = vec![Ok(ChatEvent::Start {
            id: "probe".into(),
            model: request.model.clone(),
            created: None,
        })];
        if self.settings["stream_error"].as_bool() == Some(true) {
            items.push(Err(self.error(Error::upstream(502, "stream broke"))));
        }
        Ok(Box::pin(futures::stream::iter(items)))
    }

    async fn health(&self) -> Result<HealthReport, Error> {
        Err(self.error(Error::unavailable("probe health fails")))
    }
}

fn schema() -> Value {
    json!({"type": "object"})
}

fn accept(_: &Value) -> Result<(), Error> {
    Ok(())
}

fn build(settings: Value, ctx: ProviderContext) -> BuildFuture {
    Box::pin(async move {
        Ok(Arc::new(Probe {
            instance: ctx.instance.clone(),
            settings,
            calls: AtomicU32::new(0),
        }) as Arc<dyn Provider>)
    })
}

static PROBE: ProviderDescriptor = ProviderDescriptor {
    name: "probe",
    display_name: "Probe",
    description: "Records what it receives; validates nothing, tags nothing.",
    version: "0.0.0",
    authors: "",
    homepage: "",
    crate_name: "tests",
    type_path: "tests::Probe",
    capabilities: Capabilities::NONE,
    config_schema: schema,
    validate_config: accept,
    build,
};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::from_descriptors([&PROBE]).expect("one provider"))
}

async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::builder()
        .catalog(catalog())
        .config(config)
        .build()
        .await
        .expect("builds")
}

fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}

fn router() -> Value {
    json!({"max_attempts": 4, "retries_per_target": 1, "backoff_base_ms": 10, "backoff_max_ms": 10})
}

#[tokio::test(start_paused = true)]
async fn invalid_requests_never_reach_a_provider() {
    let sb = switchboard(json!({"providers": {"v1": {"kind": "probe"}}})).await;
    let bad = req("v1/m").temperature(9.0);
    let err = sb.chat(bad.clone()).await.expect_err("facade validates");
    assert_eq!(err.param(), Some("temperature"));
    let err = sb
        .router()
        .chat(bad.clone())
        .await
        .expect_err("the router's own entry validates too");
    assert_eq!(err.param(), Some("temperature"));
    let Err(err) = sb.chat_stream(bad).await else {
        panic!("streams are validated");
    };
    assert_eq!(err.param(), Some("temperature"));
    assert!(seen("v1").is_empty(), "{:?}", seen("v1"));
}

#[tokio::test(start_paused = true)]
async fn retries_and_fallbacks_get_the_validated_request_retargeted() {
    let sb = switchboard(json!({
        "router": router(),
        "providers": {"r1": {"kind": "probe", "fail": 99}, "r2": {"kind": "probe"}},
        "models": {"x": {"targets": ["r1/a", "r2/b"]}}
    }))
    .await;
    let out = sb.chat(req("x")).await.expect("r2 answers");
    assert_eq!((&*out.route.instance, out.route.attempts), ("r2", 3));
    assert_eq!(seen("r1"), [("a".to_owned(), true), ("a".to_owned(), true)]);
    assert_eq!(seen("r2"), [("b".to_owned(), true)]);
}

#[tokio::test(start_paused = true)]
async fn an_empty_target_model_fails_as_validate_would_without_a_call() {
    let sb = switchboard(json!({"providers": {"e1": {"kind": "probe"}}})).await;
    let err = sb.chat(req("e1/")).await.expect_err("no model at e1");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("model"));
    assert_eq!(err.instance(), Some("e1"));
    assert!(seen("e1").is_empty(), "{:?}", seen("e1"));
}

#[tokio::test(start_paused = true)]
async fn provider_errors_carry_the_attempts_instance_once() {
    let sb = switchboard(json!({
        "router": router(),
        "providers": {
            "untagged": {"kind": "probe", "fail": 99, "tag": "none"},
            "tagged": {"kind": "probe", "fail": 99, "tag": "self"}
        }
    }))
    .await;
    for name in ["untagged", "tagged"] {
        let err = sb
            .chat(req(&format!("{name}/m")))
            .await
            .expect_err("always down");
        assert_eq!(err.kind(), &ErrorKind::Unavailable);
        assert_eq!(err.instance(), Some(name));
        let shown = err.to_string();
        assert_eq!(shown, format!("[{name}] unavailable: probe is down"));
    }
}

#[tokio::test(start_paused = true)]
async fn errors_inside_a_routed_stream_carry_the_instance() {
    let sb = switchboard(json!({
        "providers": {"s1": {"kind": "probe", "stream_error": true}}
    }))
    .await;
    let out = sb.chat_stream(req("s1/m")).await.expect("starts");
    let items: Vec<_> = out.value.collect().await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(items[0], Ok(ChatEvent::Start { .. })));
    let err = items[1].as_ref().expect_err("then the error");
    assert_eq!(err.instance(), Some("s1"));
    assert_eq!(
        err.to_string(),
        "[s1] upstream error (HTTP 502): stream broke"
    );
}

#[tokio::test(start_paused = true)]
async fn health_check_errors_carry_the_instance() {
    let sb = switchboard(json!({"providers": {"h1": {"kind": "probe"}}})).await;
    let err = sb
        .registry()
        .health_check("h1")
        .await
        .expect_err("probe health fails");
    assert_eq!(err.instance(), Some("h1"));
}
