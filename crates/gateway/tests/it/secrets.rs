//! Secrets in admin views and errors: redaction by value (header values,
//! URL userinfo and query, configured secrets wherever they appear); a host
//! change that must carry its credentials; bounded durations.

use serde_json::json;
use switchboard_core::ErrorKind;
use switchboard_gateway::config::ConfigLoader;
use switchboard_gateway::config::types::Config;
use switchboard_gateway::{InstanceState, Switchboard};

use crate::life::{catalog, switchboard};

const KEY: &str = "sk-stored-key-123456";

#[tokio::test]
async fn status_views_hide_every_secret() {
    let sb = switchboard(json!({"providers": {"sec-view": {
        "kind": "life",
        "api_key": KEY,
        "base_url": "https://user:url-pass-999@host.example/v1?key=query-secret-1",
        "headers": {"Helicone-Auth": "Bearer sk-helicone-777"},
        "organization": KEY,
        "note": format!("uses {KEY}")
    }}}))
    .await;
    let statuses = serde_json::to_string(&sb.registry().statuses()).expect("json");
    for secret in [
        KEY,
        "url-pass-999",
        "query-secret-1",
        "sk-helicone-777",
        "user:",
    ] {
        assert!(!statuses.contains(secret), "{secret} leaked: {statuses}");
    }
    let config = sb
        .registry()
        .get("sec-view")
        .expect("instance")
        .redacted_config();
    assert_eq!(config["headers"], json!({"Helicone-Auth": "***"}));
    assert_eq!(config["base_url"], "https://***@host.example/v1?key=***");
    assert_eq!(config["organization"], "***");
    assert_eq!(config["note"], "uses ***");
    // `Debug` of the whole config (log lines) hides them too.
    let debug = format!("{:?}", sb.config());
    for secret in [KEY, "url-pass-999", "query-secret-1", "sk-helicone-777"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
}

#[tokio::test]
async fn build_errors_are_scrubbed() {
    let sb = switchboard(json!({"providers": {"sec-fail": {
        "kind": "life", "fail_build": true, "api_key": KEY,
        "base_url": "https://u:pw-secret-42@h/v1?token=q-secret-43"
    }}}))
    .await;
    let InstanceState::Failed { error } = sb.registry().get("sec-fail").expect("i").state() else {
        panic!("expected a failed instance");
    };
    for secret in [KEY, "pw-secret-42", "q-secret-43"] {
        assert!(!error.contains(secret), "{secret} leaked: {error}");
    }
    assert!(
        error.contains("cannot reach https://***@h/v1?token=***"),
        "{error}"
    );
}

#[tokio::test]
async fn a_new_host_needs_the_credential_in_the_same_update() {
    let sb = switchboard(json!({"providers": {"sec-host": {
        "kind": "life", "api_key": KEY, "base_url": "http://up/v1"
    }}}))
    .await;
    let reg = sb.registry();
    let err = reg
        .update_config("sec-host", &json!({"base_url": "http://other/v1"}))
        .await
        .expect_err("a stored key must not follow a new host");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert_eq!(err.param(), Some("base_url"));
    assert!(err.message().contains("`api_key`"), "{err}");
    let config = reg.get("sec-host").expect("i").redacted_config();
    assert_eq!(config["base_url"], "http://up/v1", "nothing changed");
    assert_eq!(reg.get("sec-host").expect("i").generation(), 1);

    // A whole new config through reload, keeping only an env reference.
    let whole = serde_json::from_value(json!({
        "kind": "life", "base_url": "http://other/v1", "api_key_env": "OPENAI_API_KEY"
    }))
    .expect("config");
    let err = reg
        .reload("sec-host", Some(whole))
        .await
        .expect_err("a credential value is required");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);

    reg.update_config(
        "sec-host",
        &json!({"base_url": "http://other/v1", "api_key": "sk-new-key-000000"}),
    )
    .await
    .expect("with the credential");
    let config = reg.get("sec-host").expect("i").redacted_config();
    assert_eq!(config["base_url"], "http://other/v1");
    // Other updates need nothing.
    reg.update_config("sec-host", &json!({"temperature": 1}))
        .await
        .expect("no host change");
}

#[tokio::test]
async fn huge_durations_are_rejected_with_the_key() {
    let config: Config = serde_json::from_value(json!({
        "router": {"timeout_ms": u64::MAX},
        "providers": {"sec-dur": {"kind": "life"}}
    }))
    .expect("config");
    let err = Switchboard::builder()
        .catalog(catalog())
        .config(config)
        .build()
        .await
        .expect_err("rejected");
    assert!(err.to_string().contains("router.timeout_ms"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("switchboard.toml");
    std::fs::write(
        &path,
        "[health]\ncooldown_ms = 9223372036854775807\n[providers.sec-dur]\nkind = \"life\"\nrequest_timeout_secs = 9223372036854775807\n",
    )
    .expect("writes");
    let err = ConfigLoader::new()
        .file(&path)
        .env_vars(Vec::new())
        .load(catalog())
        .expect_err("rejected");
    let shown = err.to_string();
    assert!(shown.contains("health.cooldown_ms"), "{shown}");
    assert!(
        shown.contains("providers.sec-dur.request_timeout_secs"),
        "{shown}"
    );
    assert!(
        shown.contains("switchboard.toml"),
        "names the file: {shown}"
    );

    let sb = switchboard(json!({"providers": {"sec-dur": {"kind": "life"}}})).await;
    let err = sb
        .registry()
        .update_config("sec-dur", &json!({"request_timeout_secs": u64::MAX}))
        .await
        .expect_err("rejected at runtime too");
    assert_eq!(err.param(), Some("request_timeout_secs"));
    let err = sb
        .registry()
        .update_config("sec-dur", &json!({"x": {"timeout_ms": 1e300}}))
        .await
        .expect_err("nested and float");
    assert!(err.message().contains("x.timeout_ms"), "{err}");
}
