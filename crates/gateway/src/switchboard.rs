//! [`Switchboard`]: config + registry + router, the one type library users hold.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::upstream::HttpClient;
use switchboard_core::{
    Catalog, ChatRequest, ChatResponse, ChatStream, EmbeddingsRequest, EmbeddingsResponse, Error,
    ForwardRequest, ModelInfo, ProviderContext,
};

use arc_swap::ArcSwap;
use serde_json::{Map, Value};
use switchboard_core::extension::{InboundApi, KeyGrant, MethodCall, RequestContext, Store};

use crate::config::types::Config;
use crate::config::{ConfigLoader, ProviderFeature};
use crate::extensions::manager::{self, ExtensionManager};
use crate::extensions::{ExtensionSet, ExtensionStatus, Hub};
use crate::registry::{ApplyReport, Registry};
use crate::router::{Forwarded, Routed, Router, StreamForwarded};
use crate::routes::Settings;
use crate::validated::Validated;

/// Every configured provider behind one API, with routing, retries,
/// fallbacks, health and hot reload.
///
/// ```no_run
/// # async fn demo() -> Result<(), switchboard_core::Error> {
/// use switchboard_core::{ChatRequest, Message};
/// use switchboard_gateway::Switchboard;
///
/// let sb = Switchboard::from_config_file("switchboard.toml").await?;
/// let answer = sb.chat(ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hi")])).await?;
/// println!("{} (from {} in {} attempts)", answer.value.text(), answer.route.instance, answer.route.attempts);
/// # Ok(()) }
/// ```
///
/// # Validation
///
/// [`chat`](Self::chat), [`chat_stream`](Self::chat_stream) and
/// [`embed`](Self::embed) are where a request is validated
/// ([`ChatRequest::validate`], [`EmbeddingsRequest::validate`]): once, before
/// routing. An invalid request fails with an `invalid_request` error naming
/// the field, and no instance is called (nor its health touched). The router
/// then only changes the request's `model` to each target's; no retry or
/// fallback validates again, so a [`Provider`](switchboard_core::Provider)
/// receives a validated request and need not validate it itself.
///
/// # Errors from instances
///
/// Every error the router returns from a provider call (an attempt, the
/// first event of a stream, an error later inside a routed stream) and every
/// error of a registry health check carries the instance it came from
/// ([`Error::instance`]), set once by the router or registry: providers need
/// not tag their errors.
///
/// # Reloads
///
/// [`reload_from_file`](Self::reload_from_file) and the registry's runtime
/// updates are serialized (one admin lock). A reload builds every new or
/// changed instance first; then the new configuration (client keys, admin
/// token, aliases), the instances, the health policy and the router
/// settings are published as one [`Generation`](crate::registry::Generation)
/// (one `ArcSwap` store): a request reads one generation from start to end,
/// never half of a reload. Replaced, disabled and removed providers are
/// drained (up to `server.shutdown_grace_ms`), then shut down and cancelled.
///
/// # Background work
///
/// With `health.probe_interval_ms` set, a task runs every instance's health
/// check that often; it stops on [`shutdown`](Self::shutdown) or when the
/// switchboard is dropped.
pub struct Switchboard {
    registry: Arc<Registry>,
    hub: Arc<Hub>,
    extensions: ExtensionManager,
    loader: Option<ConfigLoader>,
    /// Which keys the config file set through `${VAR}` (see
    /// [`env_references`](Switchboard::env_references)).
    env_references: ArcSwap<BTreeMap<String, Vec<String>>>,
    probe: tokio::task::JoinHandle<()>,
}

impl Drop for Switchboard {
    fn drop(&mut self) {
        self.probe.abort();
    }
}

