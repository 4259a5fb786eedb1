//! Model ids as clouds spell them, reduced to the names the catalog lists:
//! `models/gemini-2.5-pro` (Gemini), `us.anthropic.claude-sonnet-4-20250514-v1:0`
//! (a Bedrock cross-region inference profile), `amazon.nova-pro-v1:0`
//! (a Bedrock model id), `claude-sonnet-4@20250514` (Anthropic on Vertex AI,
//! whose `@date` the catalog takes as a snapshot suffix). Slices
//! only: no allocation.

/// The geography prefixes of Bedrock's cross-region inference profiles
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html>).
const PROFILE_PREFIXES: &[&str] = &[
    "global.", "us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "ca.",
];

/// The names to look `model` up under, most specific first: the id itself
/// (without a `models/` prefix), then without a Bedrock profile prefix and
/// version suffix (`anthropic.claude-sonnet-4-20250514`), then without the
/// vendor (`claude-sonnet-4-20250514`). Repeats are `None`.
pub(crate) fn lookup_names(model: &str) -> [Option<&str>; 3] {
    let plain = model.strip_prefix("models/").unwrap_or(model);
    let profile = PROFILE_PREFIXES
        .iter()
        .find_map(|p| plain.strip_prefix(p))
        .unwrap_or(plain);
    let unversioned = strip_bedrock_version(profile);
    let vendorless = unversioned
        .split_once('.')
        .filter(|(vendor, rest)| is_vendor(vendor) && !rest.is_empty())
        .map_or(unversioned, |(_, rest)| rest);
    let second = (unversioned != plain).then_some(unversioned);
    let third = (vendorless != unversioned).then_some(vendorless);
    [Some(plain), second, third]
}

/// The vendors that prefix Bedrock model ids
/// (<https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html>).
/// A list, not a pattern: in `gpt-4.1` the dot is a version.
const VENDORS: &[&str] = &[
    "ai21",
    "amazon",
    "anthropic",
    "cohere",
    "deepseek",
    "meta",
    "mistral",
    "openai",
    "qwen",
    "writer",
];

fn is_vendor(s: &str) -> bool {
    VENDORS.contains(&s)
}

/// `…-v1:0`, `…-v2`, `…-v1:0:200k` → `…` (Bedrock's model version suffix).
fn strip_bedrock_version(id: &str) -> &str {
    let Some(at) = id.rfind("-v") else {
        return id;
    };
    let version = &id[at + 2..];
    let mut parts = version.split(':');
    let major_is_number = parts
        .next()
        .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()));
    let rest_are_words =
        parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if major_is_number && rest_are_words && at > 0 {
        &id[..at]
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrock_ids_and_profiles_reduce_to_the_model_name() {
        assert_eq!(
            lookup_names("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            [
                Some("us.anthropic.claude-sonnet-4-20250514-v1:0"),
                Some("anthropic.claude-sonnet-4-20250514"),
                Some("claude-sonnet-4-20250514"),
            ]
        );
        assert_eq!(
            lookup_names("amazon.nova-pro-v1:0"),
            [
                Some("amazon.nova-pro-v1:0"),
                Some("amazon.nova-pro"),
                Some("nova-pro")
            ]
        );
        assert_eq!(
            lookup_names("anthropic.claude-3-haiku-20240307-v1:0:200k")[2],
            Some("claude-3-haiku-20240307")
        );
        assert_eq!(
            lookup_names("meta.llama3-1-70b-instruct-v1:0")[2],
            Some("llama3-1-70b-instruct")
        );
    }

    #[test]
    fn other_ids_are_left_alone() {
        assert_eq!(lookup_names("gpt-4o"), [Some("gpt-4o"), None, None]);
        assert_eq!(
            lookup_names("models/gemini-2.0-flash"),
            [Some("gemini-2.0-flash"), None, None]
        );
        // A dot that is a version, not a vendor; a `-v` that is not a version.
        assert_eq!(lookup_names("gpt-4.1"), [Some("gpt-4.1"), None, None]);
        assert_eq!(
            lookup_names("my-model-vision"),
            [Some("my-model-vision"), None, None]
        );
        assert_eq!(lookup_names("-v1"), [Some("-v1"), None, None]);
    }
}
