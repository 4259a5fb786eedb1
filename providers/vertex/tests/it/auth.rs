//! Service account credentials: the JWT assertion google-auth sends, the
//! token exchange, caching and refresh; and a ready access token.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};
use switchboard_core::{ChatRequest, ErrorKind, Message, Provider};
use switchboard_vertex::CLOUD_PLATFORM_SCOPE;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const GEMINI_ROUTE: &str = "/v1beta1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent";

fn hello() -> ChatRequest {
    ChatRequest::new("gemini-2.5-flash", vec![Message::user("Hello")])
}

async fn api_expecting(token: &str) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GEMINI_ROUTE))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(json_response(GEMINI_TEXT))
        .mount(&api)
        .await;
    api
}

async fn token_server(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

async fn token_calls(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.expect("recording is on")
}

fn decode_part(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn the_assertion_has_google_auths_header_and_claims_and_verifies() {
    let tokens = token_server(token_answer("ya29.first", json!(3600))).await;
    let api = api_expecting("ya29.first").await;
    let p = sa_provider(&api, &tokens, "us-central1").await;
    assert_eq!(p.project(), "my-project", "from the key's project_id");
    let answer = p.chat(&hello()).await.expect("answers");
    assert_eq!(answer.text(), "low");

    let calls = token_calls(&tokens).await;
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    // The request line and body of google-auth's capture.
    let captured = include_str!("../data/oauth_token_request_jwt_bearer_google_auth.txt");
    assert!(captured.contains("Content-Type: application/x-www-form-urlencoded"));
    assert_eq!(
        call.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-www-form-urlencoded")
    );
    let body = std::str::from_utf8(&call.body).expect("text");
    let captured_body = captured.lines().last().expect("body line");
    let grant = captured_body.split_once('&').expect("two fields").1;
    let (assertion, sent_grant) = body.split_once('&').expect("two fields");
    assert_eq!(sent_grant, grant);
    let jwt = assertion
        .strip_prefix("assertion=")
        .expect("assertion first, as google-auth");

    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        decode_part(parts[0]),
        fixture(include_str!(
            "../data/oauth_jwt_assertion_header_google_auth.json"
        ))
    );
    let claims = decode_part(parts[1]);
    let documented = fixture(include_str!(
        "../data/oauth_jwt_assertion_claims_google_auth.json"
    ));
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&claims), keys(&documented));
    assert_eq!(claims["iss"], documented["iss"]);
    assert_eq!(claims["scope"], documented["scope"]);
    assert_eq!(claims["scope"], CLOUD_PLATFORM_SCOPE);
    // The audience is the token endpoint used (google-auth: the key's token_uri).
    assert_eq!(claims["aud"], format!("{}/token", tokens.uri()));
    let iat = claims["iat"].as_u64().expect("iat");
    assert_eq!(claims["exp"].as_u64(), Some(iat + 3600));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(iat.abs_diff(now) < 60, "iat {iat} is now ({now})");

    // RS256 over `header.claims`, checked with the public key openssl wrote.
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, SA_PUBLIC_KEY_DER)
        .verify(signed.as_bytes(), &signature)
        .expect("the signature verifies with the key's public half");
    let mut tampered = signed.into_bytes();
    tampered[0] ^= 1;
    assert!(
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, SA_PUBLIC_KEY_DER)
            .verify(&tampered, &signature)
            .is_err()
    );
}

