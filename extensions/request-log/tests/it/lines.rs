//! Lines written and parseable, sampling, flushing, the drop counter.

use serde_json::json;
use switchboard_core::Extension;
use switchboard_core::extension::Scratch;
use switchboard_ext_request_log::{RequestLog, RequestLogConfig};

use crate::{complete, read_lines, record, start};

#[tokio::test]
async fn one_parseable_line_per_request_without_bodies_by_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({})).await;
    complete(&ext, "r1", "hello", "hi there").await;
    complete(&ext, "r2", "again", "sure").await;
    ext.shutdown().await;
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["request_id"], "r1");
    assert_eq!(lines[1]["request_id"], "r2");
    let line = &lines[0];
    assert_eq!(line["outcome"], "ok");
    assert_eq!(line["instance"], "mock");
    assert_eq!(line["usage"]["input_tokens"], 3);
    assert_eq!(line["latency"], 12.0);
    assert!(line["started_at_ms"].as_u64().is_some_and(|ms| ms > 0));
    for key in [
        "request_body",
        "response_body",
        "request_sha256",
        "response_sha256",
    ] {
        assert!(line.get(key).is_none(), "drop mode has no `{key}`");
    }
}

#[tokio::test]
async fn sample_rate_zero_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"sample_rate": 0.0})).await;
    for i in 0..20 {
        complete(&ext, &format!("r{i}"), "q", "a").await;
    }
    // A record whose `on_request` never ran is sampled too.
    ext.on_complete(&record("direct", Scratch::default())).await;
    ext.shutdown().await;
    assert!(read_lines(&path).is_empty());
    assert_eq!(ext.written(), 0);
}

#[tokio::test]
async fn shutdown_flushes_buffered_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({})).await;
    complete(&ext, "r1", "q", "a").await;
    ext.shutdown().await;
    assert_eq!(read_lines(&path).len(), 1);
    // After shutdown, lines are dropped and counted, never blocking.
    complete(&ext, "r2", "q", "a").await;
    assert_eq!(ext.dropped(), 1);
}

#[tokio::test]
async fn lines_are_flushed_within_a_second_without_shutdown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({})).await;
    complete(&ext, "r1", "q", "a").await;
    let mut found = false;
    for _ in 0..30 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if read_lines(&path).len() == 1 {
            found = true;
            break;
        }
    }
    assert!(found, "the line reached the file within 3 s");
    ext.shutdown().await;
}

#[tokio::test]
async fn a_stalled_writer_drops_and_counts_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"queue_capacity": 2})).await;
    let pause = ext.pause_writer().await.expect("pauses");
    for i in 0..5 {
        complete(&ext, &format!("r{i}"), "q", "a").await;
    }
    assert_eq!(ext.dropped(), 3);
    let mut metrics = String::new();
    ext.metrics(&mut metrics);
    assert!(
        metrics.contains("# TYPE switchboard_request_log_dropped counter\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nswitchboard_request_log_dropped_total 3\n"),
        "{metrics}"
    );
    drop(pause);
    ext.shutdown().await;
    let ids: Vec<String> = read_lines(&path)
        .iter()
        .map(|l| l["request_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["r0", "r1"]);
}

#[tokio::test]
async fn bad_config_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    for config in [
        json!({"sample_rate": 1.5}),
        json!({"max_files": 0}),
        json!({"queue_capacity": 0}),
        json!({"max_bytes": 10}),
    ] {
        let mut parsed: RequestLogConfig =
            serde_json::from_value(config.clone()).expect("deserializes");
        parsed.path = dir.path().join("x.jsonl");
        let err = RequestLog::start(parsed).await.expect_err("refused");
        assert_eq!(err.kind(), &switchboard_core::ErrorKind::Config, "{config}");
    }
    // A directory that does not exist: refused at start, naming the path.
    let parsed = RequestLogConfig {
        path: dir.path().join("missing").join("x.jsonl"),
        ..RequestLogConfig::default()
    };
    let err = RequestLog::start(parsed).await.expect_err("cannot open");
    assert!(err.message().contains("missing"), "{}", err.message());
    assert!(serde_json::from_value::<RequestLogConfig>(json!({"bodys": "full"})).is_err());
}
