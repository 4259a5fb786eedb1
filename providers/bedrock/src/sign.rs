//! SigV4 signing of one request with `aws-sigv4` (service `bedrock`).
//!
//! The signature covers the method, the path as sent (percent-encoded once,
//! then encoded again for the canonical request, as for every AWS service
//! but S3), the headers the request carries, `host`, `x-amz-date`, the
//! session token and the SHA-256 of the exact body bytes. It is computed on
//! the finished [`Request`] that core's `Upstream::request` built, just
//! before `Upstream::fetch` / `open` send it: no hook in core is needed.
//! Source: <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html>.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use switchboard_core::Error;

use crate::credentials::AwsCredentials;

/// The SigV4 signing name of Bedrock Runtime (not `bedrock-runtime`).
pub const SIGNING_NAME: &str = "bedrock";

/// Signs requests for one region with one set of credentials.
pub struct Signer {
    identity: Identity,
    region: String,
    service: &'static str,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for Bedrock Runtime in `region` with `creds`.
    pub fn new(creds: &AwsCredentials, region: &str) -> Self {
        Self::for_service(creds, region, SIGNING_NAME)
    }

    /// A signer for another signing name (the AWS test suite's `service`).
    pub fn for_service(creds: &AwsCredentials, region: &str, service: &'static str) -> Self {
        let credentials = Credentials::new(
            creds.access_key_id.expose(),
            creds.secret_access_key.expose(),
            creds.session_token.as_ref().map(|t| t.expose().to_owned()),
            None,
            "switchboard-bedrock",
        );
        Signer {
            identity: credentials.into(),
            region: region.to_owned(),
            service,
        }
    }

    /// Adds `authorization`, `x-amz-date` (and `x-amz-security-token`) to
    /// `request`, signed at `time`.
    pub fn sign(&self, request: &mut Request<Bytes>, time: SystemTime) -> Result<(), Error> {
        let params = SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Error::internal(format!("SigV4 parameters: {e}")))?
            .into();
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers,
            SignableBody::Bytes(request.body()),
        )
        .map_err(|e| Error::internal(format!("SigV4 could not read the request: {e}")))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Error::config(format!("SigV4 signing failed: {e}")))?
            .into_parts();
        let (headers, _query) = instructions.into_parts();
        for header in headers {
            let name = HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|e| Error::internal(format!("SigV4 header name: {e}")))?;
            let mut value = HeaderValue::from_str(header.value()).map_err(|_| {
                Error::config(format!(
                    "the SigV4 header `{}` has characters not allowed in a header (check the credentials)",
                    header.name()
                ))
            })?;
            value.set_sensitive(header.sensitive());
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}