#[tokio::test]
async fn a_token_is_reused_until_shortly_before_it_expires() {
    let tokens = token_server(token_answer("ya29.long", json!(3600))).await;
    let api = api_expecting("ya29.long").await;
    let p = sa_provider(&api, &tokens, "us-central1").await;
    for _ in 0..3 {
        p.chat(&hello()).await.expect("answers");
    }
    assert_eq!(
        token_calls(&tokens).await.len(),
        1,
        "one exchange for three calls"
    );

    // A token that expires within the refresh margin (5 min) is replaced at
    // the next call; `expires_in` may come as a numeric string.
    let tokens = token_server(token_answer("ya29.short", json!("300"))).await;
    let api = api_expecting("ya29.short").await;
    let p = sa_provider(&api, &tokens, "us-central1").await;
    p.chat(&hello()).await.expect("answers");
    p.chat(&hello()).await.expect("answers");
    assert_eq!(
        token_calls(&tokens).await.len(),
        2,
        "refreshed before expiry"
    );

    let tokens = token_server(token_answer("ya29.margin", json!(301))).await;
    let api = api_expecting("ya29.margin").await;
    let p = sa_provider(&api, &tokens, "us-central1").await;
    p.chat(&hello()).await.expect("answers");
    p.chat(&hello()).await.expect("answers");
    assert_eq!(
        token_calls(&tokens).await.len(),
        1,
        "fresh for one more second"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    p.chat(&hello()).await.expect("answers");
    assert_eq!(
        token_calls(&tokens).await.len(),
        2,
        "refreshed once it went stale"
    );
}

#[tokio::test]
async fn concurrent_calls_share_one_refresh() {
    let slow =
        token_answer("ya29.shared", json!(3600)).set_delay(std::time::Duration::from_millis(300));
    let tokens = token_server(slow).await;
    let api = api_expecting("ya29.shared").await;
    let p = Arc::new(sa_provider(&api, &tokens, "us-central1").await);
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let p = Arc::clone(&p);
            tokio::spawn(async move { p.chat(&hello()).await })
        })
        .collect();
    for call in calls {
        call.await.expect("joins").expect("answers");
    }
    assert_eq!(token_calls(&tokens).await.len(), 1);
}

#[tokio::test]
async fn a_refused_assertion_is_an_auth_error_and_nothing_is_sent() {
    let refused = ResponseTemplate::new(400).set_body_json(json!({
        "error": "invalid_grant",
        "error_description": "Invalid JWT Signature."
    }));
    let tokens = token_server(refused).await;
    let api = MockServer::start().await;
    let p = sa_provider(&api, &tokens, "us-central1").await;
    let err = p.chat(&hello()).await.expect_err("refused");
    assert_eq!(*err.kind(), ErrorKind::Auth, "{err}");
    assert!(err.message().contains("invalid_grant"), "{err}");
    assert_eq!(err.instance(), Some(INSTANCE));
    assert!(api.received_requests().await.expect("on").is_empty());
}

#[tokio::test]
async fn health_obtains_a_token() {
    let tokens = token_server(token_answer("ya29.health", json!(3600))).await;
    let api = MockServer::start().await;
    let p = sa_provider(&api, &tokens, "global").await;
    let report = p.health().await.expect("healthy");
    assert_eq!(
        report.detail.as_deref(),
        Some("service account token ready")
    );
    assert_eq!(token_calls(&tokens).await.len(), 1);

    let refused = ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"}));
    let tokens = token_server(refused).await;
    let p = sa_provider(&api, &tokens, "global").await;
    assert_eq!(
        *p.health().await.expect_err("refused").kind(),
        ErrorKind::Auth
    );
}

#[tokio::test]
async fn a_ready_token_is_sent_as_is() {
    let api = api_expecting("TEST_ACCESS_TOKEN").await;
    let p = token_provider(&api, "us-central1").await;
    p.chat(&hello()).await.expect("answers");
    p.chat(&hello()).await.expect("answers");
}

#[tokio::test]
async fn a_key_file_is_read() {
    let dir = std::env::temp_dir().join(format!("switchboard-vertex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("sa.json");
    std::fs::write(&file, SA_KEY_JSON).expect("written");
    let tokens = token_server(token_answer("ya29.file", json!(3600))).await;
    let api = api_expecting("ya29.file").await;
    let p = provider(json!({
        "location": "us-central1",
        "base_url": api.uri(),
        "token_url": format!("{}/token", tokens.uri()),
        "credentials_file": file.to_string_lossy(),
    }))
    .await;
    p.chat(&hello()).await.expect("answers");
    let _ = std::fs::remove_dir_all(&dir);
}
