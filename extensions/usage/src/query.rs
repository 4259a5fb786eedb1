//! The `get` method: its arguments, who sees what, and its result.

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::Error;
use switchboard_core::extension::{LedgerGroup, LedgerQuery, MethodCall, MethodInfo};

/// The arguments of `get` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GetArgs {
    #[serde(default)]
    group_by: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// The `get` method's description and schemas.
pub fn get_method() -> MethodInfo {
    MethodInfo::new(
        "get",
        "Usage and cost totals from the ledger, grouped by client key, model, instance or UTC \
         day. A client key sees only its own requests; the admin token sees everything.",
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "group_by": {
                    "type": "string",
                    "enum": ["key", "model", "instance", "day", "all"],
                    "default": "all",
                    "description": "How totals are grouped."
                },
                "from": {
                    "type": "string",
                    "description": "Rows at or after this time: RFC 3339 (2026-12-01T00:00:00Z) or a UTC date (2026-12-01)."
                },
                "to": {
                    "type": "string",
                    "description": "Rows before this time: RFC 3339, or a UTC date (that whole day included)."
                }
            }
        }),
        json!({
            "type": "object",
            "required": ["totals", "group_by"],
            "properties": {
                "totals": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["group", "requests", "input_tokens", "output_tokens", "cost_usd"],
                        "properties": {
                            "group": {"type": "string"},
                            "requests": {"type": "integer"},
                            "input_tokens": {"type": "integer"},
                            "output_tokens": {"type": "integer"},
                            "cached_input_tokens": {"type": "integer"},
                            "cache_write_input_tokens": {"type": "integer"},
                            "reasoning_tokens": {"type": "integer"},
                            "cost_usd": {"type": "number"},
                            "estimated_requests": {"type": "integer"}
                        }
                    }
                },
                "group_by": {"type": "string"},
                "from": {"type": ["string", "null"]},
                "to": {"type": ["string", "null"]},
                "key": {"type": ["string", "null"], "description": "The client key the totals are limited to."}
            }
        }),
    )
}

/// The ledger query a `get` call asks for, with the visibility rule
/// applied: the admin sees every row, a client key only its own, anyone
/// else nothing (a permission error).
pub fn ledger_query(call: &MethodCall) -> Result<LedgerQuery, Error> {
    let args: GetArgs = if call.arguments.is_null() {
        GetArgs::default()
    } else {
        serde_json::from_value(call.arguments.clone())
            .map_err(|e| Error::invalid_request(format!("usage.get arguments: {e}")))?
    };
    let group_by = match args.group_by.as_deref().unwrap_or("all") {
        "all" => LedgerGroup::All,
        "key" => LedgerGroup::Key,
        "model" => LedgerGroup::Model,
        "instance" => LedgerGroup::Instance,
        "day" => LedgerGroup::Day,
        other => {
            return Err(Error::invalid_param(
                "group_by",
                format!("`group_by` must be one of key, model, instance, day, all (got `{other}`)"),
            ));
        }
    };
    let from_ms = args
        .from
        .as_deref()
        .map(|s| parse_time(s, false).map_err(|m| Error::invalid_param("from", m)))
        .transpose()?;
    let to_ms = args
        .to
        .as_deref()
        .map(|s| parse_time(s, true).map_err(|m| Error::invalid_param("to", m)))
        .transpose()?;
    let key_id = if call.admin {
        None
    } else if let Some(key) = &call.client_key {
        Some(key.id.to_string())
    } else {
        return Err(Error::permission(
            "usage totals need a client key (which sees its own usage) or the admin token",
        ));
    };
    Ok(LedgerQuery {
        group_by,
        from_ms,
        to_ms,
        key_id,
    })
}

/// The `get` result for `query` and its totals.
pub fn get_result(
    query: &LedgerQuery,
    call: &MethodCall,
    totals: Vec<switchboard_core::extension::LedgerTotal>,
) -> Value {
    let group_by = match query.group_by {
        LedgerGroup::All => "all",
        LedgerGroup::Key => "key",
        LedgerGroup::Model => "model",
        LedgerGroup::Instance => "instance",
        LedgerGroup::Day => "day",
    };
    let arg = |k: &str| call.arguments.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "totals": totals,
        "group_by": group_by,
        "from": arg("from"),
        "to": arg("to"),
        "key": query.key_id,
    })
}

/// Milliseconds since the epoch of `YYYY-MM-DD` (UTC midnight; with
/// `end_of_day`, the next midnight, so the day is included in a `to`) or an
/// RFC 3339 time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`).
pub fn parse_time(s: &str, end_of_day: bool) -> Result<i64, String> {
    let bad =
        || format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-12-01T08:00:00Z)");
    let s = s.trim();
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let day = parse_date(date).ok_or_else(bad)?;
    let Some(time) = time else {
        return Ok((day + i64::from(end_of_day)) * 86_400_000);
    };
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-']).ok_or_else(bad)?;
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':').ok_or_else(bad)?;
        let (h, m) = (num(h, 2).ok_or_else(bad)?, num(m, 2).ok_or_else(bad)?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        (c, sign * (h * 60 + m))
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, frac)) if !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()) => {
            (hms, frac)
        }
        Some(_) => return Err(bad()),
        None => (clock, ""),
    };
    let mut parts = hms.split(':');
    let (Some(h), Some(m), Some(sec), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let (h, m, sec) = (
        num(h, 2).ok_or_else(bad)?,
        num(m, 2).ok_or_else(bad)?,
        num(sec, 2).ok_or_else(bad)?,
    );
    if h > 23 || m > 59 || sec > 60 {
        return Err(bad());
    }
    let ms: i64 = format!("{frac:0<3}")[..3].parse().map_err(|_| bad())?;
    let secs = day * 86_400 + h * 3_600 + m * 60 + sec - offset_min * 60;
    Ok(secs * 1_000 + ms)
}

fn num(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Days since 1970-01-01 of a valid `YYYY-MM-DD` (Howard Hinnant's
/// days-from-civil).
fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let month = usize::try_from(m).ok()?.checked_sub(1)?;
    if d < 1 || d > *days_in.get(month)? {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_core::extension::utc_day;

    #[test]
    fn dates_and_times_parse_to_epoch_ms() {
        assert_eq!(parse_time("1970-01-01", false), Ok(0));
        assert_eq!(parse_time("1970-01-01", true), Ok(86_400_000));
        assert_eq!(parse_time("2000-02-29", false), Ok(951_782_400_000));
        assert_eq!(
            parse_time("2026-12-03T08:00:00Z", false),
            Ok(1_796_284_800_000)
        );
        assert_eq!(
            parse_time("2026-12-03T09:00:00.5+01:00", false),
            Ok(1_796_284_800_500)
        );
        assert_eq!(
            parse_time("2026-12-03T07:30:00-00:30", false),
            Ok(1_796_284_800_000)
        );
        for ms in [0, 951_782_400_000, 1_796_284_800_000] {
            let day = utc_day(ms);
            assert_eq!(parse_time(&day, false).map(utc_day), Ok(day));
        }
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "yesterday",
            "2026-12-03T25:00:00Z",
            "2026-12-03T08:00",
            "2026-1-01",
            "",
        ] {
            assert!(parse_time(bad, false).is_err(), "{bad}");
        }
    }
}
