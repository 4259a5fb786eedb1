//! `Retry-After` parsing shared by the wire formats: the header (delay
//! seconds or an HTTP-date), OpenAI's `retry-after-ms`, and a delay written in
//! an error message.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses a `Retry-After` value: delay seconds (`"26"`, leniently `"1.5"`) or
/// an HTTP-date (IMF-fixdate, RFC 850 or asctime), measured from now. A date
/// in the past is a zero delay; an unparseable value is `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    parse_retry_after_at(value, SystemTime::now())
}

/// [`parse_retry_after`] with an explicit "now" (for tests and replay).
pub fn parse_retry_after_at(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a `retry-after-ms` value (OpenAI's SDKs honour it): milliseconds,
/// possibly fractional.
pub fn parse_retry_after_ms(value: &str) -> Option<Duration> {
    let ms = value.trim().parse::<f64>().ok()?;
    Duration::try_from_secs_f64(ms / 1000.0).ok()
}

/// Finds a delay in an error message such as OpenAI's "Please try again in
/// 26.604s." or "try again in 1m30s" / "in 20ms".
pub fn retry_delay_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let start = lower.find("try again in ")? + "try again in ".len();
    parse_go_duration(&lower[start..])
}

/// Parses the start of `s` as a Go-style duration (`1h2m3.5s`, `20ms`).
fn parse_go_duration(s: &str) -> Option<Duration> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total = 0.0f64;
    let mut any = false;
    loop {
        let num_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        if i == num_start {
            break;
        }
        let Ok(n) = s[num_start..i].parse::<f64>() else {
            break;
        };
        let factor = if s[i..].starts_with("ms") {
            i += 2;
            0.001
        } else if s[i..].starts_with('h') {
            i += 1;
            3600.0
        } else if s[i..].starts_with('m') {
            i += 1;
            60.0
        } else if s[i..].starts_with('s') {
            i += 1;
            1.0
        } else {
            break;
        };
        total += n * factor;
        any = true;
    }
    if !any {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses an HTTP-date in any of the three formats RFC 9110 requires
/// recipients to accept (`Sun, 06 Nov 1994 08:49:37 GMT`,
/// `Sunday, 06-Nov-94 08:49:37 GMT`, `Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let tokens: Vec<&str> = s.split([' ', ',', '-']).filter(|t| !t.is_empty()).collect();
    let month_of = |t: &str| {
        MONTHS
            .iter()
            .position(|m| t.eq_ignore_ascii_case(m))
            .and_then(|p| u32::try_from(p + 1).ok())
    };
    let (day, month, year, time) = match tokens.as_slice() {
        // IMF-fixdate and RFC 850: weekday, day, month, year, time, GMT
        [_, day, mon, year, time, zone] if zone.eq_ignore_ascii_case("gmt") => {
            let mut year: i64 = year.parse().ok()?;
            if year < 100 {
                year += if year < 70 { 2000 } else { 1900 };
            }
            (day.parse().ok()?, month_of(mon)?, year, *time)
        }
        // asctime: weekday, month, day, time, year
        [_, mon, day, time, year] => (day.parse().ok()?, month_of(mon)?, year.parse().ok()?, *time),
        _ => return None,
    };
    let mut hms = time.split(':').map(str::parse::<u32>);
    let (h, m, sec) = match (hms.next(), hms.next(), hms.next(), hms.next()) {
        (Some(Ok(h)), Some(Ok(m)), Some(Ok(s)), None) => (h, m, s),
        _ => return None,
    };
    if !(1..=31).contains(&day) || !(1..=9999).contains(&year) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec);
    let secs = u64::try_from(secs).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delay_seconds() {
        assert_eq!(parse_retry_after("26"), Some(Duration::from_secs(26)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("-3"), None);
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("99999999999999999999999"), None);
    }

    #[test]
    fn http_dates_in_all_three_formats() {
        // 1994-11-06 08:49:37 UTC
        let t = 784_111_777;
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s), Some(at(t)), "{s}");
        }
        assert_eq!(
            parse_retry_after_at("Sun, 06 Nov 1994 08:50:07 GMT", at(t)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after_at("Sun, 06 Nov 1994 08:49:07 GMT", at(t)),
            Some(Duration::ZERO),
            "a date in the past means retry now"
        );
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49 GMT"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 99999999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 -5"), None);
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(at(1_835_438_400))
        );
    }

    #[test]
    fn retry_after_ms() {
        assert_eq!(
            parse_retry_after_ms("1500"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after_ms("12.5"),
            Some(Duration::from_micros(12_500))
        );
        assert_eq!(parse_retry_after_ms("x"), None);
    }

    #[test]
    fn delay_from_message() {
        let msg = "Rate limit reached for gpt-4 in organization org-x on tokens per min (TPM): Limit 10000, Used 9348, Requested 5086. Please try again in 26.604s. Visit https://platform.openai.com/account/rate-limits to learn more.";
        assert_eq!(
            retry_delay_in_message(msg),
            Some(Duration::from_millis(26_604))
        );
        assert_eq!(
            retry_delay_in_message("Please try again in 1m30s."),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            retry_delay_in_message("please try again in 20ms"),
            Some(Duration::from_millis(20))
        );
        assert_eq!(retry_delay_in_message("Please try again later."), None);
        assert_eq!(retry_delay_in_message("no hint"), None);
    }
}
