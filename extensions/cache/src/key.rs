//! The cache key: a SHA-256 digest of a canonical form of the request.
//!
//! What is in it: the model the request routes to (an alias resolved to its
//! configured targets, a bare model to `instance/model`; as the request
//! names it when the gateway cannot tell), the messages, tools and `tool_choice`,
//! the response format, reasoning settings, every sampling parameter
//! (`temperature`, `top_p`, `max_tokens`, `stop`, `seed`, the penalties,
//! `parallel_tool_calls`) and the provider-specific `extra` fields; with
//! `per_key`, the client key's id. What is not: `user`, `metadata`, the
//! request id, the inbound API and whether the client streams (a streamed
//! and a complete answer to one request are the same answer).
//!
//! The request is serialized field by field (in the struct's order, objects
//! in the order they were parsed) straight into the hasher: no copy of the
//! request is made.

use std::fmt;
use std::io::Write;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_core::{ChatRequest, Message, Reasoning, ResponseFormat, Tool, ToolChoice};

/// Changes whenever the canonical form does, so old entries never match.
const VERSION: &[u8] = b"switchboard-cache/v1\n";

/// A request's cache key: the SHA-256 digest of its canonical form.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(pub [u8; 32]);

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({self})")
    }
}

/// The fields of a request that decide its answer, borrowed.
#[derive(Serialize)]
struct Canonical<'a> {
    model: &'a str,
    messages: &'a [Message],
    temperature: Option<f32>,
    top_p: Option<f32>,
    max_tokens: Option<u32>,
    stop: &'a [String],
    seed: Option<i64>,
    presence_penalty: Option<f32>,
    frequency_penalty: Option<f32>,
    tools: &'a [Tool],
    tool_choice: &'a Option<ToolChoice>,
    parallel_tool_calls: Option<bool>,
    response_format: &'a Option<ResponseFormat>,
    reasoning: &'a Option<Reasoning>,
    extra: &'a Map<String, Value>,
    client_key: Option<&'a str>,
}

/// Feeds what is written into the digest.
struct HashWriter<'a>(&'a mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The key of `request`; `client_key` is the key id when entries are kept
/// per client key. `None` when the request cannot be serialized (it is then
/// not cached).
pub fn cache_key(request: &ChatRequest, client_key: Option<&str>) -> Option<CacheKey> {
    cache_key_as(request, &request.model, client_key)
}

/// The key of `request` with its model spelled `model` (what it routes to,
/// after alias resolution); otherwise as [`cache_key`].
pub fn cache_key_as(
    request: &ChatRequest,
    model: &str,
    client_key: Option<&str>,
) -> Option<CacheKey> {
    // Exhaustive on purpose: a field added to `ChatRequest` fails to compile
    // here until someone decides whether it belongs in the key.
    let ChatRequest {
        model: _,
        messages,
        temperature,
        top_p,
        max_tokens,
        stop,
        seed,
        presence_penalty,
        frequency_penalty,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        reasoning,
        user: _,
        metadata: _,
        extra,
    } = request;
    let canonical = Canonical {
        model,
        messages,
        temperature: *temperature,
        top_p: *top_p,
        max_tokens: *max_tokens,
        stop,
        seed: *seed,
        presence_penalty: *presence_penalty,
        frequency_penalty: *frequency_penalty,
        tools,
        tool_choice,
        parallel_tool_calls: *parallel_tool_calls,
        response_format,
        reasoning,
        extra,
        client_key,
    };
    let mut digest = Sha256::new();
    digest.update(VERSION);
    serde_json::to_writer(HashWriter(&mut digest), &canonical).ok()?;
    Some(CacheKey(digest.finalize().into()))
}
