//! SigV4: the AWS test suite's published vectors through [`Signer`], and a
//! signed Converse request whose signature verifies against what the fake
//! upstream received.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Request;
use serde_json::json;
use switchboard_bedrock::credentials::AwsCredentials;
use switchboard_bedrock::sign::Signer;
use switchboard_core::{ChatRequest, Message, Provider, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{FakeEnv, MODEL, MODEL_IN_PATH, build_with_env, data};

/// The suite's credentials (`awslabs/aws-c-auth` `tests/aws-signing-test-suite/v4/`,
/// `boto/botocore` `tests/unit/auth/aws4_testsuite/`).
fn suite_credentials(token: Option<&str>) -> AwsCredentials {
    AwsCredentials {
        access_key_id: Secret::new("AKIDEXAMPLE"),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        session_token: token.map(Secret::new),
    }
}

/// 20150830T123600Z, the suite's time.
fn suite_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn signed(method: &str, uri: &str) -> String {
    let signer = Signer::for_service(&suite_credentials(None), "us-east-1", "service");
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::new())
        .expect("a valid request");
    signer.sign(&mut request, suite_time()).expect("signs");
    assert_eq!(request.headers()["x-amz-date"], "20150830T123600Z");
    request.headers()["authorization"]
        .to_str()
        .expect("text")
        .to_owned()
}

#[test]
fn the_published_vanilla_vectors_are_reproduced() {
    let prefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                  SignedHeaders=host;x-amz-date, Signature=";
    assert_eq!(
        signed("GET", "https://example.amazonaws.com/"),
        format!("{prefix}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    );
    assert_eq!(
        signed("POST", "https://example.amazonaws.com/"),
        format!("{prefix}5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    );
}

/// `YYYYMMDDTHHMMSSZ` → a time (days from the civil date, Howard Hinnant's algorithm).
fn parse_amz_date(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let (hh, mm, ss) = (n(9..11), n(11..13), n(13..15));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).expect("after 1970"))
}

#[test]
fn amz_dates_parse() {
    assert_eq!(parse_amz_date("20150830T123600Z"), suite_time());
}

#[tokio::test]
async fn a_converse_request_is_signed_for_bedrock_and_verifies() {
    let server = MockServer::start().await;
    let route = format!("/model/{MODEL_IN_PATH}/converse");
    Mock::given(method("POST"))
        .and(path(route.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            data!("converse_response_text_after_tool_result_recorded.json"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let config = json!({
        "base_url": server.uri(), "region": "us-west-2",
        "access_key_id": "AKIDEXAMPLE",
        "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "session_token": "SESSION-TOKEN-EXAMPLE"
    });
    let provider = build_with_env(config, &FakeEnv::default())
        .await
        .expect("builds");
    assert_eq!(provider.credentials_source(), "config access_key_id");
    let debug = format!("{provider:?}");
    assert!(
        !debug.contains("EXAMPLEKEY") && !debug.contains("SESSION-TOKEN"),
        "{debug}"
    );
    provider
        .chat(&ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .expect("answers");

    let requests = server.received_requests().await.expect("recording");
    let got = &requests[0];
    let header = |name: &str| {
        got.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("text")
            .to_owned()
    };
    let date = header("x-amz-date");
    let auth = header("authorization");
    assert_eq!(header("x-amz-security-token"), "SESSION-TOKEN-EXAMPLE");
    let expected_prefix = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/us-west-2/bedrock/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=",
        &date[..8]
    );
    assert!(auth.starts_with(&expected_prefix), "{auth}");

    // Re-sign what the server received, at the request's own time: the
    // signature must be the same (path as sent, host with port, body bytes).
    let signer = Signer::new(
        &suite_credentials(Some("SESSION-TOKEN-EXAMPLE")),
        "us-west-2",
    );
    let mut again = Request::builder()
        .method("POST")
        .uri(format!("{}{}", server.uri(), got.url.path()))
        .header("content-type", header("content-type"))
        .body(Bytes::from(got.body.clone()))
        .expect("a valid request");
    assert!(
        got.url.path().contains("%3A"),
        "the `:` of the model id is encoded"
    );
    signer
        .sign(&mut again, parse_amz_date(&date))
        .expect("signs");
    assert_eq!(
        again.headers()["authorization"].to_str().expect("text"),
        auth
    );
}

#[tokio::test]
async fn an_api_key_is_sent_as_a_bearer_token_without_signing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            data!("converse_response_text_after_tool_result_recorded.json"),
            "application/json",
        ))
        .mount(&server)
        .await;
    let env = FakeEnv::default().with("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-XYZ");
    let provider = build_with_env(json!({"base_url": server.uri()}), &env)
        .await
        .expect("builds");
    assert_eq!(
        provider.credentials_source(),
        "env AWS_BEARER_TOKEN_BEDROCK"
    );
    provider
        .chat(&ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .expect("answers");
    let requests = server.received_requests().await.expect("recording");
    assert_eq!(
        requests[0].headers["authorization"],
        "Bearer bedrock-api-key-XYZ"
    );
    assert!(requests[0].headers.get("x-amz-date").is_none());
}

#[tokio::test]
async fn a_session_token_echoed_in_an_error_is_scrubbed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-amzn-errortype", "ExpiredTokenException")
                .set_body_raw(
                    r#"{"message":"The security token SESSION-TOKEN-EXAMPLE has expired"}"#,
                    "application/json",
                ),
        )
        .mount(&server)
        .await;
    let env = FakeEnv::default()
        .with("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .with("AWS_SECRET_ACCESS_KEY", "secret")
        .with("AWS_SESSION_TOKEN", "SESSION-TOKEN-EXAMPLE");
    let provider = build_with_env(json!({"base_url": server.uri()}), &env)
        .await
        .expect("builds");
    let err = provider
        .chat(&ChatRequest::new(MODEL, vec![Message::user("Hi")]))
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), &switchboard_core::ErrorKind::Auth);
    assert!(!err.to_string().contains("SESSION-TOKEN-EXAMPLE"), "{err}");
    assert!(err.message().contains("has expired"), "{err}");
}
