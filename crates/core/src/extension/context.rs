//! What an extension is handed: at build time ([`ExtensionContext`]) and
//! for each request ([`RequestContext`]).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::store::Store;
use crate::{ChatRequest, ChatResponse, Error};

/// The inbound API a request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboundApi {
    /// `POST /v1/chat/completions`.
    OpenAi,
    /// `POST /v1/messages`.
    Anthropic,
    /// `POST /v1beta/models/{model}:generateContent` (Gemini).
    Gemini,
    /// A library call ([`Gateway::chat`] included) or an extension method.
    Library,
}

impl InboundApi {
    /// A stable lowercase name (`openai`, `anthropic`, `gemini`, `library`).
    pub fn as_str(&self) -> &'static str {
        match self {
            InboundApi::OpenAi => "openai",
            InboundApi::Anthropic => "anthropic",
            InboundApi::Gemini => "gemini",
            InboundApi::Library => "library",
        }
    }
}

/// The client key a request was authorized with: its id and metadata,
/// never the key itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientKeyInfo {
    /// The key's id (a static key's configured `id`, or its name).
    pub id: Arc<str>,
    /// The key's team, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<Arc<str>>,
    /// Free-form metadata from the key's definition.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
}

/// A client key an extension recognised ([`Extension::authenticate`](super::Extension::authenticate)):
/// who it is, and what it may use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyGrant {
    /// The key's id, team and metadata (never the key).
    pub key: ClientKeyInfo,
    /// The models and aliases it may use (`None`: all).
    pub models: Option<Vec<String>>,
}

/// A typed map for extensions to pass data along one request (from
/// `on_request` to `on_event` or `on_complete`, or between extensions): one
/// value per type, so each extension keys it with a type of its own.
#[derive(Default)]
pub struct Scratch {
    values: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scratch")
            .field("values", &self.values.len())
            .finish()
    }
}

impl Scratch {
    /// Stores `value`, returning the previous value of its type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) -> Option<T> {
        self.values
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|b| b.downcast().ok().map(|b| *b))
    }

    /// The value of type `T`, if any.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref())
    }

    /// The value of type `T`, mutably.
    pub fn get_mut<T: Any + Send + Sync>(&mut self) -> Option<&mut T> {
        self.values
            .get_mut(&TypeId::of::<T>())
            .and_then(|b| b.downcast_mut())
    }

    /// The value of type `T`, inserting `T::default()` first if absent.
    pub fn get_or_default<T: Any + Send + Sync + Default>(&mut self) -> &mut T {
        let b = self
            .values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        // The entry was made for this TypeId, so the downcast cannot fail;
        // the fallback keeps this free of panics all the same.
        if b.downcast_ref::<T>().is_none() {
            *b = Box::new(T::default());
        }
        b.downcast_mut().unwrap_or_else(|| unreachable!())
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&mut self) -> Option<T> {
        self.values
            .remove(&TypeId::of::<T>())
            .and_then(|b| b.downcast().ok().map(|b| *b))
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// What each hook of one request sees: who asked, how, and a scratch map.
#[derive(Debug)]
pub struct RequestContext {
    /// The request id (the client's `x-request-id`, or one made up).
    pub request_id: Arc<str>,
    /// The client key the request was authorized with, if keys are configured.
    pub client_key: Option<ClientKeyInfo>,
    /// The inbound API.
    pub api: InboundApi,
    /// Whether the client asked for a streamed answer.
    pub stream: bool,
    /// The model the client asked for (before any extension changed it).
    pub requested_model: Arc<str>,
    /// Request headers an extension may read (lowercase names; secrets such
    /// as `authorization` and `x-api-key` are never included).
    pub headers: Vec<(String, String)>,
    /// Data extensions pass along this request.
    pub scratch: Scratch,
    /// Response headers extensions add to the answer (`x-switchboard-cost-usd`,
    /// warnings). For streams, only headers set in `on_request` can be sent.
    pub response_headers: Vec<(String, String)>,
    /// The extension whose `on_request` answered (a cache hit, say): no
    /// provider was called, so nothing was spent.
    pub answered_by: Option<Arc<str>>,
}

impl RequestContext {
    /// A context for a request with id `request_id` on `api`.
    pub fn new(request_id: impl Into<Arc<str>>, api: InboundApi) -> Self {
        RequestContext {
            request_id: request_id.into(),
            client_key: None,
            api,
            stream: false,
            requested_model: Arc::from(""),
            headers: Vec::new(),
            scratch: Scratch::default(),
            response_headers: Vec::new(),
            answered_by: None,
        }
    }

    /// The value of request header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Adds a response header (replacing one of the same name).
    pub fn set_response_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.response_headers.retain(|(n, _)| *n != name);
        self.response_headers.push((name, value.into()));
    }
}

/// The gateway as an extension sees it: chat requests routed like a
/// client's, through every enabled extension's hooks (an extension calling
/// it from its own hook must guard against recursion itself).
#[async_trait]
pub trait Gateway: Send + Sync + 'static {
    /// A complete answer, routed like any client request (aliases,
    /// retries, fallbacks, and every enabled extension's hooks).
    async fn chat(&self, ctx: RequestContext, request: ChatRequest) -> Result<ChatResponse, Error>;

    /// The provider kind (`openai`, `bedrock`, …) of instance `instance`,
    /// when it is configured now. Cheap: no allocation, no lock.
    fn provider_kind(&self, instance: &str) -> Option<&'static str> {
        let _ = instance;
        None
    }

    /// What `model` (as a client names it) routes to under the current
    /// configuration, in one canonical spelling: an alias's configured
    /// targets (`instance/model`, in order, joined by `,`; not filtered by
    /// health, so it does not change while a deployment cools down),
    /// `instance/model` as given, or a bare model served by one instance as
    /// `instance/model`. `None` when it names nothing routable (or the
    /// gateway cannot tell). A response cache keys on it, so an alias and
    /// the model it points to share entries and re-pointing an alias stops
    /// serving the old model's answers.
    fn canonical_model(&self, model: &str) -> Option<String> {
        let _ = model;
        None
    }
}

/// What the runtime hands an extension when it builds it.
#[derive(Clone)]
pub struct ExtensionContext {
    /// The extension's name (`[extensions.<name>]`).
    pub name: Arc<str>,
    /// Durable data: an embedded SQLite file by default, shared backends later.
    pub store: Arc<dyn Store>,
    /// The gateway, to route requests of the extension's own.
    pub gateway: Arc<dyn Gateway>,
    /// Cancelled when the extension is removed or the process shuts down.
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for ExtensionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtensionContext")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_keeps_one_value_per_type() {
        #[derive(Default, Debug, PartialEq)]
        struct Held(String);
        let mut s = Scratch::default();
        assert!(s.is_empty());
        s.get_or_default::<Held>().0.push_str("ab");
        s.get_or_default::<Held>().0.push('c');
        assert_eq!(s.get::<Held>(), Some(&Held("abc".into())));
        assert_eq!(s.insert(7u32), None);
        assert_eq!(s.insert(8u32), Some(7));
        assert_eq!(s.remove::<Held>(), Some(Held("abc".into())));
        assert!(s.get::<Held>().is_none());
    }

    #[test]
    fn response_headers_replace_by_name() {
        let mut c = RequestContext::new("r1", InboundApi::OpenAi);
        c.set_response_header("x-a", "1");
        c.set_response_header("x-a", "2");
        assert_eq!(c.response_headers, vec![("x-a".into(), "2".into())]);
    }
}
