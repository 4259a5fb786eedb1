//! A virtual key as it is stored: never the key itself, only its SHA-256
//! and a short prefix to recognise it by; and how keys are made and checked.

use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchboard_core::Error;

/// Every key starts with this, so a key meant for Switchboard is told
/// from a provider's at a glance (and by secret scanners).
pub const KEY_PREFIX: &str = "sk-sb-";

/// How many characters of a key are kept to show which one it is.
const SHOWN_CHARS: usize = 12;

/// What a key may spend in a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The hard limit in US dollars: past it, requests are refused.
    pub amount_usd: f64,
    /// The period the amount is for.
    #[serde(default)]
    pub period: BudgetPeriod,
    /// A soft limit: past it, answers carry a warning header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_amount_usd: Option<f64>,
}

/// A budget's period.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    /// A UTC day.
    Day,
    /// A UTC calendar month.
    #[default]
    Month,
    /// The key's whole life.
    Total,
}

/// A stored virtual key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Its id (`key_` and 16 hex digits): what logs, metrics and the ledger
    /// name.
    pub id: String,
    /// A human name.
    pub name: String,
    /// The first characters of the key, to tell which one it is.
    pub prefix: String,
    /// SHA-256 of the key, hex. Keys are 256 random bits, so a fast hash is
    /// enough (nothing to brute-force); it is never shown.
    #[serde(rename = "hash")]
    pub key_hash: String,
    /// Its team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub metadata: Value,
    /// The models and aliases it may use (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    /// What it may spend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// Unix seconds after which it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Unix seconds it was made.
    pub created_at: i64,
    /// Unix seconds it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

impl KeyRecord {
    /// Why it may not be used now, if so.
    pub fn refusal(&self, now: i64) -> Option<Error> {
        if self.revoked_at.is_some() {
            return Some(Error::auth(format!(
                "API key `{}` ({}) was revoked",
                self.id, self.prefix
            )));
        }
        match self.expires_at {
            Some(at) if at <= now => Some(Error::auth(format!(
                "API key `{}` ({}) expired at {}",
                self.id,
                self.prefix,
                rfc3339(at)
            ))),
            _ => None,
        }
    }

    /// The record as the API shows it: no hash.
    pub fn public(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("hash");
            for key in ["expires_at", "created_at", "revoked_at"] {
                if let Some(t) = m.get(key).and_then(Value::as_i64) {
                    m.insert(key.to_owned(), Value::String(rfc3339(t)));
                }
            }
            m.insert("object".to_owned(), Value::String("key".to_owned()));
        }
        v
    }
}

/// A new key: `sk-sb-` and 43 URL-safe base64 characters (256 random bits
/// from the operating system's generator).
pub fn new_key() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::internal("the system's random generator failed"))?;
    Ok(format!("{KEY_PREFIX}{}", base64_url(&bytes)))
}

/// A new key id: `key_` and 16 hex digits.
pub fn new_id() -> Result<String, Error> {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::internal("the system's random generator failed"))?;
    Ok(format!("key_{}", hex(&bytes)))
}

/// SHA-256 of `key`, hex.
pub fn hash_key(key: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, key.as_bytes()).as_ref())
}

/// The part of `key` kept to show it.
pub fn shown_prefix(key: &str) -> String {
    key.chars().take(SHOWN_CHARS).collect()
}

/// Now, in Unix seconds.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// An expiry given as RFC 3339 text or Unix seconds.
pub fn parse_expiry(v: &Value) -> Result<Option<i64>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad_expiry("a whole number of Unix seconds")),
        Value::String(s) => {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(|t| Some(t.unix_timestamp()))
                .map_err(|e| bad_expiry(&format!("an RFC 3339 time ({e})")))
        }
        _ => Err(bad_expiry("RFC 3339 text or Unix seconds")),
    }
}

fn bad_expiry(what: &str) -> Error {
    Error::invalid_request(format!("`expires_at` must be {what}")).with_param("expires_at")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_only_their_hash_is_kept() {
        let a = new_key().expect("key");
        let b = new_key().expect("key");
        assert_ne!(a, b);
        assert!(
            a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 43,
            "{a}"
        );
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_ne!(hash_key(&a), hash_key(&b));
        assert_eq!(hash_key(&a).len(), 64);
        assert!(!hash_key(&a).contains(&a[KEY_PREFIX.len()..]));
        assert_eq!(shown_prefix(&a).len(), SHOWN_CHARS);
    }

    #[test]
    fn expiry_parses_both_spellings_and_refuses_junk() {
        assert_eq!(parse_expiry(&Value::Null).expect("none"), None);
        assert_eq!(
            parse_expiry(&serde_json::json!("2030-01-01T00:00:00Z")).expect("rfc3339"),
            Some(1_893_456_000)
        );
        assert_eq!(
            parse_expiry(&serde_json::json!(1_893_456_000)).expect("secs"),
            Some(1_893_456_000)
        );
        let err = parse_expiry(&serde_json::json!("tomorrow")).expect_err("junk");
        assert_eq!(err.param(), Some("expires_at"));
        assert_eq!(rfc3339(1_893_456_000), "2030-01-01T00:00:00Z");
    }
}
