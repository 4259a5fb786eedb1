//! The inbound Gemini API: `POST /v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse` (also under `/v1/models/`), so Google's
//! `google-genai` SDKs work against any provider.
//!
//! The model is everything between `models/` and the last `:` — it may hold
//! `/` (raw or as `%2F`), as aliases like `m/mock-1` do. The client key is
//! read from `x-goog-api-key` (then `x-api-key`, `Authorization: Bearer`),
//! or from the `?key=` query parameter Google's REST API also accepts.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::Response;
use switchboard_core::{ChatResponse, Error};
use switchboard_protocol::gemini::inbound::{self, GeminiStreamEncoder};

use crate::chat::{InboundChat, InboundChatApi, handle_chat_with};
use crate::error::{ApiError, Format};
use crate::overhead::Arrival;
use crate::response::to_json;
use crate::state::SharedState;

/// Generate content (Gemini API), whole or streamed.
#[utoipa::path(
    post, path = "/v1beta/models/{model}:generateContent", tag = "gemini",
    params(("model" = String, Path, description = "The model or alias; `:streamGenerateContent?alt=sse` streams. Also under `/v1/models/`.")),
    request_body(content = Object, description = "A Gemini `GenerateContentRequest`", content_type = "application/json"),
    responses(
        (status = 200, description = "A `GenerateContentResponse`, or for `:streamGenerateContent?alt=sse` an SSE stream of them"),
        (status = 400, description = "Malformed JSON or invalid parameters (`INVALID_ARGUMENT`)"),
        (status = 401, description = "Missing or invalid client API key (`x-goog-api-key` or `?key=`)"),
        (status = 404, description = "Unknown model or method (`NOT_FOUND`)"),
        (status = 429, description = "Rate limited upstream (`RESOURCE_EXHAUSTED`)"),
    )
)]
pub(crate) async fn generate_content(
    arrival: Arrival,
    State(state): State<SharedState>,
    request_id: Option<axum::Extension<crate::middleware::RequestId>>,
    uri: Uri,
    mut headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (model, stream) = model_and_method(&uri).map_err(GeminiApi::error)?;
    if let Some(key) = query_param(&uri, "key")
        && !headers.contains_key("x-goog-api-key")
        && let Ok(value) = HeaderValue::from_str(&key)
    {
        headers.insert("x-goog-api-key", value);
    }
    let parse = move |bytes: &[u8]| {
        Ok(InboundChat {
            request: inbound::parse_generate_content_request(bytes, &model)?,
            stream,
            stream_options: (),
        })
    };
    handle_chat_with::<GeminiApi>(arrival, state, request_id, headers, body, parse).await
}

/// The model and whether the method streams, from the request's path and
/// query. Only SSE streams (`alt=sse`, which Google's SDKs always ask for)
/// are served.
fn model_and_method(uri: &Uri) -> Result<(String, bool), Error> {
    let path = uri.path();
    let rest = path
        .strip_prefix("/v1beta/models/")
        .or_else(|| path.strip_prefix("/v1/models/"))
        .unwrap_or(path);
    let rest = percent_decode(rest);
    let Some((model, method)) = rest.rsplit_once(':') else {
        return Err(Error::not_found(format!(
            "no method in `{path}`; expected `models/{{model}}:generateContent` or `:streamGenerateContent`"
        )));
    };
    let stream = match method {
        "generateContent" => false,
        "streamGenerateContent" => {
            if query_param(uri, "alt").as_deref() != Some("sse") {
                return Err(Error::unsupported(
                    "only server-sent event streams are served: add `?alt=sse`",
                )
                .with_param("alt"));
            }
            true
        }
        other => {
            return Err(Error::not_found(format!(
                "method `{other}` is not served; use `generateContent` or `streamGenerateContent`"
            )));
        }
    };
    if model.is_empty() {
        return Err(Error::invalid_param("model", "the model is empty"));
    }
    Ok((model.to_owned(), stream))
}

/// The first value of query parameter `name`, percent-decoded.
fn query_param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(&v.replace('+', " ")))
    })
}

/// `%XX` escapes decoded (invalid ones kept as they are; invalid UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Gemini API.
#[derive(Debug)]
pub(crate) struct GeminiApi;

impl InboundChatApi for GeminiApi {
    const METRICS_LABEL: &'static str = "gemini";
    const API: switchboard_core::extension::InboundApi =
        switchboard_core::extension::InboundApi::Gemini;
    const ERROR_FORMAT: Format = Format::Gemini;
    type StreamOptions = ();
    type Encoder = GeminiStreamEncoder;

    /// The model is in the path: requests are parsed by [`generate_content`].
    fn parse(_body: &[u8]) -> Result<InboundChat<()>, Error> {
        Err(Error::internal(
            "a Gemini request's model is in its path; it is parsed by its route",
        ))
    }

    fn stream_encoder((): ()) -> GeminiStreamEncoder {
        GeminiStreamEncoder::new()
    }

    fn response_body(response: &ChatResponse) -> Result<Vec<u8>, Error> {
        to_json(&inbound::to_wire_response(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(uri: &str) -> Result<(String, bool), Error> {
        model_and_method(&uri.parse::<Uri>().expect("a valid URI"))
    }

    #[test]
    fn paths_name_model_and_method() {
        assert_eq!(
            parse("/v1beta/models/m/mock-1:generateContent").expect("ok"),
            ("m/mock-1".to_owned(), false)
        );
        assert_eq!(
            parse("/v1/models/m%2Fmock-1:streamGenerateContent?alt=sse").expect("ok"),
            ("m/mock-1".to_owned(), true)
        );
        assert!(parse("/v1beta/models/x:streamGenerateContent").is_err());
        assert!(parse("/v1beta/models/x:countTokens").is_err());
        assert!(parse("/v1beta/models/x").is_err());
    }

    #[test]
    fn query_params_are_decoded() {
        let uri: Uri = "/v1beta/models/x:generateContent?alt=sse&key=a%2Bb"
            .parse()
            .expect("a valid URI");
        assert_eq!(query_param(&uri, "key").as_deref(), Some("a+b"));
        assert_eq!(query_param(&uri, "nope"), None);
    }
}
