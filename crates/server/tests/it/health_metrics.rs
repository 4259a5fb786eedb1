//! `/metrics` shows passive health per instance and per deployment
//! (instance and model): a rate-limited model cools alone, and the
//! cooldown is visible.

use serde_json::json;

use crate::common::spawn;

#[tokio::test]
async fn a_cooling_deployment_shows_in_the_metrics() {
    let gw = spawn(json!({
        "health": {"consecutive_failures": 1, "cooldown_ms": 60000},
        "providers": {
            "m": {"kind": "mock", "models": ["mock-1", "mock-2"]}
        }
    }))
    .await;
    let status = gw
        .http
        .post(gw.url("/v1/chat/completions"))
        .json(&json!({
            "model": "m/mock-1",
            "messages": [{"role": "user", "content": "hi"}],
            "mock": {"fault": {"kind": "rate_limited", "retry_after_ms": 30000}}
        }))
        .send()
        .await
        .expect("sends")
        .status();
    assert_eq!(status, 429);
    let metrics = gw.metrics().await;
    assert!(
        metrics.contains("switchboard_instance_available{instance=\"m\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchboard_deployment_available{instance=\"m\",model=\"mock-1\"} 0"),
        "{metrics}"
    );
    let cooldown = metrics
        .lines()
        .find(|l| {
            l.starts_with(
                "switchboard_deployment_cooldown_remaining_seconds{instance=\"m\",model=\"mock-1\"}",
            )
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .expect("a cooldown gauge for m/mock-1");
    assert!(cooldown > 20.0 && cooldown <= 30.0, "{cooldown}");
    // The healthy model of the same instance is not listed as cooling.
    assert!(!metrics.contains("model=\"mock-2\"} 0"), "{metrics}");
}
