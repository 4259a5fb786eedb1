//! Rotation by size, keeping at most `max_files` files.

use serde_json::json;
use switchboard_core::Extension;

use crate::{complete, read_lines, start};

#[tokio::test]
async fn rotates_at_the_size_limit_and_keeps_at_most_max_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"max_bytes": 1024, "max_files": 3})).await;
    let n = 40;
    for i in 0..n {
        complete(&ext, &format!("request-{i:03}"), "q", "a").await;
    }
    ext.shutdown().await;
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["requests.jsonl", "requests.jsonl.1", "requests.jsonl.2"]
    );
    let mut ids = Vec::new();
    for name in names.iter().rev() {
        let file = dir.path().join(name);
        let size = std::fs::metadata(&file).expect("stat").len();
        assert!(size <= 1024, "{name} is {size} bytes");
        ids.extend(
            read_lines(&file)
                .iter()
                .map(|l| l["request_id"].as_str().unwrap_or_default().to_owned()),
        );
    }
    // Oldest file first: the newest lines, in order, ending with the last.
    assert!(ids.len() < n, "older lines were rotated away");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert_eq!(ids.last().map(String::as_str), Some("request-039"));
    assert_eq!(
        read_lines(&path).last().expect("a line")["request_id"],
        "request-039"
    );
}

#[tokio::test]
async fn a_single_file_is_truncated_when_full() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ext, path) = start(dir.path(), json!({"max_bytes": 1024, "max_files": 1})).await;
    for i in 0..20 {
        complete(&ext, &format!("request-{i:03}"), "q", "a").await;
    }
    ext.shutdown().await;
    let count = std::fs::read_dir(dir.path()).expect("list").count();
    assert_eq!(count, 1);
    assert!(std::fs::metadata(&path).expect("stat").len() <= 1024);
    assert_eq!(
        read_lines(&path).last().expect("a line")["request_id"],
        "request-019"
    );
}
