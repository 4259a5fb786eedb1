//! Where credentials and the region come from: config > environment >
//! profile file, with a temporary HOME / AWS_SHARED_CREDENTIALS_FILE.

use serde_json::json;
use switchboard_bedrock::BedrockConfig;
use switchboard_bedrock::credentials::{Auth, Resolved, resolve};
use switchboard_core::{Error, ErrorKind};

use crate::support::{FakeEnv, build_with_env};

const PROFILES: &str = "[default]\naws_access_key_id = AKIAPROFILEDEFAULT\naws_secret_access_key = secret-default\n\n\
[work]\naws_access_key_id = AKIAPROFILEWORK\naws_secret_access_key = secret-work\naws_session_token = token-work\n";

/// A HOME with `.aws/credentials`.
fn home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::create_dir(dir.path().join(".aws")).expect("mkdir");
    std::fs::write(dir.path().join(".aws/credentials"), PROFILES).expect("write");
    dir
}

async fn resolved(config: serde_json::Value, env: &FakeEnv) -> Result<Resolved, Error> {
    let config: BedrockConfig = serde_json::from_value(config).expect("config");
    let lookup = |name: &str| env.get(name);
    resolve(&config, &lookup).await
}

fn key_id(r: &Resolved) -> String {
    match &r.auth {
        Auth::SigV4(c) => c.access_key_id.expose().to_owned(),
        Auth::Bearer(k) => format!("bearer {}", k.expose()),
    }
}

#[tokio::test]
async fn config_beats_env_beats_profile() {
    let home = home();
    let home_path = home.path().to_str().expect("utf-8");
    let env = FakeEnv::default()
        .with("HOME", home_path)
        .with("AWS_ACCESS_KEY_ID", "AKIAENV")
        .with("AWS_SECRET_ACCESS_KEY", "secret-env")
        .with("AWS_SESSION_TOKEN", "token-env");
    let config = json!({"access_key_id": "AKIACONFIG", "secret_access_key": "secret-config"});
    let r = resolved(config, &env).await.expect("config");
    assert_eq!(key_id(&r), "AKIACONFIG");
    assert_eq!(r.source, "config access_key_id");

    let r = resolved(json!({}), &env).await.expect("env");
    assert_eq!(key_id(&r), "AKIAENV");
    match &r.auth {
        Auth::SigV4(c) => assert_eq!(
            c.session_token.as_ref().map(|t| t.expose()),
            Some("token-env")
        ),
        Auth::Bearer(_) => panic!("SigV4 expected"),
    }

    let env = FakeEnv::default().with("HOME", home_path);
    let r = resolved(json!({}), &env).await.expect("profile");
    assert_eq!(key_id(&r), "AKIAPROFILEDEFAULT");
    assert!(
        r.source.starts_with("profile `default` of "),
        "{}",
        r.source
    );
}

#[tokio::test]
async fn the_profile_is_chosen_by_config_then_aws_profile() {
    let home = home();
    let env = FakeEnv::default()
        .with("HOME", home.path().to_str().expect("utf-8"))
        .with("AWS_PROFILE", "work");
    let r = resolved(json!({}), &env).await.expect("work");
    assert_eq!(key_id(&r), "AKIAPROFILEWORK");
    let r = resolved(json!({"profile": "default"}), &env)
        .await
        .expect("default");
    assert_eq!(key_id(&r), "AKIAPROFILEDEFAULT");
    let err = resolved(json!({"profile": "missing"}), &env)
        .await
        .expect_err("no such profile");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert!(err.message().contains("`missing`"), "{err}");
}

#[tokio::test]
async fn the_shared_credentials_file_variable_wins_over_home() {
    let home = home();
    let other = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        other.path(),
        "[default]\naws_access_key_id=AKIAFILEVAR\naws_secret_access_key=s\n",
    )
    .expect("write");
    let env = FakeEnv::default()
        .with("HOME", home.path().to_str().expect("utf-8"))
        .with(
            "AWS_SHARED_CREDENTIALS_FILE",
            other.path().to_str().expect("utf-8"),
        );
    let r = resolved(json!({}), &env).await.expect("file");
    assert_eq!(key_id(&r), "AKIAFILEVAR");
}

#[tokio::test]
async fn api_keys_come_before_access_keys_from_the_same_source() {
    let env = FakeEnv::default()
        .with("AWS_BEARER_TOKEN_BEDROCK", "env-api-key")
        .with("AWS_ACCESS_KEY_ID", "AKIAENV")
        .with("AWS_SECRET_ACCESS_KEY", "secret-env");
    let r = resolved(json!({}), &env).await.expect("env");
    assert_eq!(key_id(&r), "bearer env-api-key");
    // Configured access keys still beat the environment's API key.
    let config = json!({"access_key_id": "AKIACONFIG", "secret_access_key": "s"});
    let r = resolved(config, &env).await.expect("config");
    assert_eq!(key_id(&r), "AKIACONFIG");
    let r = resolved(json!({"api_key": "config-api-key"}), &env)
        .await
        .expect("config");
    assert_eq!(key_id(&r), "bearer config-api-key");
}

#[tokio::test]
async fn the_region_comes_from_config_then_env() {
    let env = FakeEnv::default()
        .with("AWS_BEARER_TOKEN_BEDROCK", "k")
        .with("AWS_DEFAULT_REGION", "eu-west-1");
    assert_eq!(
        resolved(json!({}), &env).await.expect("ok").region,
        "eu-west-1"
    );
    let env = env.with("AWS_REGION", "eu-central-1");
    assert_eq!(
        resolved(json!({}), &env).await.expect("ok").region,
        "eu-central-1"
    );
    let r = resolved(json!({"region": "ap-south-1"}), &env)
        .await
        .expect("ok");
    assert_eq!(r.region, "ap-south-1");
    let env = FakeEnv::default().with("AWS_BEARER_TOKEN_BEDROCK", "k");
    assert_eq!(
        resolved(json!({}), &env).await.expect("ok").region,
        "us-east-1"
    );
    let bad = env.with("AWS_REGION", "us-east-1.evil.com/");
    let err = resolved(json!({}), &bad).await.expect_err("not a region");
    assert_eq!(err.kind(), &ErrorKind::Config);
}

#[tokio::test]
async fn no_credentials_anywhere_is_a_config_error_naming_the_places() {
    let empty_home = tempfile::tempdir().expect("temp dir");
    let env = FakeEnv::default().with("HOME", empty_home.path().to_str().expect("utf-8"));
    let err = build_with_env(json!({}), &env)
        .await
        .expect_err("no credentials");
    assert_eq!(err.kind(), &ErrorKind::Config);
    assert_eq!(err.instance(), Some("bedrock"));
    assert!(err.message().contains("AWS_ACCESS_KEY_ID"), "{err}");
    assert!(err.message().contains("does not exist"), "{err}");
}

#[tokio::test]
async fn half_a_key_pair_is_refused() {
    let err = build_with_env(json!({"access_key_id": "AKIA"}), &FakeEnv::default())
        .await
        .expect_err("needs the secret");
    assert_eq!(err.param(), Some("secret_access_key"));
}