impl std::fmt::Debug for Switchboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switchboard")
            .field("registry", &self.registry)
            .field("router", &self.hub.router)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Switchboard`].
#[derive(Default)]
pub struct SwitchboardBuilder {
    loader: Option<ConfigLoader>,
    config: Option<Config>,
    http: Option<reqwest::Client>,
    catalog: Option<&'static Catalog>,
    known: Option<&'static [ProviderFeature]>,
    known_extensions: Option<&'static [ProviderFeature]>,
    store: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for SwitchboardBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchboardBuilder")
            .field("loader", &self.loader)
            .field("config", &self.config.is_some())
            .field("store", &self.store.as_ref().map(|s| s.backend()))
            .finish_non_exhaustive()
    }
}

impl SwitchboardBuilder {
    /// Load the configuration with `loader` (file, profile, env).
    #[must_use]
    pub fn loader(mut self, loader: ConfigLoader) -> Self {
        self.loader = Some(loader);
        self
    }

    /// Use this configuration as is (no file; `reload_from_file` is unavailable).
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Share this HTTP client (one connection pool for the process). Every
    /// upstream request then goes through it, with its proxy, TLS and DNS
    /// settings: the faster direct path of
    /// [`HttpClient`] is not used.
    ///
    /// The client must not follow redirects
    /// (`.redirect(reqwest::redirect::Policy::none())`): a followed redirect
    /// carries the provider's credentials to whatever host it names. A
    /// redirected answer is refused with an error saying so, but by then the
    /// request has been sent.
    #[must_use]
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Build providers from this catalog instead of [`switchboard_core::catalog()`].
    #[must_use]
    pub fn catalog(mut self, catalog: &'static Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Provider kinds the build could link, for "build with `--features x`" hints.
    #[must_use]
    pub fn known_providers(mut self, known: &'static [ProviderFeature]) -> Self {
        self.known = Some(known);
        self
    }

    /// Extensions the build could link, for "build with `--features x`"
    /// hints (`provider` holds the extension's name).
    #[must_use]
    pub fn known_extensions(mut self, known: &'static [ProviderFeature]) -> Self {
        self.known_extensions = Some(known);
        self
    }

    /// Give extensions this store instead of opening `[state] path`.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Loads the configuration and builds every instance. Instances that
    /// fail to build are `failed`; the rest start normally. A configuration
    /// given as is must pass the same duration bounds as a loaded one
    /// ([`MAX_DURATION`](crate::config::MAX_DURATION)).
    pub async fn build(self) -> Result<Switchboard, Error> {
        let catalog = match self.catalog {
            Some(c) => c,
            None => switchboard_core::catalog()?,
        };
        let loader = match (self.loader, self.known) {
            (Some(l), Some(k)) => Some(l.known_providers(k)),
            (l, _) => l,
        };
        let loader = match (loader, self.known_extensions) {
            (Some(l), Some(k)) => Some(l.known_extensions(k)),
            (l, _) => l,
        };
        let mut env_references = BTreeMap::new();
        let config = match (self.config, &loader) {
            (Some(config), _) => {
                crate::config::check_config(&config)?;
                config
            }
            (None, Some(loader)) => {
                let loaded = loader.load(catalog)?;
                env_references = loaded.env_references;
                loaded.config
            }
            (None, None) => Config::default(),
        };
        let ctx = match self.http {
            Some(http) => {
                ProviderContext::with_upstream("switchboard", HttpClient::via_reqwest(http))
            }
            None => ProviderContext::new("switchboard", switchboard_core::default_http_client()),
        };
        let registry = Arc::new(Registry::new(catalog, ctx, &config.health));
        registry.set_drain_grace(Duration::from_millis(config.server.shutdown_grace_ms));
        let report = registry.apply(&config.providers).await;
        for (name, error) in &report.failed {
            tracing::warn!(instance = %name, %error, "provider instance failed to start");
        }
        let router = Router::over(registry.clone());
        let hub = Arc::new(Hub {
            router,
            set: ArcSwap::from_pointee(ExtensionSet::default()),
        });
        let extensions = ExtensionManager::new(self.store, loader.as_ref().and_then(|l| l.path()));
        let wants_extensions = config.extensions.values().any(|e| e.enabled);
        let config = Arc::new(config);
        let routes = Arc::new(Settings::new(config.router.clone(), &config.models));
        registry.publish_config(config.clone(), routes);
        if wants_extensions {
            let prepared = extensions
                .prepare(&Arc::downgrade(&hub), &ExtensionSet::default(), &config)
                .await?;
            ExtensionManager::commit(&hub, prepared);
        }
        let probe = registry.spawn_probe();
        Ok(Switchboard {
            registry,
            hub,
            extensions,
            loader,
            env_references: ArcSwap::from_pointee(env_references),
            probe,
        })
    }
}

impl Switchboard {
    /// A builder.
    pub fn builder() -> SwitchboardBuilder {
        SwitchboardBuilder::default()
    }

    /// Loads `path` (with its profile file, `.env` and `SWITCHBOARD_*`
    /// variables) and builds every instance.
    pub async fn from_config_file(path: impl Into<PathBuf>) -> Result<Self, Error> {
        Self::builder()
            .loader(ConfigLoader::new().file(path))
            .build()
            .await
    }

    /// Builds every instance of `config`.
    pub async fn from_config(config: Config) -> Result<Self, Error> {
        Self::builder().config(config).build().await
    }

    /// A chat answer. `request.model` is an alias, `instance/model`, or a
    /// model listed by exactly one instance.
    ///
    /// The request is validated here, once, before routing (see
    /// [Validation](Switchboard#validation)).
    pub async fn chat(&self, request: ChatRequest) -> Result<Routed<ChatResponse>, Error> {
        let request = Validated::new(request)?;
        self.hub.router.chat_validated(request).await
    }

    /// A chat answer to a request the client sent in `api`'s wire format
    /// as `body` (`request` is parsed from it): when every target's
    /// provider [`forwards`](switchboard_core::Provider::forwards) it, the
    /// client's bytes go upstream with only `model` changed and the
    /// upstream's answer comes back as it was sent
    /// ([`Forwarded::Reply`]); otherwise this is [`chat`](Self::chat)
    /// ([`Forwarded::Parsed`]). Validated once, as there; no extension
    /// hooks run (the server calls it only when none is enabled).
    pub async fn chat_forward(
        &self,
        api: InboundApi,
        request: ChatRequest,
        body: bytes::Bytes,
    ) -> Result<Forwarded, Error> {
        let request = Validated::new(ForwardRequest::new(api, request, body))?;
        self.hub.router.chat_forward_validated(request).await
    }

    /// [`chat_forward`](Self::chat_forward) for a streamed answer: the
    /// upstream's events as it sent them ([`StreamForwarded::Frames`]:
    /// only `model` changed in the request, and usage asked for and left
    /// out again unless the client asked too), or
    /// [`chat_stream`](Self::chat_stream)'s events
    /// ([`StreamForwarded::Events`]).
    pub async fn chat_forward_stream(
        &self,
        api: InboundApi,
        request: ChatRequest,
        body: bytes::Bytes,
    ) -> Result<StreamForwarded, Error> {
        let request = Validated::new(ForwardRequest::new(api, request, body).streamed())?;
        self.hub.router.chat_forward_stream_validated(request).await
    }

    /// A streamed chat answer. Validated once, before routing, as
    /// [`chat`](Self::chat).
    pub async fn chat_stream(&self, request: ChatRequest) -> Result<Routed<ChatStream>, Error> {
        let request = Validated::new(request)?;
        self.hub.router.chat_stream_validated(request).await
    }

    /// A chat answer through the enabled extensions' hooks: `on_request` in
    /// `order` (an extension may change, answer or refuse the request), the
    /// router, then `on_response` in `order`; a completion record goes to
    /// every extension with `on_complete`. `ctx` describes the caller; its
    /// `response_headers` hold what extensions add to the answer. With no
    /// extension enabled this is [`chat`](Self::chat).
    pub async fn chat_with(
        &self,
        ctx: &mut RequestContext,
        request: ChatRequest,
    ) -> Result<Routed<ChatResponse>, Error> {
        self.hub.chat_with(ctx, request).await
    }

    /// A streamed chat answer through the enabled extensions' hooks:
    /// `on_request` (an answer is replayed as events), the router, then
    /// `on_event` per event (an error ends the stream with it). The record
    /// is sent when the stream ends, fails, or is dropped before its end
    /// (`Outcome::Cancelled`, usage so far marked partial). Only response
    /// headers set by `on_request` are in `ctx.response_headers` on return.
    pub async fn chat_stream_with(
        &self,
        ctx: &mut RequestContext,
        request: ChatRequest,
    ) -> Result<Routed<ChatStream>, Error> {
        self.hub.chat_stream_with(ctx, request).await
    }

    /// Calls method `call.method` of the enabled extension `extension`, its
    /// arguments validated against the method's schema first (an
    /// `invalid_request` naming the bad argument); an unknown extension or
    /// method is `not_found` naming what is available; an `admin` method
    /// needs `call.admin`.
    pub async fn call_extension(&self, extension: &str, call: MethodCall) -> Result<Value, Error> {
        self.hub.call_extension(extension, call).await
    }

    /// Whether an enabled extension authenticates client keys (then a
    /// request without a key is refused even with no static keys).
    pub fn has_authenticator(&self) -> bool {
        self.hub.has_authenticator()
    }

    /// Asks the enabled extensions with `authenticate` about a client key
    /// the static keys did not match: `Ok(None)` when none knows it.
    pub async fn authenticate(&self, key: &str) -> Result<Option<KeyGrant>, Error> {
        self.hub.authenticate(key).await
    }

    /// Whether any extension runs (callers skip building a
    /// [`RequestContext`] when none does).
    pub fn has_extensions(&self) -> bool {
        !self.hub.set.load().is_empty()
    }

    /// The extension store, when one is open (given to the builder, or
    /// opened for an extension); `None` otherwise.
    pub fn store(&self) -> Option<Arc<dyn Store>> {
        self.extensions.opened_store()
    }

    /// Every linked or configured extension: enabled, state, hooks,
    /// methods, dropped records.
    pub fn extension_statuses(&self) -> Vec<ExtensionStatus> {
        manager::statuses(&self.hub, &self.config())
    }

    /// Appends the extensions' metrics (OpenMetrics text): the
    /// `switchboard_extension_records_dropped_total{extension}` counter and
    /// each running extension's own. Nothing when none runs.
    pub fn extension_metrics(&self, out: &mut String) {
        manager::metrics(&self.hub, out);
    }

    /// Enables or disables extension `name` at runtime (until the next
    /// reload from file). Builds it first when enabling; a failed build
    /// changes nothing.
    pub async fn set_extension_enabled(&self, name: &str, enabled: bool) -> Result<(), Error> {
        self.update_extension(name, |c| c.enabled = enabled).await
    }

    /// Replaces extension `name`'s own settings at runtime (until the next
    /// reload from file), validated by its schema; a running extension is
    /// rebuilt, swapped only on success.
    pub async fn set_extension_config(
        &self,
        name: &str,
        settings: Map<String, Value>,
    ) -> Result<(), Error> {
        let catalog = switchboard_core::extension::extension_catalog()?;
        let descriptor = catalog.get(name).ok_or_else(|| {
            Error::not_found(format!(
                "no extension named `{name}` is linked; linked extensions: {}",
                catalog.names().join(", ")
            ))
        })?;
        descriptor.validate(&Value::Object(settings.clone()))?;
        self.update_extension(name, move |c| c.settings = settings)
            .await
    }

    async fn update_extension(
        &self,
        name: &str,
        change: impl FnOnce(&mut crate::config::types::ExtensionConfig),
    ) -> Result<(), Error> {
        let catalog = switchboard_core::extension::extension_catalog()?;
        if catalog.get(name).is_none() {
            return Err(Error::not_found(format!(
                "no extension named `{name}` is linked; linked extensions: {}",
                catalog.names().join(", ")
            )));
        }
        let _admin = self.registry.lock_admin().await;
        let generation = self.registry.generation();
        let mut config = (*generation.config).clone();
        change(config.extensions.entry(name.to_owned()).or_default());
        let current = self.hub.set.load_full();
        let prepared = self
            .extensions
            .prepare(&Arc::downgrade(&self.hub), &current, &config)
            .await?;
        self.registry
            .publish_config(Arc::new(config), generation.routes.clone());
        let retired = ExtensionManager::commit(&self.hub, prepared);
        ExtensionManager::retire(retired).await;
        Ok(())
    }

    /// Embeddings. Validated once, before routing, as [`chat`](Self::chat).
    pub async fn embed(
        &self,
        request: EmbeddingsRequest,
    ) -> Result<Routed<EmbeddingsResponse>, Error> {
        let request = Validated::new(request)?;
        self.hub.router.embed_validated(request).await
    }

    /// Every model of every ready instance, with ids as `instance/model`,
    /// followed by the aliases; then every enabled extension's `on_models`
    /// (the `usage` extension fills in prices).
    pub fn models(&self) -> Vec<ModelInfo> {
        let mut out = Vec::new();
        for inst in self.registry.instances() {
            if inst.provider().is_none() {
                continue;
            }
            for mut m in inst.models() {
                m.id = format!("{}/{}", inst.name(), m.id);
                m.provider = inst.name().to_owned();
                out.push(m);
            }
        }
        for alias in self.hub.router.aliases() {
            out.push(ModelInfo {
                id: alias,
                owned_by: Some("switchboard-alias".into()),
                ..Default::default()
            });
        }
        self.hub.on_models(&mut out);
        out
    }

    /// The live registry (instances, state, health, reload, enable/disable).
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The router.
    pub fn router(&self) -> &Router {
        &self.hub.router
    }

    /// The configuration currently applied.
    pub fn config(&self) -> Arc<Config> {
        self.registry.generation().config.clone()
    }

    /// Which keys of the configuration file were set through `${VAR}`
    /// references, by key path (`providers.openai.api_key` →
    /// `["OPENAI_API_KEY"]`); the names only, never the values. A key
    /// changed at runtime ([`forget_env_references`](Self::forget_env_references))
    /// drops out until the file is read again.
    pub fn env_references(&self) -> Arc<BTreeMap<String, Vec<String>>> {
        self.env_references.load_full()
    }

    /// Forgets the `${VAR}` references of the keys a runtime change set:
    /// `prefix` (`providers.openai`) and each key of `patch` under it
    /// (nested objects followed). Their values no longer come from the file.
    pub fn forget_env_references(&self, prefix: &str, patch: &Value) {
        fn paths(prefix: &str, v: &Value, out: &mut Vec<String>) {
            if let Value::Object(map) = v {
                for (k, v) in map {
                    let path = format!("{prefix}.{k}");
                    paths(&path, v, out);
                    out.push(path);
                }
            }
        }
        let mut changed = Vec::new();
        paths(prefix, patch, &mut changed);
        if changed.is_empty() {
            return;
        }
        self.env_references.rcu(|refs| {
            let mut refs = BTreeMap::clone(refs);
            refs.retain(|key, _| {
                !changed.iter().any(|c| {
                    key == c
                        || key.starts_with(&format!("{c}."))
                        || key.starts_with(&format!("{c}["))
                })
            });
            refs
        });
    }

    /// The config file, if the switchboard was loaded from one.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.loader
            .as_ref()
            .and_then(|l| l.path().map(|p| p.to_path_buf()))
    }

    /// Re-reads the configuration file and makes the running instances,
    /// router settings and aliases match it: new instances are added,
    /// removed ones dropped, changed ones rebuilt (swapped only on success),
    /// unchanged ones left alone. For `SIGHUP`, file watching and
    /// `POST /plugins/discover`. A file that does not load changes nothing.
    ///
    /// Serialized with every other reload and runtime update; the new
    /// configuration, instances and router settings become visible together
    /// (see [Reloads](Switchboard#reloads)).
    pub async fn reload_from_file(&self) -> Result<ApplyReport, Error> {
        let loader = self.loader.as_ref().ok_or_else(|| {
            Error::config(
                "this switchboard was not loaded from a file, so there is nothing to re-read",
            )
        })?;
        let admin = self.registry.lock_admin().await;
        let loaded = loader.load(self.registry.catalog())?;
        let config = loaded.config;
        let current = self.hub.set.load_full();
        let extensions = self
            .extensions
            .prepare(&Arc::downgrade(&self.hub), &current, &config)
            .await?;
        let prepared = self.registry.prepare(&admin, &config.providers).await;
        // One generation: readers see the old configuration, instances and
        // routes, or the new ones, never a mix.
        self.registry
            .set_drain_grace(Duration::from_millis(config.server.shutdown_grace_ms));
        let routes = Arc::new(Settings::new(config.router.clone(), &config.models));
        let report = self
            .registry
            .commit_with(&admin, prepared, Some((Arc::new(config), routes)));
        let retired = ExtensionManager::commit(&self.hub, extensions);
        self.env_references.store(Arc::new(loaded.env_references));
        drop(admin);
        ExtensionManager::retire(retired).await;
        Ok(report)
    }

    /// Watches the config file's directory and calls
    /// [`reload_from_file`](Self::reload_from_file) after changes settle for
    /// `debounce`. Stops when the handle is dropped.
    pub fn watch_config_file(self: &Arc<Self>, debounce: Duration) -> Result<WatchHandle, Error> {
        let path = self
            .config_path()
            .ok_or_else(|| Error::config("no config file to watch"))?;
        let path = path.canonicalize().unwrap_or(path);
        let dir = path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from("."));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut debouncer = notify_debouncer_mini::new_debouncer(
            debounce,
            move |res: notify_debouncer_mini::DebounceEventResult| {
                if let Ok(events) = res {
                    // The main file, its profile files (`<stem>.<profile>.<ext>`) and `.env`.
                    let relevant = events.iter().any(|e| {
                        e.path.file_name().is_some_and(|n| {
                            let n = n.to_string_lossy();
                            n == ".env" || n.starts_with(&format!("{stem}."))
                        })
                    });
                    if relevant {
                        let _ = tx.send(());
                    }
                }
            },
        )
        .map_err(|e| Error::config(format!("cannot watch {}: {e}", dir.display())))?;
        debouncer
            .watcher()
            .watch(
                &dir,
                notify_debouncer_mini::notify::RecursiveMode::NonRecursive,
            )
            .map_err(|e| Error::config(format!("cannot watch {}: {e}", dir.display())))?;
        let weak = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            while rx.recv().await.is_some() {
                let Some(sb) = weak.upgrade() else { break };
                match sb.reload_from_file().await {
                    Ok(report) => tracing::info!(?report, "configuration reloaded"),
                    Err(error) => {
                        tracing::warn!(%error, "configuration reload failed; keeping the running configuration")
                    }
                }
            }
        });
        Ok(WatchHandle {
            _debouncer: Box::new(debouncer),
            task,
        })
    }

    /// Stops the periodic probe and every provider (current ones and those
    /// still draining after a reload).
    pub async fn shutdown(&self) {
        self.probe.abort();
        self.extensions.shutdown(&self.hub).await;
        self.registry.shutdown().await;
    }
}

/// Keeps a config file watch alive; dropping it stops watching.
pub struct WatchHandle {
    _debouncer: Box<dyn std::any::Any + Send>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for WatchHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchHandle").finish_non_exhaustive()
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
