//! Input redaction and block mode, through `on_request`.

use serde_json::json;
use switchboard_core::{
    ChatRequest, ContentPart, Error, ErrorKind, Extension, Message, RequestAction,
};
use switchboard_ext_guardrails::Guardrails;

use crate::{ctx, guardrails};

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "mock/echo".into(),
        messages,
        ..ChatRequest::default()
    }
}

fn text_of(m: &Message) -> String {
    m.content
        .iter()
        .filter_map(|p| match p {
            ContentPart::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

async fn redact_with(ext: &Guardrails, text: &str) -> Result<String, Error> {
    let mut req = request(vec![Message::user(text)]);
    let action = ext.on_request(&mut ctx(), &mut req).await?;
    assert!(matches!(action, RequestAction::Continue));
    Ok(text_of(&req.messages[0]))
}

async fn redact(text: &str) -> String {
    redact_with(&guardrails(json!({})), text)
        .await
        .expect("redact mode never refuses")
}

#[tokio::test]
async fn luhn_valid_cards_are_redacted_and_invalid_ones_stay() {
    assert_eq!(
        redact("card 4111 1111 1111 1111 exp 12/29").await,
        "card [REDACTED_CARD] exp 12/29"
    );
    assert_eq!(
        redact("pay with 5500-0000-0000-0004.").await,
        "pay with [REDACTED_CARD]."
    );
    assert_eq!(redact("amex 378282246310005").await, "amex [REDACTED_CARD]");
    // One digit off: fails Luhn, and is no phone number either.
    assert_eq!(
        redact("order 4111 1111 1111 1112").await,
        "order 4111 1111 1111 1112"
    );
    assert_eq!(redact("id 4111111111111112").await, "id 4111111111111112");
    // A card followed by more digits is still found.
    assert_eq!(redact("4111 1111 1111 1111 12").await, "[REDACTED_CARD] 12");
}

#[tokio::test]
async fn emails_are_redacted() {
    assert_eq!(
        redact("write to jane.doe+tag@example.co.uk or bob@mail.example.com!").await,
        "write to [REDACTED_EMAIL] or [REDACTED_EMAIL]!"
    );
    assert_eq!(redact("not an email: a@b").await, "not an email: a@b");
}

#[tokio::test]
async fn phone_numbers_are_redacted_but_plain_numbers_stay() {
    for (input, want) in [
        ("call +1 415 555 2671 now", "call [REDACTED_PHONE] now"),
        ("uk +44 20 7946 0958.", "uk [REDACTED_PHONE]."),
        ("de +4915112345678", "de [REDACTED_PHONE]"),
        ("us (415) 555-2671", "us [REDACTED_PHONE]"),
        ("us 415-555-2671", "us [REDACTED_PHONE]"),
        ("berlin 030 1234 5678", "berlin [REDACTED_PHONE]"),
        ("paris 06 12 34 56 78", "paris [REDACTED_PHONE]"),
        // Not phone numbers.
        ("invoice 4155552671", "invoice 4155552671"),
        ("total 1234567890123456789", "total 1234567890123456789"),
        ("year 2024-01-15", "year 2024-01-15"),
        ("0000 1111 2222 3333", "0000 1111 2222 3333"),
    ] {
        assert_eq!(redact(input).await, want, "input: {input}");
    }
}

#[tokio::test]
async fn api_keys_are_redacted() {
    for (input, want) in [
        (
            "key sk-proj-abcdefghijklmnop1234567890",
            "key [REDACTED_API_KEY]",
        ),
        (
            "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWx-yz_0123",
            "[REDACTED_API_KEY]",
        ),
        ("aws AKIAIOSFODNN7EXAMPLE ok", "aws [REDACTED_API_KEY] ok"),
        (
            "token ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
            "token [REDACTED_API_KEY]",
        ),
        (
            "AIzaSyA-1234567890abcdefghijklmnopqrstu",
            "[REDACTED_API_KEY]",
        ),
        ("a task-list and sk-short", "a task-list and sk-short"),
    ] {
        assert_eq!(redact(input).await, want, "input: {input}");
    }
}

#[tokio::test]
async fn every_role_but_the_assistant_is_redacted() {
    let ext = guardrails(json!({}));
    let mut tool = Message::new(switchboard_core::Role::Tool, "found bob@example.com");
    tool.tool_call_id = Some("call-1".into());
    let mut req = request(vec![
        Message::system("admin is root@example.com"),
        Message::user("my card is 4111111111111111"),
        Message::assistant("noted: ops@example.com"),
        tool,
    ]);
    ext.on_request(&mut ctx(), &mut req).await.expect("redacts");
    let texts: Vec<String> = req.messages.iter().map(text_of).collect();
    assert_eq!(
        texts,
        [
            "admin is [REDACTED_EMAIL]",
            "my card is [REDACTED_CARD]",
            "noted: ops@example.com",
            "found [REDACTED_EMAIL]",
        ]
    );
}

#[tokio::test]
async fn detectors_can_be_switched_off() {
    let ext = guardrails(json!({"redact": {"email": "off", "card": "off"}}));
    assert_eq!(
        redact_with(&ext, "a@example.com 4111111111111111 +1 415 555 2671")
            .await
            .expect("no block mode"),
        "a@example.com 4111111111111111 [REDACTED_PHONE]"
    );
}

#[tokio::test]
async fn block_mode_refuses_naming_the_detector_not_the_match() {
    let ext = guardrails(json!({"redact": {"card": "block"}}));
    let err = redact_with(&ext, "charge 4111 1111 1111 1111 please")
        .await
        .expect_err("a card is refused");
    assert_eq!(err.kind(), &ErrorKind::ContentFilter);
    assert!(err.message().contains("card"), "{}", err.message());
    assert!(!err.message().contains("4111"), "{}", err.message());
    // Other detectors still redact, and a clean request passes.
    assert_eq!(
        redact_with(&ext, "mail a@example.com")
            .await
            .expect("no card"),
        "mail [REDACTED_EMAIL]"
    );
    assert_eq!(
        redact_with(&ext, "4111 1111 1111 1112")
            .await
            .expect("not Luhn-valid: no card"),
        "4111 1111 1111 1112"
    );
}

#[tokio::test]
async fn custom_patterns_redact_or_block() {
    let ext = guardrails(json!({"redact": {"patterns": [
        {"name": "employee-id", "regex": "EMP-[0-9]{6}"},
        {"name": "codename", "regex": "(?i)project blue", "mode": "block"},
    ]}}));
    assert_eq!(
        redact_with(&ext, "ask EMP-123456 about it")
            .await
            .expect("redacted"),
        "ask [REDACTED_EMPLOYEE_ID] about it"
    );
    let err = redact_with(&ext, "status of Project Blue?")
        .await
        .expect_err("blocked");
    assert_eq!(err.kind(), &ErrorKind::ContentFilter);
    assert!(err.message().contains("codename"));
    assert!(!err.message().contains("Blue"));
}

#[test]
fn hostile_or_broken_patterns_are_config_errors() {
    use switchboard_ext_guardrails::GuardrailsConfig;
    for config in [
        json!({"redact": {"patterns": [{"name": "x", "regex": "("}]}}),
        json!({"redact": {"patterns": [{"name": "x", "regex": "a*"}]}}),
        json!({"redact": {"patterns": [{"name": "", "regex": "a"}]}}),
        json!({"redact": {"patterns": [{"name": "big", "regex": "\\w{1000}\\w{1000}\\w{1000}"}]}}),
        json!({"deny": ["(unclosed"]}),
        json!({"deny": [".*"]}),
        json!({"deny": ["x"], "max_match_chars": 0}),
    ] {
        let parsed: GuardrailsConfig =
            serde_json::from_value(config.clone()).expect("deserializes");
        let err = Guardrails::new(&parsed).expect_err("refused");
        assert_eq!(err.kind(), &ErrorKind::Config, "{config}");
    }
}

#[test]
fn unknown_keys_are_rejected_and_empty_config_works() {
    use switchboard_ext_guardrails::GuardrailsConfig;
    assert!(serde_json::from_value::<GuardrailsConfig>(json!({"redcat": {}})).is_err());
    assert!(
        serde_json::from_value::<GuardrailsConfig>(json!({"redact": {"email": "maybe"}})).is_err()
    );
    let config: GuardrailsConfig = serde_json::from_value(json!({})).expect("all defaults");
    assert_eq!(config.max_match_chars, 256);
    Guardrails::new(&config).expect("defaults compile");
}
