//! `${VAR}` and `${VAR:-default}` substitution in string values; `$${` is a
//! literal `${`.

/// What substituting one string gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    /// The new string.
    pub(crate) value: String,
    /// The variables referenced, in order (their values or defaults were used).
    pub(crate) vars: Vec<String>,
}

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SubstError {
    /// `${NAME}` with `NAME` unset and no default.
    Missing(String),
    /// `${` without a closing `}`.
    Unterminated,
    /// `${...}` whose name is not a variable name.
    BadName(String),
}

impl SubstError {
    /// The message for a config issue about this string.
    pub(crate) fn message(&self) -> String {
        match self {
            SubstError::Missing(var) => format!(
                "environment variable `{var}` is not set (referenced as `${{{var}}}`); \
                 set it, add it to a `.env` file, or give a default with `${{{var}:-default}}`"
            ),
            SubstError::Unterminated => {
                "`${` is not closed by `}`; write `$${` for a literal `${`".to_owned()
            }
            SubstError::BadName(name) => format!(
                "`${{{name}}}` is not a variable reference: a variable name has letters, digits \
                 and `_` and does not start with a digit; write `$${{` for a literal `${{`"
            ),
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Substitutes every `${...}` in `s`. `None` when `s` has nothing to
/// substitute (no `${`), so callers keep the original value untouched.
pub(crate) fn substitute(
    s: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Substituted>, SubstError> {
    if !s.contains("${") {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut vars = Vec::new();
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let Some(close) = tail.find('}') else {
                return Err(SubstError::Unterminated);
            };
            let inner = &tail[..close];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !valid_name(name) {
                return Err(SubstError::BadName(inner.to_owned()));
            }
            let value = match (lookup(name), default) {
                (Some(v), Some(d)) if v.is_empty() => d.to_owned(),
                (Some(v), _) => v,
                (None, Some(d)) => d.to_owned(),
                (None, None) => return Err(SubstError::Missing(name.to_owned())),
            };
            out.push_str(&value);
            vars.push(name.to_owned());
            rest = &tail[close + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(Some(Substituted { value: out, vars }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            "N" => Some("3".into()),
            _ => None,
        }
    }

    fn sub(s: &str) -> Result<Option<String>, SubstError> {
        substitute(s, env).map(|o| o.map(|s| s.value))
    }

    #[test]
    fn substitutes() {
        assert_eq!(sub("plain $ text"), Ok(None));
        assert_eq!(sub("${A}"), Ok(Some("alpha".into())));
        assert_eq!(sub("x-${A}-${N}$"), Ok(Some("x-alpha-3$".into())));
        assert_eq!(sub("${B:-beta}"), Ok(Some("beta".into())));
        assert_eq!(sub("${B:-}"), Ok(Some(String::new())));
        assert_eq!(sub("${EMPTY:-d}"), Ok(Some("d".into())));
        assert_eq!(sub("${EMPTY}"), Ok(Some(String::new())));
        assert_eq!(sub("${A:-a:-b}"), Ok(Some("alpha".into())));
        assert_eq!(sub("$${A} and ${A}"), Ok(Some("${A} and alpha".into())));
        assert_eq!(sub("$$${A}"), Ok(Some("$${A}".into())));
        assert_eq!(sub("é${A}é"), Ok(Some("éalphaé".into())));
    }

    #[test]
    fn errors() {
        assert_eq!(sub("${B}"), Err(SubstError::Missing("B".into())));
        assert_eq!(sub("x ${A"), Err(SubstError::Unterminated));
        assert_eq!(sub("${}"), Err(SubstError::BadName(String::new())));
        assert_eq!(sub("${1A}"), Err(SubstError::BadName("1A".into())));
        assert_eq!(sub("${A B}"), Err(SubstError::BadName("A B".into())));
    }

    #[test]
    fn records_variables() {
        let s = substitute("${A}${B:-x}", env).ok().flatten();
        assert_eq!(
            s.map(|s| s.vars),
            Some(vec!["A".to_owned(), "B".to_owned()])
        );
    }
}
