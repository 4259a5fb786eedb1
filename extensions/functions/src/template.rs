//! Prompt templates: `{{param}}` placeholders (whitespace inside the braces
//! is allowed), filled with a call's arguments.

use serde_json::{Map, Value};

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    /// Text copied as is.
    Text(&'a str),
    /// A placeholder naming a parameter.
    Param(&'a str),
}

/// Whether `name` may name a placeholder (`[A-Za-z0-9_-]`, not empty).
fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Splits `template` into text and placeholders; an error message when a
/// `{{` is not closed or encloses something that is not a parameter name.
fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("a `{{` is never closed with `}}`".to_owned());
        };
        let name = after[..close].trim();
        if !is_param_name(name) {
            return Err(format!(
                "`{{{{{}}}}}` is not a placeholder: write `{{{{name}}}}` with a parameter name \
                 of letters, digits, `_` or `-`",
                &after[..close]
            ));
        }
        pieces.push(Piece::Param(name));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The parameter names `template` uses, in order of first use.
pub(crate) fn placeholders(template: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for piece in parse(template)? {
        if let Piece::Param(name) = piece
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `template` with each placeholder replaced by its argument: strings as
/// they are, other values as JSON; an argument not given renders as nothing.
pub(crate) fn render(template: &str, arguments: &Map<String, Value>) -> Result<String, String> {
    let pieces = parse(template)?;
    let mut out = String::with_capacity(template.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Param(name) => match arguments.get(name) {
                None => {}
                Some(Value::String(s)) => out.push_str(s),
                Some(other) => out.push_str(&other.to_string()),
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_each_placeholder_once() {
        let names = placeholders("Hi {{name}}, {{ topic }} and {{name}} again").expect("valid");
        assert_eq!(names, vec!["name".to_owned(), "topic".to_owned()]);
        assert_eq!(placeholders("no placeholders").expect("valid").len(), 0);
    }

    #[test]
    fn rejects_unclosed_and_bad_placeholders() {
        assert!(placeholders("Hi {{name").is_err());
        let err = placeholders("Hi {{two words}}").expect_err("bad name");
        assert!(err.contains("{{two words}}"), "{err}");
        assert!(placeholders("Hi {{}}").is_err());
    }

    #[test]
    fn renders_strings_raw_and_others_as_json() {
        let args = json!({"s": "text", "n": 3, "list": [1, "a"], "o": {"k": true}});
        let args = args.as_object().expect("object");
        let out = render("{{s}}|{{n}}|{{list}}|{{o}}|{{missing}}|", args).expect("valid");
        assert_eq!(out, r#"text|3|[1,"a"]|{"k":true}||"#);
    }

    #[test]
    fn inserted_values_are_not_expanded_again() {
        let args = json!({"a": "{{b}}", "b": "no"});
        let out = render("{{a}}", args.as_object().expect("object")).expect("valid");
        assert_eq!(out, "{{b}}");
    }
}
