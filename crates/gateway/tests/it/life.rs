//! `life`: a test provider that counts what the registry does to it, per
//! instance name: builds, `shutdown` calls, cancellation-token firings and
//! health checks.
//!
//! Settings (any other key is accepted and ignored): `api_key` (a secret),
//! `base_url`, `headers`, `build_delay_ms`, `chat_delay_ms`, `fail_build`
//! (the build fails with a message quoting the api key and base URL).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::{
    BuildFuture, Capabilities, Catalog, ChatEvent, ChatRequest, ChatResponse, ChatStream, Error,
    HealthReport, ModelInfo, Provider, ProviderContext, ProviderDescriptor, async_trait,
};
use switchboard_gateway::Switchboard;
use switchboard_gateway::config::types::Config;

/// What happened to the instances of one name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) builds: u32,
    pub(crate) shutdowns: u32,
    pub(crate) cancels: u32,
    pub(crate) health: u32,
}

static COUNTS: Mutex<BTreeMap<String, Counts>> = Mutex::new(BTreeMap::new());

pub(crate) fn counts(instance: &str) -> Counts {
    COUNTS
        .lock()
        .map(|c| c.get(instance).copied().unwrap_or_default())
        .unwrap_or_default()
}

fn bump(instance: &str, f: impl FnOnce(&mut Counts)) {
    if let Ok(mut c) = COUNTS.lock() {
        f(c.entry(instance.to_owned()).or_default());
    }
}

/// Waits (up to 5 s) until `instance`'s counts satisfy `ok`.
pub(crate) async fn until(instance: &str, ok: impl Fn(Counts) -> bool) -> Counts {
    for _ in 0..500 {
        let c = counts(instance);
        if ok(c) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    counts(instance)
}

struct Life {
    instance: Arc<str>,
    settings: Value,
}

impl Life {
    fn ms(&self, key: &str) -> Duration {
        Duration::from_millis(self.settings[key].as_u64().unwrap_or(0))
    }
}

#[async_trait]
impl Provider for Life {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        tokio::time::sleep(self.ms("chat_delay_ms")).await;
        Ok(ChatResponse {
            model: request.model.clone(),
            ..Default::default()
        })
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream, Error> {
        let start = ChatEvent::Start {
            id: "life".into(),
            model: request.model.clone(),
            created: None,
        };
        // One event, then nothing until the consumer drops the stream.
        Ok(Box::pin(
            futures::stream::iter([Ok(start)]).chain(futures::stream::pending()),
        ))
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        Ok(vec![ModelInfo {
            id: "m".into(),
            ..Default::default()
        }])
    }

    async fn health(&self) -> Result<HealthReport, Error> {
        bump(&self.instance, |c| c.health += 1);
        Ok(HealthReport {
            latency: Duration::ZERO,
            detail: None,
        })
    }

    async fn shutdown(&self) {
        bump(&self.instance, |c| c.shutdowns += 1);
    }
}

use futures::StreamExt;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "api_key": {"type": "string", "writeOnly": true},
            "base_url": {"type": "string"}
        }
    })
}

fn accept(_: &Value) -> Result<(), Error> {
    Ok(())
}

fn build(settings: Value, ctx: ProviderContext) -> BuildFuture {
    Box::pin(async move {
        let instance = ctx.instance.clone();
        bump(&instance, |c| c.builds += 1);
        let delay = settings["build_delay_ms"].as_u64().unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        if settings["fail_build"].as_bool() == Some(true) {
            return Err(Error::config(format!(
                "cannot reach {} with key {}",
                settings["base_url"].as_str().unwrap_or(""),
                settings["api_key"].as_str().unwrap_or("")
            )));
        }
        let cancel = ctx.cancel.clone();
        let name = instance.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            bump(&name, |c| c.cancels += 1);
        });
        Ok(Arc::new(Life { instance, settings }) as Arc<dyn Provider>)
    })
}

static LIFE: ProviderDescriptor = ProviderDescriptor {
    name: "life",
    display_name: "Life",
    description: "Counts builds, shutdowns, cancellations and health checks.",
    version: "0.0.0",
    authors: "",
    homepage: "",
    crate_name: "tests",
    type_path: "tests::Life",
    capabilities: Capabilities::NONE,
    config_schema: schema,
    validate_config: accept,
    build,
};

pub(crate) fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::from_descriptors([&LIFE]).expect("one provider"))
}

pub(crate) async fn switchboard(config: Value) -> Switchboard {
    let config: Config = serde_json::from_value(config).expect("valid config");
    Switchboard::builder()
        .catalog(catalog())
        .config(config)
        .build()
        .await
        .expect("builds")
}
