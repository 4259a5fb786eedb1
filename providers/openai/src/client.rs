//! [`ChatCompletionsClient`]: the HTTP side of every OpenAI-compatible
//! provider — building and sending requests on the shared connection pool,
//! timeouts, error mapping, and SSE → [`ChatEvent`](switchboard_core::ChatEvent)s.
//!
//! It knows nothing about any one service: what to send is a wire request
//! the caller shaped ([`ChatCompletionRequest`]), and how to reach the
//! service is a [`ClientOptions`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use http::{Method, Request, Uri};
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_core::http::{HttpClient, UpstreamResponse};
use switchboard_core::{
    ChatResponse, ChatStream, EmbeddingsResponse, Error, MAX_UPSTREAM_BODY, ModelInfo,
    ProviderContext, Secret,
};
use switchboard_protocol::openai::types::{
    ChatCompletionRequest, CreateEmbeddingRequest, StreamOptions,
};
use switchboard_protocol::openai::{
    chat_event_stream, error_from_response, parse_chat_response, parse_embeddings_response,
    parse_models,
};
use tokio_util::sync::CancellationToken;
use url::Url;

/// The key under which a response's [`extra`](ChatResponse::extra) keeps the
/// upstream's request id (its `x-request-id` header); errors carry it in
/// their message as `(upstream request id: ...)`.
pub const UPSTREAM_REQUEST_ID: &str = "upstream_request_id";

/// The response header the upstream's request id is read from.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How requests authenticate.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials (local servers).
    #[default]
    None,
    /// `Authorization: Bearer <key>`.
    Bearer(Secret),
    /// The key as the whole value of another header (e.g. `api-key: <key>`).
    Header {
        /// The header name.
        name: String,
        /// The key.
        value: Secret,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Header { name, .. } => write!(f, "Header({name}: ***)"),
        }
    }
}

impl Auth {
    fn secret(&self) -> Option<&Secret> {
        match self {
            Auth::None => None,
            Auth::Bearer(s) | Auth::Header { value: s, .. } => Some(s),
        }
    }
}

/// How a [`ChatCompletionsClient`] reaches its service.
#[derive(Clone)]
pub struct ClientOptions {
    /// The API root; paths such as `chat/completions` are appended to it
    /// (`https://api.openai.com/v1` → `https://api.openai.com/v1/chat/completions`).
    pub base_url: Url,
    /// Credentials.
    pub auth: Auth,
    /// Headers sent with every request (organization, attribution, ...).
    /// Their values are treated as sensitive: they never appear in `Debug`.
    pub headers: Vec<(String, String)>,
    /// The timeout of one request (until the whole answer, or until a
    /// stream's headers and then between two reads of the stream). `None`
    /// takes the provider context's request timeout.
    pub timeout: Option<Duration>,
    /// Send `stream_options: {"include_usage": true}` with streamed requests
    /// (for the final usage chunk). Services that reject the field set it off.
    pub include_usage: bool,
}

impl fmt::Debug for ClientOptions {
    /// Leaves credentials and header values out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("include_usage", &self.include_usage)
            .finish()
    }
}

impl ClientOptions {
    /// Options for `base_url` with no credentials, no extra headers, the
    /// context's timeout, and `include_usage` on.
    pub fn new(base_url: Url) -> Self {
        ClientOptions {
            base_url,
            auth: Auth::None,
            headers: Vec::new(),
            timeout: None,
            include_usage: true,
        }
    }
}

/// What the client needs to finish an error: who reported it and what must
/// never appear in it.
#[derive(Clone)]
struct ErrorContext {
    instance: Arc<str>,
    secrets: Arc<[String]>,
}

impl ErrorContext {
    /// Names the instance, removes any secret from the message (an upstream
    /// may echo the key back: "Incorrect API key provided: sk-..."), and adds
    /// the upstream request id.
    fn finish(&self, err: Error, request_id: Option<&str>) -> Error {
        let mut message = err.message().to_owned();
        let mut changed = false;
        for secret in self.secrets.iter() {
            if message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), Secret::REDACTED);
                changed = true;
            }
        }
        if let Some(id) = request_id {
            message.push_str(&format!(" (upstream request id: {id})"));
            changed = true;
        }
        let err = if changed {
            let mut rebuilt = Error::new(err.kind().clone(), message);
            if let Some(param) = err.param() {
                rebuilt = rebuilt.with_param(param.to_owned());
            }
            rebuilt
        } else {
            err
        };
        err.with_instance(self.instance.clone())
    }
}

