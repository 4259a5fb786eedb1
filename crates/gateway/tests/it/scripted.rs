//! A scripted test provider for the routing tests: per model, an error to
//! return (optionally only the first `times` calls), and a record of every
//! call per instance and model.
//!
//! Settings: `faults` maps a model id to `{kind, status?, retry_after_ms?,
//! times?, message?}` (`kind` is an [`ErrorKind`] code). Every other model
//! answers `ok from <instance>/<model>`; streams send `Start`, one text delta
//! and `Finish`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use switchboard_core::{
    BuildFuture, Capabilities, Catalog, ChatEvent, ChatRequest, ChatResponse, ChatStream,
    ContentPart, Error, ErrorKind, FinishReason, HealthReport, Message, Provider, ProviderContext,
    ProviderDescriptor, async_trait,
};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;

/// Calls per `instance/model`.
static CALLS: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());

/// How many calls `instance/model` received (instance names are unique per test).
pub(crate) fn calls(target: &str) -> u32 {
    CALLS
        .lock()
        .map(|c| c.get(target).copied().unwrap_or(0))
        .unwrap_or(0)
}

struct Scripted {
    instance: Arc<str>,
    settings: Value,
    /// Calls per model, for `times`.
    seen: Mutex<BTreeMap<String, u32>>,
    health_calls: AtomicU32,
}

impl Scripted {
    fn attempt(&self, model: &str) -> Result<(), Error> {
        if let Ok(mut calls) = CALLS.lock() {
            *calls
                .entry(format!("{}/{model}", self.instance))
                .or_default() += 1;
        }
        let call = match self.seen.lock() {
            Ok(mut seen) => {
                let n = seen.entry(model.to_owned()).or_default();
                *n += 1;
                *n
            }
            Err(_) => 1,
        };
        let fault = &self.settings["faults"][model];
        let Some(code) = fault["kind"].as_str() else {
            return Ok(());
        };
        if let Some(times) = fault["times"].as_u64()
            && u64::from(call) > times
        {
            return Ok(());
        }
        let kind = match ErrorKind::from_code(code) {
            Some(ErrorKind::RateLimited { .. }) => ErrorKind::RateLimited {
                retry_after: fault["retry_after_ms"].as_u64().map(Duration::from_millis),
            },
            Some(ErrorKind::Upstream { .. }) => ErrorKind::Upstream {
                status: fault["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(500),
            },
            Some(kind) => kind,
            None => return Err(Error::config(format!("unknown kind {code}"))),
        };
        let message = fault["message"]
            .as_str()
            .map_or_else(|| format!("scripted {code}"), str::to_owned);
        Err(Error::new(kind, message))
    }

    fn text(&self, model: &str) -> String {
        format!("ok from {}/{model}", self.instance)
    }
}

#[async_trait]
impl Provider for Scripted {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        self.attempt(&request.model)?;
        Ok(ChatResponse {
            model: request.model.clone(),
            content: vec![ContentPart::Text {
                text: self.text(&request.model),
            }],
            ..Default::default()
        })
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        self.attempt(&request.model)?;
        let items = vec![
            Ok(ChatEvent::Start {
                id: "scripted".into(),
                model: request.model.clone(),
                created: None,
            }),
            Ok(ChatEvent::TextDelta {
                text: self.text(&request.model),
            }),
            Ok(ChatEvent::Finish {
                reason: FinishReason::Stop,
            }),
        ];
        Ok(Box::pin(futures::stream::iter(items)))
    }

    async fn health(&self) -> Result<HealthReport, Error> {
        self.health_calls.fetch_add(1, Ordering::Relaxed);
        Ok(HealthReport {
            latency: Duration::from_millis(1),
            detail: None,
        })
    }
}

fn schema() -> Value {
    serde_json::json!({"type": "object"})
}

fn accept(_: &Value) -> Result<(), Error> {
    Ok(())
}

fn build(settings: Value, ctx: ProviderContext) -> BuildFuture {
    Box::pin(async move {
        Ok(Arc::new(Scripted {
            instance: ctx.instance.clone(),
            settings,
            seen: Mutex::new(BTreeMap::new()),
            health_calls: AtomicU32::new(0),
        }) as Arc<dyn Provider>)
    })
}

static SCRIPTED: ProviderDescriptor = ProviderDescriptor {
    name: "scripted",
    display_name: "Scripted",
    description: "Fails per model as scripted; counts calls.",
    version: "0.0.0",
    authors: "",
    homepage: "",
    crate_name: "tests",
    type_path: "tests::Scripted",
    capabilities: Capabilities::NONE,
    config_schema: schema,
    validate_config: accept,
    build,
};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::from_descriptors([&SCRIPTED]).expect("one provider"))
}

/// A switchboard over the scripted provider only.
pub(crate) async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::builder()
        .catalog(catalog())
        .config(config)
        .build()
        .await
        .expect("builds")
}

/// A one-message request for `model`.
pub(crate) fn req(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}
