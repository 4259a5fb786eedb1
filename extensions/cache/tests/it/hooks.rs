//! The hooks driven as the gateway drives them: `on_request` (hit, miss,
//! bypass), `on_response` or `on_event`, then `on_complete` with the
//! request's scratch map, which stores only answers that finished normally.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use switchboard_core::extension::{CompletionRecord, InboundApi, Outcome, RequestContext};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, Extension, FinishReason, Message,
    RequestAction, ToolCall, Usage, response_to_events,
};
use switchboard_ext_cache::{CACHE_HEADER, Cache, CacheConfig};

fn cache(config: serde_json::Value) -> Cache {
    let config: CacheConfig = serde_json::from_value(config).expect("config");
    Cache::new(&config).expect("builds")
}

fn request(text: &str) -> ChatRequest {
    ChatRequest::new("fast", vec![Message::user(text)])
}

fn answer(text: &str) -> ChatResponse {
    ChatResponse {
        id: format!("id-{text}"),
        model: "mock-1".into(),
        provider: "m".into(),
        created: 1_700_000_000,
        content: vec![ContentPart::text(text)],
        usage: Usage::new(3, 4),
        ..Default::default()
    }
}

fn header(ctx: &RequestContext) -> Option<&str> {
    ctx.response_headers
        .iter()
        .find(|(n, _)| n == CACHE_HEADER)
        .map(|(_, v)| v.as_str())
}

fn context(stream: bool, cache_control: Option<&str>) -> RequestContext {
    let mut ctx = RequestContext::new("r1", InboundApi::OpenAi);
    ctx.stream = stream;
    ctx.requested_model = Arc::from("fast");
    if let Some(v) = cache_control {
        ctx.headers.push(("cache-control".into(), v.into()));
    }
    ctx
}

/// The record the gateway hands `on_complete`.
fn record(ctx: RequestContext, outcome: Outcome, answered_by_extension: bool) -> CompletionRecord {
    let partial = outcome != Outcome::Ok;
    CompletionRecord {
        instance: Some(Arc::from("m")),
        answered_by_extension,
        usage_partial: partial && ctx.stream,
        outcome,
        ..switchboard_testkit::completion_record(ctx)
    }
}

/// What one request got: the cache header, and the answer if it was a hit.
struct Run {
    header: Option<String>,
    hit: Option<ChatResponse>,
}

/// A complete request: `on_request`, then (on a miss) the upstream's
/// `upstream` answer through `on_response` and `on_complete` with `outcome`.
async fn complete(
    cache: &Cache,
    text: &str,
    cache_control: Option<&str>,
    upstream: Result<ChatResponse, Outcome>,
) -> Run {
    let mut ctx = context(false, cache_control);
    let action = cache
        .on_request(&mut ctx, &mut request(text))
        .await
        .expect("on_request");
    let header = header(&ctx).map(str::to_owned);
    if let RequestAction::Answer(mut hit) = action {
        // The gateway still runs on_response and on_complete on a hit.
        cache.on_response(&mut ctx, &mut hit).await.expect("ok");
        cache.on_complete(&record(ctx, Outcome::Ok, true)).await;
        return Run {
            header,
            hit: Some(hit),
        };
    }
    match upstream {
        Ok(mut response) => {
            cache
                .on_response(&mut ctx, &mut response)
                .await
                .expect("on_response");
            cache.on_complete(&record(ctx, Outcome::Ok, false)).await;
        }
        Err(outcome) => cache.on_complete(&record(ctx, outcome, false)).await,
    }
    Run { header, hit: None }
}

