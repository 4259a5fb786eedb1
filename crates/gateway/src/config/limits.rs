//! Bounds on configured durations, so that no `Instant + Duration` or
//! millisecond arithmetic overflows anywhere (the runtime's, a provider's):
//! every `*_ms`, `*_secs` or `*_seconds` value, in every section and every
//! provider's settings, must be at most [`MAX_DURATION`] (a year), and
//! `health.probe_interval_ms` must not be 0. Checked when a configuration is
//! loaded or given to the builder, and on every runtime config update.

use std::time::Duration;

use serde_json::Value;

/// The longest duration a configuration may set: 365 days. Longer means
/// "never" in practice, and keeps deadline arithmetic far from overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The unit of a duration key, by its suffix, as milliseconds per unit.
fn unit(key: &str) -> Option<(u64, &'static str)> {
    let k = key.to_ascii_lowercase();
    if k.ends_with("_ms") {
        Some((1, "milliseconds"))
    } else if k.ends_with("_secs") || k.ends_with("_seconds") {
        Some((1000, "seconds"))
    } else {
        None
    }
}

/// Every out-of-range duration in `value` (a whole config or one
/// instance's settings), as (key path below `prefix`, message).
pub(crate) fn duration_issues(value: &Value, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk(value, prefix, &mut out);
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn walk(value: &Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let here = join(path, k);
                match (unit(k), v) {
                    (Some((per_unit, name)), Value::Number(n)) => {
                        let max = MAX_DURATION.as_millis() as u64 / per_unit;
                        let too_big = match n.as_u64() {
                            Some(u) => u > max,
                            None => n.as_f64().is_some_and(|f| f > max as f64),
                        };
                        if too_big {
                            out.push((
                                here,
                                format!("{n} {name} is too long: at most {max} {name} (365 days)"),
                            ));
                        } else if here == "health.probe_interval_ms" && n.as_u64() == Some(0) {
                            out.push((
                                here,
                                "must be greater than 0; leave it out to turn probes off"
                                    .to_owned(),
                            ));
                        }
                    }
                    _ => walk(v, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                walk(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Every out-of-range duration of `config`, each located by `locate` (the
/// file or `SWITCHBOARD_*` variable that set the key, when known).
pub(crate) fn config_issues(
    config: &super::types::Config,
    locate: impl Fn(&str) -> (Option<std::path::PathBuf>, Option<String>),
) -> Vec<super::ConfigIssue> {
    let Ok(value) = serde_json::to_value(config) else {
        return Vec::new();
    };
    duration_issues(&value, "")
        .into_iter()
        .map(|(key, message)| {
            let (file, env_var) = locate(&key);
            super::ConfigIssue {
                file,
                env_var,
                key,
                message,
            }
        })
        .collect()
}

/// Checks a configuration given as a value (not loaded from files).
pub(crate) fn check_config(config: &super::types::Config) -> Result<(), super::ConfigError> {
    let issues = config_issues(config, |_| (None, None));
    if issues.is_empty() {
        Ok(())
    } else {
        Err(super::ConfigError { issues })
    }
}

/// The first out-of-range duration of an instance's `settings`, as a config
/// error naming the key (for runtime updates).
pub(crate) fn check_instance(
    instance: &str,
    settings: &serde_json::Map<String, Value>,
) -> Result<(), switchboard_core::Error> {
    let value = Value::Object(settings.clone());
    match duration_issues(&value, "").into_iter().next() {
        Some((key, message)) => Err(switchboard_core::Error::config(format!(
            "providers.{instance}.{key}: {message}"
        ))
        .with_param(key)
        .with_instance(instance.to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn huge_durations_are_found_everywhere() {
        let v = json!({
            "router": {"timeout_ms": u64::MAX, "max_attempts": u64::MAX},
            "health": {"probe_interval_ms": 0, "cooldown_ms": 30000},
            "providers": {"g": {"request_timeout_secs": 18446744073709551615u64,
                                "faults": [{"retry_after_ms": 1e300}]}}
        });
        let keys: Vec<String> = duration_issues(&v, "")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "health.probe_interval_ms",
                "providers.g.faults[0].retry_after_ms",
                "providers.g.request_timeout_secs",
                "router.timeout_ms"
            ]
        );
        assert!(duration_issues(&json!({"x_ms": 31_536_000_000u64, "y_secs": 60}), "").is_empty());
    }
}
