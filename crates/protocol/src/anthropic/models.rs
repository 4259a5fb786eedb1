//! `ModelInfo` ⇄ Anthropic model list (`GET /v1/models`).

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{Error, ModelInfo};

use super::types::{Model, ModelList};

/// One page of `GET /v1/models`, converted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelPage {
    /// The models of the page, newest first (as the API lists them).
    pub models: Vec<ModelInfo>,
    /// Whether another page follows.
    pub has_more: bool,
    /// The id to pass as `after_id` for the next page.
    pub last_id: Option<String>,
}

/// Parses an upstream `GET /v1/models` body.
pub fn parse_models(body: &[u8]) -> Result<ModelPage, Error> {
    let wire: ModelList<'_> = crate::parse_upstream(body, "model list")?;
    Ok(ModelPage {
        has_more: wire.has_more,
        last_id: wire.last_id.as_deref().map(str::to_owned),
        models: from_wire_models(wire),
    })
}

/// Converts a model list. `provider` is left empty for the caller to fill in.
pub fn from_wire_models(list: ModelList<'_>) -> Vec<ModelInfo> {
    list.data.into_iter().map(from_wire_model).collect()
}

fn u32_field(extra: &Map<String, Value>, key: &str) -> Option<u32> {
    extra
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Converts one model: `display_name`, `created_at` (RFC 3339) as Unix
/// seconds, `owned_by` `anthropic`; the context window and output limit from
/// `max_input_tokens` and `max_tokens` when the listing has them.
pub fn from_wire_model(m: Model<'_>) -> ModelInfo {
    ModelInfo {
        id: m.id.into_owned(),
        provider: String::new(),
        display_name: m.display_name.map(Cow::into_owned),
        context_length: u32_field(&m.extra, "max_input_tokens"),
        max_output_tokens: u32_field(&m.extra, "max_tokens"),
        capabilities: Default::default(),
        input_price_per_million: None,
        output_price_per_million: None,
        created: m.created_at.as_deref().and_then(parse_rfc3339),
        owned_by: Some("anthropic".to_owned()),
    }
}

/// Converts models into an Anthropic model list (for a gateway answering
/// Anthropic clients' `GET /v1/models`): one page holding every model.
/// `display_name` falls back to the id, `created_at` to the Unix epoch.
pub fn to_wire_models(models: &[ModelInfo]) -> ModelList<'_> {
    let data: Vec<Model<'_>> = models
        .iter()
        .map(|m| {
            let mut extra = Map::new();
            if let Some(n) = m.context_length {
                extra.insert("max_input_tokens".into(), Value::from(n));
            }
            if let Some(n) = m.max_output_tokens {
                extra.insert("max_tokens".into(), Value::from(n));
            }
            Model {
                kind: Cow::Borrowed("model"),
                id: Cow::Borrowed(&m.id),
                display_name: Some(Cow::Borrowed(m.display_name.as_deref().unwrap_or(&m.id))),
                created_at: Some(Cow::Owned(format_rfc3339(m.created.unwrap_or(0)))),
                extra,
            }
        })
        .collect();
    ModelList {
        first_id: data.first().map(|m| m.id.clone()),
        last_id: data.last().map(|m| m.id.clone()),
        has_more: false,
        data,
        extra: Map::new(),
    }
}

/// Parses an RFC 3339 timestamp (`2025-02-19T00:00:00Z`, fractional seconds
/// and `±hh:mm` offsets allowed) into Unix seconds; `None` if malformed or
/// before 1970.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || !matches!(rb[0], b'+' | b'-') || rb[3] != b':' {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            let sign = if rb[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
    };
    let month = u32::try_from(month).ok()?;
    let day = u32::try_from(day).ok()?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    u64::try_from(secs).ok()
}

/// Formats Unix seconds as RFC 3339 in UTC (`2025-02-19T00:00:00Z`).
pub fn format_rfc3339(unix: u64) -> String {
    let secs = i64::try_from(unix).unwrap_or(i64::MAX);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let d = i64::from(d);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2025-02-19T00:00:00Z"), Some(1_739_923_200));
        assert_eq!(
            parse_rfc3339("2025-02-19T02:00:00.123456+02:00"),
            Some(1_739_923_200)
        );
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339("2025-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2025-02-19"), None);
        assert_eq!(parse_rfc3339("2025-02-19T00:00:00"), None);
        assert_eq!(parse_rfc3339("2025-02-19T00:00:00.Z"), None);
        for t in [0, 1_739_923_200, 1_709_208_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
        assert_eq!(format_rfc3339(1_739_923_200), "2025-02-19T00:00:00Z");
    }
}