/// A streamed request: `on_request`, then (on a miss) `events` through
/// `on_event` and `on_complete` with `outcome`. Returns what the client got.
async fn streamed(
    cache: &Cache,
    text: &str,
    events: Vec<ChatEvent>,
    outcome: Outcome,
) -> (Option<String>, Vec<ChatEvent>) {
    let mut ctx = context(true, None);
    let action = cache
        .on_request(&mut ctx, &mut request(text))
        .await
        .expect("on_request");
    let header = header(&ctx).map(str::to_owned);
    let (events, answered) = match action {
        RequestAction::Answer(hit) => (response_to_events(&hit), true),
        _ => (events, false),
    };
    let mut sent = Vec::new();
    for e in events {
        cache.on_event(&mut ctx, e, &mut sent).expect("on_event");
    }
    let outcome = if answered { Outcome::Ok } else { outcome };
    cache.on_complete(&record(ctx, outcome, answered)).await;
    (header, sent)
}

#[tokio::test]
async fn a_miss_is_stored_and_the_same_request_then_hits() {
    let cache = cache(json!({}));
    let first = complete(&cache, "hi", None, Ok(answer("hello"))).await;
    assert_eq!(first.header.as_deref(), Some("miss"));
    assert!(first.hit.is_none());
    let second = complete(&cache, "hi", None, Ok(answer("other"))).await;
    assert_eq!(second.header.as_deref(), Some("hit"));
    assert_eq!(
        second.hit,
        Some(answer("hello")),
        "the first answer, unchanged"
    );
    let other = complete(&cache, "hi!", None, Ok(answer("x"))).await;
    assert_eq!(other.header.as_deref(), Some("miss"), "another request");
    let c = cache.counters();
    assert_eq!((c.hits, c.misses, c.stores), (1, 2, 2), "{c:?}");
    assert_eq!(cache.backend_stats().map(|s| s.entries), Some(2));
}

#[tokio::test]
async fn errors_and_answers_of_other_extensions_are_never_stored() {
    let cache = cache(json!({}));
    let failed = Outcome::Error {
        kind: "upstream",
        status: 502,
    };
    complete(&cache, "hi", None, Err(failed)).await;
    assert_eq!(
        complete(&cache, "hi", None, Err(Outcome::Cancelled))
            .await
            .header
            .as_deref(),
        Some("miss")
    );
    // An answer that reached on_response, but the request still failed
    // (a later extension refused it).
    let mut ctx = context(false, None);
    cache
        .on_request(&mut ctx, &mut request("hi"))
        .await
        .expect("ok");
    cache
        .on_response(&mut ctx, &mut answer("refused later"))
        .await
        .expect("ok");
    let outcome = Outcome::Error {
        kind: "content_filter",
        status: 400,
    };
    cache.on_complete(&record(ctx, outcome, false)).await;
    // Answered by another extension after the cache's miss.
    let mut ctx = context(false, None);
    cache
        .on_request(&mut ctx, &mut request("hi"))
        .await
        .expect("ok");
    cache
        .on_response(&mut ctx, &mut answer("from another"))
        .await
        .expect("ok");
    cache.on_complete(&record(ctx, Outcome::Ok, true)).await;
    assert_eq!(
        complete(&cache, "hi", None, Ok(answer("ok")))
            .await
            .header
            .as_deref(),
        Some("miss")
    );
    let c = cache.counters();
    assert_eq!((c.stores, c.incomplete, c.hits), (1, 4, 0), "{c:?}");
}

#[tokio::test]
async fn no_store_neither_reads_nor_writes() {
    let cache = cache(json!({}));
    complete(&cache, "hi", None, Ok(answer("cached"))).await;
    let run = complete(&cache, "hi", Some("no-store"), Ok(answer("fresh"))).await;
    assert_eq!(run.header.as_deref(), Some("bypass"));
    assert!(run.hit.is_none(), "not read");
    let run = complete(&cache, "hi", None, Ok(answer("x"))).await;
    assert_eq!(run.hit, Some(answer("cached")), "not written");
    let run = complete(&cache, "new", Some("no-store"), Ok(answer("fresh"))).await;
    assert_eq!(run.header.as_deref(), Some("bypass"));
    let run = complete(&cache, "new", None, Ok(answer("y"))).await;
    assert_eq!(run.header.as_deref(), Some("miss"), "no-store kept it out");
    assert_eq!(cache.counters().bypass_no_store, 2);
}