/// An HTTP client for one OpenAI-compatible service: `POST chat/completions`
/// (streamed or not), `GET models`, `POST embeddings`.
///
/// Built once per provider instance on the context's shared
/// [`HttpClient`] (one connection pool per process). Every error it
/// returns names the instance, never contains the credentials, and keeps the
/// upstream's `x-request-id`. A stream it returns is lazy, owns the HTTP
/// response (dropping the stream closes the connection), fails with
/// `timeout` when the upstream goes quiet for longer than the request
/// timeout, and with `cancelled` when the instance shuts down.
#[derive(Clone)]
pub struct ChatCompletionsClient {
    http: HttpClient,
    base: String,
    /// The URLs of the hot endpoints, parsed once: parsing a URL (with IDNA
    /// host processing) cost about 11% of the instructions of a proxied
    /// request when done per request (callgrind, `cargo xtask bench-load`).
    parsed: Arc<[(&'static str, Uri)]>,
    headers: HeaderMap,
    timeout: Duration,
    include_usage: bool,
    errors: ErrorContext,
    cancel: CancellationToken,
}

impl fmt::Debug for ChatCompletionsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCompletionsClient")
            .field("instance", &self.errors.instance)
            .field("base_url", &self.base)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("include_usage", &self.include_usage)
            .finish_non_exhaustive()
    }
}

fn header_name(name: &str) -> Result<HeaderName, Error> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::config(format!("`{name}` is not a valid HTTP header name")))
}

