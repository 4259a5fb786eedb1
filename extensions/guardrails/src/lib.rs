//! The `guardrails` extension: redacts e-mail addresses, phone numbers,
//! payment card numbers (Luhn-checked) and API-key-like strings from
//! requests (or refuses them), and refuses answers matching output deny
//! patterns, streamed ones included (checked across chunk boundaries).
//!
//! ```toml
//! [extensions.guardrails]
//! enabled = true
//! redact = { card = "block", patterns = [{ name = "employee-id", regex = "EMP-[0-9]{6}" }] }
//! deny = ["forbidden word"]
//! ```

mod config;
mod deny;
mod detect;

use async_trait::async_trait;
use switchboard_core::extension::{ExtensionContext, RequestContext};
use switchboard_core::{
    ChatEvent, ChatRequest, ChatResponse, ContentPart, Error, Extension, ExtensionInit,
    RequestAction, Role, extension,
};

pub use config::{
    CustomPattern, DEFAULT_MAX_MATCH_CHARS, DetectorMode, GuardrailsConfig, MAX_MATCH_CHARS_LIMIT,
    MAX_PATTERNS, RedactConfig,
};

use deny::{DenySet, HeldText};
use detect::Redactor;

/// Redacts personal data and secrets from requests and refuses answers
/// matching deny patterns.
#[extension(name = "guardrails", config = GuardrailsConfig, hooks(on_request, on_response, on_event))]
#[derive(Debug)]
pub struct Guardrails {
    redactor: Redactor,
    deny: Option<DenySet>,
}

impl Guardrails {
    /// Compiles the detectors and deny patterns of `config` (once; every
    /// request reuses them).
    pub fn new(config: &GuardrailsConfig) -> Result<Self, Error> {
        Ok(Guardrails {
            redactor: Redactor::new(&config.redact)?,
            deny: DenySet::new(
                &config.deny,
                config.deny_case_insensitive,
                config.max_match_chars,
            )?,
        })
    }

    /// `request` with every finding in user, system, developer and tool
    /// message text replaced by its placeholder, or the refusal of a
    /// block-mode detector.
    pub fn redact_request(&self, request: &mut ChatRequest) -> Result<(), Error> {
        if self.redactor.is_empty() {
            return Ok(());
        }
        for message in &mut request.messages {
            if message.role == Role::Assistant {
                continue;
            }
            for part in &mut message.content {
                let ContentPart::Text { text } = part else {
                    continue;
                };
                match self.redactor.redact(text) {
                    Ok(std::borrow::Cow::Borrowed(_)) => {}
                    Ok(std::borrow::Cow::Owned(redacted)) => *text = redacted,
                    Err(blocked) => {
                        return Err(Error::content_filter(format!(
                            "the request was refused by the guardrails extension: it contains {} (detector `{}`)",
                            blocked.what, blocked.detector
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Extension for Guardrails {
    async fn on_request(
        &self,
        _ctx: &mut RequestContext,
        request: &mut ChatRequest,
    ) -> Result<RequestAction, Error> {
        self.redact_request(request)?;
        Ok(RequestAction::Continue)
    }

    async fn on_response(
        &self,
        _ctx: &mut RequestContext,
        response: &mut ChatResponse,
    ) -> Result<(), Error> {
        match &self.deny {
            Some(deny) => deny.check(&response.text()),
            None => Ok(()),
        }
    }

    fn on_event(
        &self,
        ctx: &mut RequestContext,
        event: ChatEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<(), Error> {
        let Some(deny) = &self.deny else {
            out.push(event);
            return Ok(());
        };
        match event {
            ChatEvent::TextDelta { text } => {
                deny.push_text(ctx.scratch.get_or_default::<HeldText>(), &text, out)
            }
            // Usage does not end the text: keep holding.
            ChatEvent::Usage(_) => {
                out.push(event);
                Ok(())
            }
            ChatEvent::Finish { .. } => {
                if let Some(mut held) = ctx.scratch.remove::<HeldText>() {
                    deny.release(&mut held, out);
                }
                out.push(event);
                Ok(())
            }
            // Anything else (tool calls, reasoning) follows the text so far:
            // release it first so the order is kept.
            other => {
                if let Some(held) = ctx.scratch.get_mut::<HeldText>() {
                    deny.release(held, out);
                }
                out.push(other);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl ExtensionInit for Guardrails {
    type Config = GuardrailsConfig;

    fn validate(config: &GuardrailsConfig) -> Result<(), Error> {
        Guardrails::new(config).map(drop)
    }

    async fn init(config: GuardrailsConfig, _ctx: ExtensionContext) -> Result<Self, Error> {
        Guardrails::new(&config)
    }
}