#[tokio::test]
async fn no_cache_does_not_read_but_stores_the_fresh_answer() {
    let cache = cache(json!({}));
    complete(&cache, "hi", None, Ok(answer("old"))).await;
    let run = complete(&cache, "hi", Some("no-cache"), Ok(answer("fresh"))).await;
    assert_eq!(run.header.as_deref(), Some("bypass"));
    assert!(run.hit.is_none(), "not read");
    let run = complete(&cache, "hi", None, Ok(answer("x"))).await;
    assert_eq!(
        run.hit,
        Some(answer("fresh")),
        "replaced by the fresh answer"
    );
    assert_eq!(cache.counters().bypass_no_cache, 1);
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let cache = cache(json!({"ttl_secs": 1}));
    complete(&cache, "hi", None, Ok(answer("a"))).await;
    let run = complete(&cache, "hi", None, Ok(answer("b"))).await;
    assert_eq!(run.header.as_deref(), Some("hit"));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let run = complete(&cache, "hi", None, Ok(answer("c"))).await;
    assert_eq!(run.header.as_deref(), Some("miss"), "expired after 1 s");
    let run = complete(&cache, "hi", None, Ok(answer("d"))).await;
    assert_eq!(run.hit, Some(answer("c")), "the answer after expiry");
}

#[tokio::test]
async fn answers_over_max_entry_bytes_are_not_stored() {
    let cache = cache(json!({"max_entry_bytes": 300}));
    let big = "x".repeat(400);
    complete(&cache, "big", None, Ok(answer(&big))).await;
    assert_eq!(
        complete(&cache, "big", None, Ok(answer("b")))
            .await
            .header
            .as_deref(),
        Some("miss")
    );
    // Under the text bound but over it as JSON (id, model, usage...).
    let near = "y".repeat(250);
    complete(&cache, "near", None, Ok(answer(&near))).await;
    assert_eq!(
        complete(&cache, "near", None, Ok(answer("n")))
            .await
            .header
            .as_deref(),
        Some("miss")
    );
    // A stream that grows past it.
    let events = response_to_events(&answer(&big));
    streamed(&cache, "stream", events, Outcome::Ok).await;
    let run = complete(&cache, "stream", None, Ok(answer("s"))).await;
    assert_eq!(run.header.as_deref(), Some("miss"));
    let small = complete(&cache, "small", None, Ok(answer("ok"))).await;
    assert_eq!(small.header.as_deref(), Some("miss"));
    assert_eq!(
        complete(&cache, "small", None, Ok(answer("z")))
            .await
            .header
            .as_deref(),
        Some("hit")
    );
    let c = cache.counters();
    assert_eq!(c.too_large, 3, "{c:?}");
}

#[tokio::test]
async fn models_not_cached_pass_through_without_a_header() {
    let cache = cache(json!({"models": {"fast": {"enabled": false}}}));
    let run = complete(&cache, "hi", None, Ok(answer("a"))).await;
    assert_eq!(run.header, None);
    let run = complete(&cache, "hi", None, Ok(answer("b"))).await;
    assert!(run.hit.is_none());
    assert_eq!(cache.counters().bypass_model, 2);
    assert_eq!(cache.backend_stats().map(|s| s.entries), Some(0));
}

