//! `EmbeddingsRequest`/`EmbeddingsResponse` ⇄ OpenAI embeddings.

use std::borrow::Cow;

use serde_json::{Map, Value};
use switchboard_core::{EmbeddingsRequest, EmbeddingsResponse, Error, Usage};

use super::types::{
    CreateEmbeddingRequest, CreateEmbeddingResponse, Embedding, EmbeddingInput, EmbeddingUsage,
    EmbeddingVector, EncodingFormat,
};
use crate::base64;

/// An embeddings request received on the OpenAI-compatible API: the core
/// request plus the encoding the client wants the vectors in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundEmbeddingsRequest {
    /// The request in core terms.
    pub request: EmbeddingsRequest,
    /// `encoding_format` as sent (`None` means float).
    pub encoding_format: Option<EncodingFormat>,
}

/// Converts a core embeddings request into an OpenAI one, borrowing from it.
/// One input is sent as a string, several as an array. `extra` is merged into
/// the top level; an `encoding_format` there (`float`/`base64`) fills the
/// typed field, and entries duplicating `model`, `input`, `dimensions` or
/// `user` are an error. Either encoding of the answer is understood by
/// [`from_wire_embeddings_response`].
pub fn to_wire_embeddings_request(
    req: &EmbeddingsRequest,
) -> Result<CreateEmbeddingRequest<'_>, Error> {
    let input = match req.input.as_slice() {
        [one] => EmbeddingInput::Text(Cow::Borrowed(one)),
        many => EmbeddingInput::Texts(many.iter().map(|s| Cow::Borrowed(s.as_str())).collect()),
    };
    let mut wire = CreateEmbeddingRequest {
        input,
        model: Cow::Borrowed(&req.model),
        encoding_format: None,
        dimensions: req.dimensions,
        user: req.user.as_deref().map(Cow::Borrowed),
        extra: Map::new(),
    };
    for (key, value) in &req.extra {
        match key.as_str() {
            "model" | "input" | "dimensions" | "user" => {
                return Err(Error::invalid_param(
                    format!("extra.{key}"),
                    format!("`{key}` has its own request field; set it there, not in `extra`"),
                ));
            }
            "encoding_format" => {
                wire.encoding_format =
                    Some(serde_json::from_value(value.clone()).map_err(|_| {
                        Error::invalid_param(
                            "extra.encoding_format",
                            "`encoding_format` must be `float` or `base64`",
                        )
                    })?);
            }
            _ => {
                wire.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(wire)
}

/// Parses an OpenAI embeddings request body (the gateway's inbound API);
/// errors name the bad field as [`parse_chat_request`](super::parse_chat_request)'s do.
pub fn parse_embeddings_request(body: &[u8]) -> Result<InboundEmbeddingsRequest, Error> {
    let wire: CreateEmbeddingRequest<'_> = crate::parse_inbound(body)?;
    from_wire_embeddings_request(wire)
}

/// Converts an OpenAI embeddings request into a core one. Pre-tokenized
/// input (arrays of token ids) has no core form and is an
/// [`Unsupported`](switchboard_core::ErrorKind::Unsupported) error on `input`.
/// Unknown fields go to `extra`.
pub fn from_wire_embeddings_request(
    wire: CreateEmbeddingRequest<'_>,
) -> Result<InboundEmbeddingsRequest, Error> {
    let input = match wire.input {
        EmbeddingInput::Text(s) => vec![s.into_owned()],
        EmbeddingInput::Texts(v) => v.into_iter().map(Cow::into_owned).collect(),
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
            return Err(Error::unsupported(
                "pre-tokenized embeddings input (arrays of token ids) is not supported; send text",
            )
            .with_param("input"));
        }
    };
    Ok(InboundEmbeddingsRequest {
        request: EmbeddingsRequest {
            model: wire.model.into_owned(),
            input,
            dimensions: wire.dimensions,
            user: wire.user.map(Cow::into_owned),
            extra: wire.extra,
        },
        encoding_format: wire.encoding_format,
    })
}

/// Decodes a base64 vector of little-endian `f32`s.
pub fn decode_base64_vector(data: &str) -> Result<Vec<f32>, Error> {
    let bytes =
        base64::decode(data).ok_or_else(|| Error::protocol("an embedding is not valid base64"))?;
    if bytes.len() % 4 != 0 {
        return Err(Error::protocol(
            "a base64 embedding's length is not a multiple of 4 bytes",
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Encodes a vector as base64 of little-endian `f32`s.
pub fn encode_base64_vector(vector: &[f32]) -> String {
    let mut bytes = Vec::with_capacity(vector.len() * 4);
    for x in vector {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    base64::encode(&bytes)
}

/// Parses an upstream embeddings body.
pub fn parse_embeddings_response(body: &[u8]) -> Result<EmbeddingsResponse, Error> {
    let wire: CreateEmbeddingResponse<'_> = crate::parse_upstream(body, "embeddings response")?;
    from_wire_embeddings_response(wire)
}

/// Converts an OpenAI embeddings response into a core one: vectors in
/// `index` order, base64 vectors decoded, `prompt_tokens` as input tokens.
/// Indices that are not exactly `0..n` are a protocol error.
pub fn from_wire_embeddings_response(
    wire: CreateEmbeddingResponse<'_>,
) -> Result<EmbeddingsResponse, Error> {
    let mut data = wire.data;
    data.sort_by_key(|e| e.index);
    let mut embeddings = Vec::with_capacity(data.len());
    for (i, e) in data.into_iter().enumerate() {
        if usize::try_from(e.index).ok() != Some(i) {
            return Err(Error::protocol(format!(
                "embedding indices are not 0..{}: missing or repeated index {i}",
                embeddings.len() + 1
            )));
        }
        embeddings.push(match e.embedding {
            EmbeddingVector::Float(v) => v.into_owned(),
            EmbeddingVector::Base64(s) => decode_base64_vector(&s)?,
        });
    }
    let EmbeddingUsage {
        prompt_tokens,
        total_tokens,
        ..
    } = wire.usage;
    Ok(EmbeddingsResponse {
        model: wire.model.into_owned(),
        provider: String::new(),
        embeddings,
        usage: Usage {
            input_tokens: prompt_tokens,
            total_tokens: total_tokens.max(prompt_tokens),
            ..Default::default()
        },
    })
}

/// Converts a core embeddings response into an OpenAI one in the encoding
/// the client asked for (float vectors are borrowed, not copied).
pub fn to_wire_embeddings_response(
    resp: &EmbeddingsResponse,
    encoding: EncodingFormat,
) -> CreateEmbeddingResponse<'_> {
    let data = resp
        .embeddings
        .iter()
        .enumerate()
        .map(|(i, v)| Embedding {
            object: Cow::Borrowed("embedding"),
            embedding: match encoding {
                EncodingFormat::Float => EmbeddingVector::Float(Cow::Borrowed(v)),
                EncodingFormat::Base64 => {
                    EmbeddingVector::Base64(Cow::Owned(encode_base64_vector(v)))
                }
            },
            index: u32::try_from(i).unwrap_or(u32::MAX),
        })
        .collect();
    CreateEmbeddingResponse {
        object: Cow::Borrowed("list"),
        data,
        model: Cow::Borrowed(&resp.model),
        usage: EmbeddingUsage {
            prompt_tokens: resp.usage.input_tokens,
            total_tokens: resp.usage.total_tokens,
            extra: Map::new(),
        },
        extra: Map::<String, Value>::new(),
    }
}