fn sensitive_value(name: &str, value: &str) -> Result<HeaderValue, Error> {
    let mut v = HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the value of header `{name}` contains characters not allowed in an HTTP header"
        ))
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl ChatCompletionsClient {
    /// A client for the instance in `ctx`, on its shared HTTP client.
    pub fn new(options: ClientOptions, ctx: &ProviderContext) -> Result<Self, Error> {
        let scheme = options.base_url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(Error::config(format!(
                "`base_url` must be an http or https URL, not `{scheme}:`"
            ))
            .with_param("base_url")
            .with_instance(ctx.instance.clone()));
        }
        let mut headers = HeaderMap::new();
        let mut secrets = Vec::new();
        let build = |headers: &mut HeaderMap| -> Result<(), Error> {
            for (name, value) in &options.headers {
                headers.insert(header_name(name)?, sensitive_value(name, value)?);
            }
            match &options.auth {
                Auth::None => {}
                Auth::Bearer(key) => {
                    headers.insert(
                        AUTHORIZATION,
                        sensitive_value("authorization", &format!("Bearer {}", key.expose()))
                            .map_err(|_| {
                                Error::config(
                                    "the API key contains characters not allowed in an HTTP header",
                                )
                                .with_param("api_key")
                            })?,
                    );
                }
                Auth::Header { name, value } => {
                    headers.insert(
                        header_name(name)?,
                        sensitive_value(name, value.expose()).map_err(|_| {
                            Error::config(
                                "the API key contains characters not allowed in an HTTP header",
                            )
                            .with_param("api_key")
                        })?,
                    );
                }
            }
            Ok(())
        };
        build(&mut headers).map_err(|e| e.with_instance(ctx.instance.clone()))?;
        if let Some(secret) = options.auth.secret().filter(|s| !s.is_empty()) {
            secrets.push(secret.expose().to_owned());
        }
        let timeout = options.timeout.unwrap_or(ctx.request_timeout);
        if timeout.is_zero() {
            return Err(Error::config("the request timeout must be greater than 0")
                .with_param("timeout_ms")
                .with_instance(ctx.instance.clone()));
        }
        let base = options.base_url.as_str().trim_end_matches('/').to_owned();
        let parsed: Arc<[(&'static str, Uri)]> = ["chat/completions", "embeddings", "models"]
            .into_iter()
            .filter_map(|path| Some((path, parse_uri(&format!("{base}/{path}")).ok()?)))
            .collect();
        Ok(ChatCompletionsClient {
            http: ctx.upstream.clone(),
            base,
            parsed,
            headers,
            timeout,
            include_usage: options.include_usage,
            errors: ErrorContext {
                instance: ctx.instance.clone(),
                secrets: secrets.into(),
            },
            cancel: ctx.cancel.clone(),
        })
    }

    /// The instance name errors and answers carry.
    pub fn instance(&self) -> &str {
        &self.errors.instance
    }

    /// The request timeout in effect.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The URL of `path` under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// The parsed URL of `path`: cached for the hot endpoints.
    fn parsed_url(&self, path: &str) -> Result<Uri, Error> {
        let path = path.trim_start_matches('/');
        if let Some((_, url)) = self.parsed.iter().find(|(p, _)| *p == path) {
            return Ok(url.clone());
        }
        let url = self.url(path);
        parse_uri(&url).map_err(|e| {
            self.error(
                Error::config(format!("`{url}` is not a valid URL: {e}")).with_param("base_url"),
            )
        })
    }

    /// Finishes an error the caller made (e.g. a request it refuses to send):
    /// names the instance and removes secrets.
    pub fn error(&self, err: Error) -> Error {
        self.errors.finish(err, None)
    }

    /// Sends one request and waits for its response headers. A non-2xx
    /// answer becomes its error (the body is read and classified with the
    /// protocol crate's [`error_from_response`]). Returns the response and
    /// its request id. Unbounded: callers run it under one [`guard`](Self::guard)
    /// with whatever else they wait for (a nested guard doubled the request's
    /// future to 8 KB, and every move of it is a copy).
    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(UpstreamResponse, Option<String>), Error> {
        let mut request = Request::new(body.map(Bytes::from).unwrap_or_default());
        *request.method_mut() = method;
        *request.uri_mut() = self.parsed_url(path)?;
        let mut headers = self.headers.clone();
        if !request.body().is_empty() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        *request.headers_mut() = headers;
        // Records the wire time itself, from the socket.
        let response = self.http.send(request).await?;
        let request_id = response
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = response.status();
        if status.is_success() {
            return Ok((response, request_id));
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.bytes(MAX_UPSTREAM_BODY).await.unwrap_or_default();
        let err = error_from_response(status.as_u16(), retry_after.as_deref(), &body);
        Err(self.errors.finish(err, request_id.as_deref()))
    }

    /// Runs `fut` within the request timeout, ending early on shutdown.
    async fn guard<T>(&self, fut: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let result = tokio::select! {
            r = tokio::time::timeout(self.timeout, fut) => match r {
                Ok(r) => r,
                Err(_) => Err(Error::timeout(format!(
                    "the upstream did not answer within {} ms",
                    self.timeout.as_millis()
                ))),
            },
            () = self.cancel.cancelled() => Err(Error::cancelled("the provider instance was shut down")),
        };
        result.map_err(|e| match e.instance() {
            Some(_) => e,
            None => self.errors.finish(e, None),
        })
    }

    fn encode<T: Serialize + ?Sized>(&self, body: &T) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(body).map_err(|e| {
            self.error(Error::invalid_request(format!(
                "the request could not be serialized: {e}"
            )))
        })
    }

    /// `POST <path>` with a JSON body; returns the whole answer body and the
    /// request id, all within the request timeout.
    pub async fn post_json<T: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<(Vec<u8>, Option<String>), Error> {
        let bytes = self.encode(body)?;
        self.read(Method::POST, path, Some(bytes)).await
    }

    /// `GET <path>`; returns the whole answer body and the request id.
    pub async fn get(&self, path: &str) -> Result<(Vec<u8>, Option<String>), Error> {
        self.read(Method::GET, path, None).await
    }

    async fn read(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(Vec<u8>, Option<String>), Error> {
        let (bytes, request_id) = self.read_bytes(method, path, body).await?;
        Ok((Vec::from(bytes), request_id))
    }

    /// The whole answer body, without copying it out of the HTTP client's buffer.
    async fn read_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(Bytes, Option<String>), Error> {
        let exchange = async {
            let (response, request_id) = self.exchange(method, path, body).await?;
            let bytes = response
                .bytes(MAX_UPSTREAM_BODY)
                .await
                .map_err(|e| self.errors.finish(e, request_id.as_deref()))?;
            Ok((bytes, request_id))
        };
        self.guard(exchange).await
    }

    /// `POST chat/completions`, not streamed: `stream` and `stream_options`
    /// are cleared. The answer names the instance as its provider and keeps
    /// the upstream request id in `extra["upstream_request_id"]`.
    pub async fn chat(&self, body: &ChatCompletionRequest<'_>) -> Result<ChatResponse, Error> {
        let bytes = if body.stream.is_some() || body.stream_options.is_some() {
            let mut plain = body.clone();
            plain.stream = None;
            plain.stream_options = None;
            self.encode(&plain)?
        } else {
            self.encode(body)?
        };
        self.chat_bytes(bytes).await
    }

    /// [`chat`](Self::chat) with the request as a JSON object, for callers
    /// that reshape the wire request generically (renamed or dropped fields).
    pub async fn chat_json(&self, mut body: Map<String, Value>) -> Result<ChatResponse, Error> {
        body.remove("stream");
        body.remove("stream_options");
        let bytes = self.encode(&body)?;
        self.chat_bytes(bytes).await
    }

    async fn chat_bytes(&self, bytes: Vec<u8>) -> Result<ChatResponse, Error> {
        let (answer, request_id) = self
            .read_bytes(Method::POST, "chat/completions", Some(bytes))
            .await?;
        let mut response = parse_chat_response(&answer)
            .map_err(|e| self.errors.finish(e, request_id.as_deref()))?;
        response.provider = self.errors.instance.to_string();
        if let Some(id) = request_id {
            response
                .extra
                .insert(UPSTREAM_REQUEST_ID.into(), Value::String(id));
        }
        Ok(response)
    }

    /// `POST chat/completions` with `stream: true` (and
    /// `stream_options.include_usage: true` unless the options turned it
    /// off). Returns once the response headers arrived: an HTTP error is the
    /// `Err` of this call; everything after is an item of the stream.
    pub async fn chat_stream(
        &self,
        mut body: ChatCompletionRequest<'_>,
    ) -> Result<ChatStream, Error> {
        body.stream = Some(true);
        if self.include_usage {
            body.stream_options
                .get_or_insert_with(StreamOptions::default)
                .include_usage = Some(true);
        }
        let bytes = self.encode(&body)?;
        self.stream_bytes(bytes).await
    }

    /// [`chat_stream`](Self::chat_stream) with the request as a JSON object.
    pub async fn chat_stream_json(
        &self,
        mut body: Map<String, Value>,
    ) -> Result<ChatStream, Error> {
        body.insert("stream".into(), Value::Bool(true));
        if self.include_usage {
            let options = body
                .entry("stream_options")
                .or_insert_with(|| Value::Object(Map::new()));
            if !options.is_object() {
                *options = Value::Object(Map::new());
            }
            if let Value::Object(o) = options {
                o.insert("include_usage".into(), Value::Bool(true));
            }
        }
        let bytes = self.encode(&body)?;
        self.stream_bytes(bytes).await
    }

    async fn stream_bytes(&self, bytes: Vec<u8>) -> Result<ChatStream, Error> {
        let (response, request_id) = self
            .guard(self.exchange(Method::POST, "chat/completions", Some(bytes)))
            .await?;
        let chunks = guarded_bytes(response, self.timeout, self.cancel.clone());
        let errors = self.errors.clone();
        let events = chat_event_stream(chunks)
            .map(move |item| item.map_err(|e| errors.finish(e, request_id.as_deref())));
        Ok(Box::pin(events))
    }

    /// `GET models`, each named with the instance as its provider.
    pub async fn models(&self) -> Result<Vec<ModelInfo>, Error> {
        let (body, request_id) = self.get("models").await?;
        let mut models =
            parse_models(&body).map_err(|e| self.errors.finish(e, request_id.as_deref()))?;
        for m in &mut models {
            m.provider = self.errors.instance.to_string();
        }
        Ok(models)
    }

    /// `POST embeddings`, answered with the instance as the provider.
    pub async fn embed(
        &self,
        body: &CreateEmbeddingRequest<'_>,
    ) -> Result<EmbeddingsResponse, Error> {
        let (answer, request_id) = self.post_json("embeddings", body).await?;
        let mut response = parse_embeddings_response(&answer)
            .map_err(|e| self.errors.finish(e, request_id.as_deref()))?;
        response.provider = self.errors.instance.to_string();
        Ok(response)
    }
}

/// A URL as a request URI (checked the way `url` does first: a `base_url`
/// that `url` accepts but `http` would not is rejected with `url`'s reason).
fn parse_uri(url: &str) -> Result<Uri, String> {
    let parsed = Url::parse(url).map_err(|e| e.to_string())?;
    Uri::try_from(parsed.as_str()).map_err(|e| e.to_string())
}

/// The response body as a stream of byte chunks that owns the response
/// (dropping it closes the connection), fails with `timeout` when no chunk
/// arrives for `idle`, and with `cancelled` when `cancel` fires.
fn guarded_bytes(
    response: UpstreamResponse,
    idle: Duration,
    cancel: CancellationToken,
) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
    let body = response.into_stream();
    futures::stream::unfold(Some(body), move |state| {
        let cancel = cancel.clone();
        async move {
            let mut body = state?;
            tokio::select! {
                biased;
                () = cancel.cancelled() => Some((
                    Err(Error::cancelled("the provider instance was shut down")),
                    None,
                )),
                next = tokio::time::timeout(idle, body.next()) => match next {
                    Err(_) => Some((
                        Err(Error::timeout(format!(
                            "the upstream sent nothing for {} ms in the middle of a stream",
                            idle.as_millis()
                        ))),
                        None,
                    )),
                    Ok(None) => None,
                    Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),
                    Ok(Some(Err(e))) => Some((Err(e), None)),
                },
            }
        }
    })
}