fn tool_answer() -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-1".into(),
        model: "mock-1".into(),
        provider: "m".into(),
        content: vec![
            ContentPart::Reasoning {
                text: "thinking".into(),
                signature: Some("sig".into()),
                redacted: None,
                origin: Some("mock".into()),
            },
            ContentPart::text("calling"),
        ],
        tool_calls: vec![ToolCall {
            id: "call_1".into(),
            name: "lookup".into(),
            arguments: "{\"q\":\"x\"}".into(),
        }],
        finish_reason: FinishReason::ToolCalls,
        usage: Usage::new(5, 6),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_finished_stream_is_assembled_stored_and_replayed() {
    let cache = cache(json!({}));
    let events = response_to_events(&tool_answer());
    let (header, sent) = streamed(&cache, "hi", events.clone(), Outcome::Ok).await;
    assert_eq!(header.as_deref(), Some("miss"));
    assert_eq!(sent, events, "events pass through unchanged");
    // A complete request for the same thing hits the streamed answer.
    // (A stream carries no instance or creation time: the record's are used.)
    let run = complete(&cache, "hi", None, Ok(answer("x"))).await;
    assert_eq!(run.header.as_deref(), Some("hit"));
    let mut hit = run.hit.expect("a hit");
    assert!(
        hit.created > 1_700_000_000,
        "the record's time: {}",
        hit.created
    );
    hit.created = 0;
    assert_eq!(hit, tool_answer());
    // And a streamed one replays it.
    // It keeps the stored answer's creation time, as a complete hit does.
    let (header, mut replayed) = streamed(&cache, "hi", Vec::new(), Outcome::Ok).await;
    assert_eq!(header.as_deref(), Some("hit"));
    match replayed.first_mut() {
        Some(ChatEvent::Start { created, .. }) => {
            assert!(created.is_some_and(|c| c > 1_700_000_000), "{created:?}");
            *created = None;
        }
        other => panic!("a replay starts with Start, not {other:?}"),
    }
    assert_eq!(replayed, events);
    assert_eq!(cache.counters().stores, 1, "a hit is not stored again");
}

#[tokio::test]
async fn cancelled_failed_and_unfinished_streams_are_not_stored() {
    let cache = cache(json!({}));
    let mut events = response_to_events(&answer("partial answer"));
    events.pop(); // no Finish
    let cases = [
        ("cancelled", events.clone(), Outcome::Cancelled),
        (
            "failed",
            events.clone(),
            Outcome::Error {
                kind: "timeout",
                status: 504,
            },
        ),
        ("unfinished", events.clone(), Outcome::Ok),
        (
            // Finished upstream, but the client went away before the end.
            "cancelled after finish",
            response_to_events(&answer("whole")),
            Outcome::Cancelled,
        ),
    ];
    for (what, events, outcome) in cases {
        let (header, _) = streamed(&cache, what, events, outcome).await;
        assert_eq!(header.as_deref(), Some("miss"), "{what}");
        let run = complete(&cache, what, None, Err(Outcome::Cancelled)).await;
        assert_eq!(run.header.as_deref(), Some("miss"), "{what} was stored");
    }
    let c = cache.counters();
    assert_eq!((c.stores, c.hits), (0, 0), "{c:?}");
    assert_eq!(cache.backend_stats().map(|s| s.entries), Some(0));
}

#[tokio::test]
async fn metrics_and_status_report_the_counters() {
    let cache = cache(json!({"max_bytes": 1_000_000, "max_entry_bytes": 10_000}));
    complete(&cache, "hi", None, Ok(answer("a"))).await;
    complete(&cache, "hi", None, Ok(answer("a"))).await;
    complete(&cache, "hi", Some("no-store"), Ok(answer("a"))).await;
    let mut text = String::new();
    cache.metrics(&mut text);
    for line in [
        "switchboard_cache_hits_total 1",
        "switchboard_cache_misses_total 1",
        "switchboard_cache_bypasses_total{reason=\"no_store\"} 1",
        "switchboard_cache_stores_total 1",
        "switchboard_cache_entries 1",
        "switchboard_cache_max_bytes 1000000",
        "# TYPE switchboard_cache_bytes gauge",
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    let status = cache.status();
    assert_eq!(status["backend"], "memory");
    assert_eq!(status["hits"], 1);
    assert_eq!(status["misses"], 1);
    assert_eq!(status["bypasses"]["no_store"], 1);
    assert_eq!(status["entries"], 1);
    assert!(status["bytes"].as_u64().is_some_and(|b| b > 0), "{status}");
}
