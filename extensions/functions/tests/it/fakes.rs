//! A fake gateway (canned answers, recorded requests), a tiny in-memory
//! store, and helpers to build the extension and call its methods.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;
use switchboard_core::extension::{
    ExtensionContext, Gateway, LedgerQuery, LedgerRow, LedgerTotal, MethodCall, RequestContext,
    Store,
};
use switchboard_core::{ChatRequest, ChatResponse, ContentPart, Error, Extension, ExtensionInit};
use switchboard_ext_functions::{Functions, FunctionsConfig};
use tokio_util::sync::CancellationToken;

/// Answers each chat with the next canned text and records what it was sent.
#[derive(Default)]
pub(crate) struct FakeGateway {
    answers: Mutex<VecDeque<String>>,
    pub(crate) requests: Mutex<Vec<ChatRequest>>,
}

impl FakeGateway {
    pub(crate) fn answering(answers: &[&str]) -> Arc<FakeGateway> {
        Arc::new(FakeGateway {
            answers: Mutex::new(answers.iter().map(|a| (*a).to_owned()).collect()),
            requests: Mutex::default(),
        })
    }

    pub(crate) fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl Gateway for FakeGateway {
    async fn chat(&self, ctx: RequestContext, request: ChatRequest) -> Result<ChatResponse, Error> {
        assert_eq!(
            ctx.request_id.as_ref(),
            "req-1",
            "the call's request id is passed on"
        );
        self.requests.lock().expect("not poisoned").push(request);
        let Some(text) = self.answers.lock().expect("not poisoned").pop_front() else {
            return Err(Error::unavailable("the fake gateway has no answer left"));
        };
        Ok(ChatResponse {
            content: vec![ContentPart::text(text)],
            ..ChatResponse::default()
        })
    }
}

/// A store in memory; clones share the data (two processes, one file).
#[derive(Default, Clone)]
pub(crate) struct MemoryStore {
    data: Arc<Mutex<BTreeMap<(String, String), Value>>>,
}

#[async_trait]
impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Value>, Error> {
        let data = self.data.lock().expect("not poisoned");
        Ok(data.get(&(namespace.to_owned(), key.to_owned())).cloned())
    }

    async fn put(&self, namespace: &str, key: &str, value: &Value) -> Result<(), Error> {
        let mut data = self.data.lock().expect("not poisoned");
        data.insert((namespace.to_owned(), key.to_owned()), value.clone());
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<bool, Error> {
        let mut data = self.data.lock().expect("not poisoned");
        Ok(data
            .remove(&(namespace.to_owned(), key.to_owned()))
            .is_some())
    }

    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Value)>, Error> {
        let data = self.data.lock().expect("not poisoned");
        Ok(data
            .iter()
            .filter(|((ns, key), _)| ns == namespace && key.starts_with(prefix))
            .map(|((_, key), value)| (key.clone(), value.clone()))
            .collect())
    }

    async fn append_usage(&self, _row: &LedgerRow) -> Result<(), Error> {
        Ok(())
    }

    async fn usage_totals(&self, _query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
        Ok(Vec::new())
    }
}

/// The extension under test, with its fakes.
pub(crate) struct Harness {
    pub(crate) functions: Functions,
    pub(crate) gateway: Arc<FakeGateway>,
    pub(crate) store: MemoryStore,
}

impl Harness {
    /// A fresh extension on a fresh store.
    pub(crate) async fn new(answers: &[&str]) -> Harness {
        Harness::on_store(MemoryStore::default(), answers, FunctionsConfig::default()).await
    }

    /// An extension on `store` (shared with other instances).
    pub(crate) async fn on_store(
        store: MemoryStore,
        answers: &[&str],
        config: FunctionsConfig,
    ) -> Harness {
        let gateway = FakeGateway::answering(answers);
        let ctx = ExtensionContext {
            name: Arc::from("functions"),
            store: Arc::new(store.clone()),
            gateway: Arc::clone(&gateway) as Arc<dyn Gateway>,
            cancel: CancellationToken::new(),
        };
        let functions = Functions::init(config, ctx)
            .await
            .expect("the extension builds");
        Harness {
            functions,
            gateway,
            store,
        }
    }

    /// Calls `method` as a client (not the admin).
    pub(crate) async fn call(&self, method: &str, arguments: Value) -> Result<Value, Error> {
        self.call_as(method, arguments, false).await
    }

    /// Calls `method`, as the admin or not.
    pub(crate) async fn call_as(
        &self,
        method: &str,
        arguments: Value,
        admin: bool,
    ) -> Result<Value, Error> {
        self.functions
            .call(MethodCall {
                method: method.to_owned(),
                arguments,
                client_key: None,
                admin,
                request_id: Arc::from("req-1"),
            })
            .await
    }

    /// The names `methods()` lists.
    pub(crate) fn method_names(&self) -> Vec<String> {
        self.functions
            .methods()
            .into_iter()
            .map(|m| m.name)
            .collect()
    }
}

/// A `summarize` definition with an output schema.
pub(crate) fn summarize() -> Value {
    serde_json::json!({
        "name": "summarize",
        "description": "Summarizes a text in a few words.",
        "template": "Summarize in at most {{ words }} words:\n{{text}}",
        "parameters": {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "words": {"type": "integer", "minimum": 1}
            },
            "required": ["text", "words"],
            "additionalProperties": false
        },
        "model": "fast",
        "system": "You are terse.",
        "output_schema": {
            "type": "object",
            "properties": {"summary": {"type": "string"}},
            "required": ["summary"],
            "additionalProperties": false
        }
    })
}

/// A `greet` definition without an output schema.
pub(crate) fn greet() -> Value {
    serde_json::json!({
        "name": "greet",
        "description": "Greets someone.",
        "template": "Say hello to {{who}}.",
        "parameters": {
            "type": "object",
            "properties": {"who": {"type": "string"}},
            "required": ["who"]
        },
        "model": "mock/echo"
    })
}

impl Harness {
    /// What `methods()` returns.
    pub(crate) fn functions_methods(&self) -> Vec<switchboard_core::extension::MethodInfo> {
        self.functions.methods()
    }
}
