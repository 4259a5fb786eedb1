//! The built extensions as requests see them: one immutable snapshot,
//! sorted by `order` (ties by name), swapped whole on reload.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use serde_json::{Map, Value};
use switchboard_core::extension::{
    CompletionRecord, Extension, ExtensionDescriptor, Hooks, RequestContext,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How many completion records wait for one extension before new ones are
/// dropped (and counted).
pub(crate) const COMPLETION_QUEUE: usize = 1024;

/// One built extension.
pub(crate) struct LoadedExtension {
    pub(crate) name: Arc<str>,
    pub(crate) descriptor: &'static ExtensionDescriptor,
    pub(crate) ext: Arc<dyn Extension>,
    /// The settings it was built from (to tell a changed config on reload).
    pub(crate) settings: Map<String, Value>,
    /// Its `on_complete` queue, when it has the hook.
    completions: Option<mpsc::Sender<Arc<CompletionRecord>>>,
    /// Records dropped because its queue was full.
    pub(crate) dropped: AtomicU64,
    /// Cancelled when it is removed or the switchboard shuts down.
    pub(crate) cancel: CancellationToken,
}

impl LoadedExtension {
    /// Wraps a built extension, starting its `on_complete` task if it has the hook.
    pub(crate) fn new(
        name: Arc<str>,
        descriptor: &'static ExtensionDescriptor,
        ext: Arc<dyn Extension>,
        settings: Map<String, Value>,
        cancel: CancellationToken,
    ) -> Self {
        let completions = descriptor.hooks.contains(Hooks::COMPLETE).then(|| {
            let (tx, mut rx) = mpsc::channel::<Arc<CompletionRecord>>(COMPLETION_QUEUE);
            let ext = ext.clone();
            let cancel = cancel.clone();
            let name = name.clone();
            tokio::spawn(async move {
                loop {
                    let record = tokio::select! {
                        _ = cancel.cancelled() => break,
                        r = rx.recv() => match r { Some(r) => r, None => break },
                    };
                    let run = std::panic::AssertUnwindSafe(ext.on_complete(&record));
                    if run.catch_unwind().await.is_err() {
                        tracing::error!(extension = %name, "on_complete panicked");
                    }
                }
            });
            tx
        });
        LoadedExtension {
            name,
            descriptor,
            ext,
            settings,
            completions,
            dropped: AtomicU64::new(0),
            cancel,
        }
    }

    /// Whether it declared `hook`.
    pub(crate) fn has(&self, hook: Hooks) -> bool {
        self.descriptor.hooks.contains(hook)
    }

    /// Queues `record` for `on_complete`; drops and counts it when the queue is full.
    pub(crate) fn deliver(&self, record: &Arc<CompletionRecord>) {
        if let Some(tx) = &self.completions
            && tx.try_send(record.clone()).is_err()
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The enabled extensions, in hook order, and who they apply to.
#[derive(Default)]
pub(crate) struct ExtensionSet {
    /// `(order, extension)`, sorted by order then name.
    pub(crate) entries: Vec<(i32, Arc<LoadedExtension>)>,
    /// Alias → the extensions that apply to it (absent: all).
    pub(crate) by_alias: HashMap<String, Vec<String>>,
    /// Client key id → the extensions that apply to it (absent: all).
    pub(crate) by_key: HashMap<String, Vec<String>>,
}

impl ExtensionSet {
    /// Whether no extension is enabled (the zero-cost fast path).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The extension named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Arc<LoadedExtension>> {
        self.entries
            .iter()
            .map(|(_, e)| e)
            .find(|e| &*e.name == name)
    }

    /// The extensions that apply to the request of `ctx` for `model`, in order.
    pub(crate) fn active(&self, ctx: &RequestContext, model: &str) -> Vec<Arc<LoadedExtension>> {
        let by_alias = self.by_alias.get(model);
        let by_key = ctx
            .client_key
            .as_ref()
            .and_then(|k| self.by_key.get(&*k.id));
        let allowed = |name: &str, list: Option<&Vec<String>>| {
            list.is_none_or(|l| l.iter().any(|n| n == name))
        };
        self.entries
            .iter()
            .filter(|(_, e)| allowed(&e.name, by_alias) && allowed(&e.name, by_key))
            .map(|(_, e)| e.clone())
            .collect()
    }
}
