//! Access tokens: a ready one, or one obtained for a service account (its
//! signed JWT exchanged at the token endpoint), cached and refreshed
//! [`REFRESH_MARGIN`] before it expires, one refresh at a time.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::Method;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use switchboard_core::upstream::{ErrorResponse, Upstream};
use switchboard_core::{Error, ProviderContext, Secret};
use switchboard_protocol::retry_after::parse_retry_after;

use crate::credentials::ServiceAccountKey;
use crate::jwt::Signer;

/// How long before its expiry a token is replaced: 5 minutes (google-auth
/// refreshes 3m45s early; a streamed answer may start just before expiry).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A token's lifetime when the endpoint gives none.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// The grant type of a JWT assertion (RFC 7523), form-encoded.
const JWT_BEARER_GRANT: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

/// `Authorization: Bearer <token>`, marked sensitive.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        Error::auth("the access token is not a valid header value").with_param("access_token")
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// A cached token and when to replace it.
#[derive(Debug, Clone)]
struct Cached {
    header: HeaderValue,
    refresh_at: Instant,
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: Secret,
    /// Seconds; some services send a numeric string (google-auth accepts both).
    #[serde(default)]
    expires_in: Option<Value>,
}

impl TokenAnswer {
    fn lifetime(&self) -> Duration {
        let secs = match &self.expires_in {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        secs.map_or(DEFAULT_LIFETIME, Duration::from_secs)
    }
}

/// Classifies the token endpoint's errors (`{"error": "invalid_grant",
/// "error_description": "..."}`): a refused assertion is an `auth` error.
fn classify_token_error(r: &ErrorResponse<'_>) -> Error {
    let body: Value = serde_json::from_slice(r.body).unwrap_or(Value::Null);
    let code = body["error"].as_str().unwrap_or("");
    let description = body["error_description"].as_str().unwrap_or("");
    let detail = match (code, description) {
        ("", "") => format!("HTTP {}", r.status),
        (code, "") => code.to_owned(),
        (code, description) => format!("{code}: {description}"),
    };
    let message = format!("the OAuth token endpoint refused the service account: {detail}");
    match r.status {
        400 | 401 => Error::auth(message),
        403 => Error::permission(message),
        429 => Error::rate_limited(r.retry_after().and_then(parse_retry_after), message),
        status => Error::upstream(status, message),
    }
}

/// Obtains and caches a service account's access tokens.
#[derive(Debug)]
pub(crate) struct TokenSource {
    signer: Signer,
    key: ServiceAccountKey,
    /// The token endpoint (also the assertion's `aud`).
    token_url: String,
    upstream: Upstream,
    cached: Mutex<Option<Cached>>,
    /// Held while a token is fetched: concurrent callers wait for it
    /// instead of fetching their own.
    refresh: tokio::sync::Mutex<()>,
}

impl TokenSource {
    /// A source for `key`, exchanging at `token_url`.
    pub(crate) fn new(
        key: ServiceAccountKey,
        token_url: String,
        ctx: &ProviderContext,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let signer = Signer::from_pem(key.private_key.expose())?;
        let upstream = Upstream::builder(ctx, &token_url)
            .timeout(timeout)
            .classify(classify_token_error)
            .build()?;
        Ok(TokenSource {
            signer,
            key,
            token_url,
            upstream,
            cached: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
        })
    }

    /// The `Authorization` header value: the cached token while it is
    /// fresh, else a new one.
    pub(crate) async fn header(&self) -> Result<HeaderValue, Error> {
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let _refreshing = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(header) = self.fresh() {
            return Ok(header);
        }
        let cached = self.fetch().await?;
        let header = cached.header.clone();
        if let Ok(mut slot) = self.cached.lock() {
            *slot = Some(cached);
        }
        Ok(header)
    }

    fn fresh(&self) -> Option<HeaderValue> {
        let slot = self.cached.lock().ok()?;
        slot.as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.header.clone())
    }

    /// The form body: the signed assertion and the grant type, in
    /// google-auth's order.
    pub(crate) fn request_body(&self, now_unix: u64) -> Result<String, Error> {
        let assertion = self.signer.assertion(
            self.key.private_key_id.as_deref(),
            &self.key.client_email,
            &self.token_url,
            now_unix,
        )?;
        Ok(format!(
            "assertion={assertion}&grant_type={JWT_BEARER_GRANT}"
        ))
    }

    async fn fetch(&self) -> Result<Cached, Error> {
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = self.request_body(now_unix)?;
        let mut request = self.upstream.request(Method::POST, "", body.into())?;
        request.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let asked = Instant::now();
        let reply = self.upstream.fetch(request).await?;
        let answer: TokenAnswer = reply.json("OAuth token answer")?;
        if answer.access_token.expose().is_empty() {
            return Err(reply.error(Error::protocol(
                "the OAuth token answer has an empty `access_token`",
            )));
        }
        let header = bearer(answer.access_token.expose()).map_err(|e| reply.error(e))?;
        let refresh_at = asked + answer.lifetime().saturating_sub(REFRESH_MARGIN);
        Ok(Cached { header, refresh_at })
    }
}
