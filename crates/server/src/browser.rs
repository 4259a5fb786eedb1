//! Browser safety: web pages may not use the gateway unless allowed. The
//! request-context middleware runs [`admit`] before every handler.
//!
//! - A request carrying an `Origin` not listed in `server.cors.allowed_origins`
//!   is refused (403); listed origins get CORS headers and preflight answers.
//! - On a loopback listener, the `Host` must be a name a web site cannot
//!   point at the loopback address (DNS rebinding): `localhost`,
//!   `*.localhost`, a loopback or the listen address, a single-label name
//!   (not registrable in public DNS), or one of `server.allowed_hosts`.
//! - JSON endpoints require a JSON content type ([`require_json`]), so a
//!   "simple" cross-site `text/plain` POST, which a browser sends without a
//!   preflight, is a 415.
//!
//! - A request whose `Origin` is the gateway's own (`http://` or `https://`
//!   and the request's `Host`: the console at `/ui` calling the API) is
//!   same-origin and passes when that `Host` is one no web site can rebind
//!   (as above, on any listener); it still needs the admin token or a
//!   client key.
//!
//! Requests without `Origin` (SDKs, curl) pay two header lookups.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard_core::Error;
use switchboard_gateway::config::types::ServerConfig;

use crate::error::{ApiError, Format};
use crate::state::SharedState;

/// The methods the API answers, for preflights.
const METHODS: &str = "GET, POST, PUT, OPTIONS";
/// Answer headers a page may read.
const EXPOSED: &str = "x-request-id, x-switchboard-instance, x-switchboard-model, \
                       x-switchboard-attempts, retry-after";
/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// What the browser checks decided about a request.
#[derive(Debug)]
pub(crate) enum Admission {
    /// No `Origin`: handle it as is.
    Pass,
    /// An allowed origin: handle it, then add CORS headers for it
    /// ([`add_cors_headers`]).
    Cors(HeaderValue),
    /// Answer this instead: a refusal (403) or a preflight answer (204).
    Answer(Response),
}

/// The `Host` and `Origin` checks and preflights under `server` (the
/// configuration the request-context middleware already holds); run by
/// that middleware before the handler (one middleware layer, not two).
pub(crate) fn admit(state: &SharedState, server: &ServerConfig, req: &Request) -> Admission {
    if state.listen.ip().is_loopback()
        && let Some(host) = request_host(req)
        && !host_allowed(host, server, state.listen.ip())
    {
        let message = format!(
            "the Host `{host}` is not allowed on this loopback listener (a web page may be \
             trying DNS rebinding); add the name to `server.allowed_hosts` if it is yours"
        );
        return Admission::Answer(refuse(req.uri().path(), message));
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Admission::Pass;
    };
    // A page this gateway served (the console at `/ui`) calling it back: the
    // browser sends `Origin` on its POSTs even to its own origin. Only for a
    // `Host` no web site can rebind (the loopback names, the listen address,
    // single-label names, `server.allowed_hosts`): else `evil.example`
    // pointed at this address would be "same-origin" too.
    if let Some(host) = request_host(req)
        && host_allowed(host, server, state.listen.ip())
        && origin.to_str().is_ok_and(|o| same_origin(o, host))
    {
        return Admission::Pass;
    }
    let allowed = origin
        .to_str()
        .is_ok_and(|o| origin_allowed(o, &server.cors.allowed_origins));
    if !allowed {
        let message = format!(
            "cross-origin requests from {} are not allowed; list the origin in \
             `server.cors.allowed_origins` to let that web page call the gateway",
            origin.to_str().unwrap_or("this origin")
        );
        return Admission::Answer(refuse(req.uri().path(), message));
    }
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return Admission::Answer(preflight(origin.clone(), req.headers()));
    }
    Admission::Cors(origin.clone())
}

/// The CORS headers of an answer to an allowed `origin`.
pub(crate) fn add_cors_headers(response: &mut Response, origin: HeaderValue) {
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    h.append(header::VARY, HeaderValue::from_static("origin"));
}

/// A 403 in the format of the API at `path`.
fn refuse(path: &str, message: String) -> Response {
    ApiError::new(Error::permission(message), Format::of_path(path))
        .with_status(StatusCode::FORBIDDEN)
        .into_response()
}

/// The answer to an allowed origin's preflight: the methods, the headers it
/// asked for, and how long to remember them.
fn preflight(origin: HeaderValue, request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(PREFLIGHT_MAX_AGE),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    response
}

/// The request's host: `Host`, else the URI's authority (HTTP/2).
fn request_host(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
}

/// Whether a loopback listener at `listen` accepts `host` (with its port).
fn host_allowed(host: &str, server: &ServerConfig, listen: IpAddr) -> bool {
    let name = strip_port(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        if ip.is_loopback() || ip == listen {
            return true;
        }
    } else if !name.contains('.') || ends_with_ignore_case(name, ".localhost") {
        // `localhost`, `x`, `intranet`: no web site can make these resolve.
        return true;
    }
    server
        .allowed_hosts
        .iter()
        .any(|h| h == "*" || h.eq_ignore_ascii_case(name) || h.eq_ignore_ascii_case(bare))
}

/// `host` without its `:port` (`[::1]:8080` → `[::1]`).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

fn ends_with_ignore_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.get(s.len() - suffix.len()..)
            .is_some_and(|end| end.eq_ignore_ascii_case(suffix))
}

/// Whether `origin` is `http://<host>` or `https://<host>` (ASCII case
/// ignored): the page calling is one this gateway served.
fn same_origin(origin: &str, host: &str) -> bool {
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    rest.is_some_and(|authority| !host.is_empty() && authority.eq_ignore_ascii_case(host))
}

/// Whether `origin` is listed (or `*` is).
fn origin_allowed(origin: &str, allowed: &[String]) -> bool {
    allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
}

/// Refuses a body whose `Content-Type` is not JSON (`application/json`,
/// `application/<x>+json`, parameters allowed) with a 415 in `format`.
pub(crate) fn require_json(headers: &HeaderMap, format: Format) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type.is_some_and(is_json) {
        return Ok(());
    }
    let found = match content_type {
        Some(ct) => format!("`{ct}`"),
        None => "none".to_owned(),
    };
    Err(ApiError::new(
        Error::invalid_request(format!(
            "the request body must be JSON: send `Content-Type: application/json` (found {found})"
        )),
        format,
    )
    .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || ends_with_ignore_case(subtype, "+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/vnd.api+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }

    #[test]
    fn the_gateways_own_origin_is_same_origin() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("https://Gateway.Internal", "gateway.internal"));
        assert!(!same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:8080"));
        assert!(!same_origin("null", "null"));
        assert!(!same_origin("http://", ""));
    }

    #[test]
    fn hosts_a_web_site_cannot_rebind_are_allowed() {
        let mut server = ServerConfig::default();
        let listen: IpAddr = "127.0.0.1".parse().expect("ip");
        for ok in [
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:1",
            "127.0.0.1:8080",
            "[::1]:8080",
            "x",
        ] {
            assert!(host_allowed(ok, &server, listen), "{ok}");
        }
        for bad in ["evil.example:8080", "evil.example", "10.1.2.3:8080"] {
            assert!(!host_allowed(bad, &server, listen), "{bad}");
        }
        server.allowed_hosts = vec!["Gateway.Internal".into()];
        assert!(host_allowed("gateway.internal:8080", &server, listen));
        server.allowed_hosts = vec!["*".into()];
        assert!(host_allowed("evil.example", &server, listen));
    }
}
