//! The service account's JWT assertion (RFC 7523), signed RS256 with
//! `ring`, as `google-auth` builds it (`google/oauth2/service_account.py`
//! `_make_authorization_grant_assertion`): header
//! `{"typ": "JWT", "alg": "RS256", "kid": <private_key_id>}`, claims
//! `{iat, exp = iat + 3600, iss = client_email, aud = token endpoint, scope}`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde::Serialize;
use switchboard_core::Error;

/// The scope asked for: all of Google Cloud (what Vertex AI requires).
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// How long an assertion is valid: one hour, the most Google accepts.
pub const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// The JOSE header.
#[derive(Debug, Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// The claims of the assertion.
#[derive(Debug, Serialize)]
struct Claims<'a> {
    iat: u64,
    exp: u64,
    iss: &'a str,
    aud: &'a str,
    scope: &'a str,
}

/// A service account's signing key.
pub struct Signer {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").finish_non_exhaustive()
    }
}

impl Signer {
    /// The key from its PEM text (`-----BEGIN PRIVATE KEY-----`, PKCS#8, as
    /// in service account key files). The key is never put in an error.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::config(format!("the service account's `private_key` {why}"))
                .with_param("credentials_file")
        };
        let body = pem
            .split("-----BEGIN PRIVATE KEY-----")
            .nth(1)
            .and_then(|rest| rest.split("-----END PRIVATE KEY-----").next())
            .ok_or_else(|| bad("is not a PEM `PRIVATE KEY` (PKCS#8)"))?;
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| bad("is not valid base64 PEM"))?;
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|_| bad("is not an RSA PKCS#8 key"))?;
        Ok(Signer {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// The public key, DER `RSAPublicKey` (PKCS#1).
    pub fn public_key_der(&self) -> &[u8] {
        use ring::signature::KeyPair as _;
        self.key.public_key().as_ref()
    }

    /// `base64url(header).base64url(claims).base64url(RS256 signature)`.
    pub fn assertion(
        &self,
        kid: Option<&str>,
        iss: &str,
        aud: &str,
        now_unix: u64,
    ) -> Result<String, Error> {
        let header = Header {
            typ: "JWT",
            alg: "RS256",
            kid,
        };
        let claims = Claims {
            iat: now_unix,
            exp: now_unix.saturating_add(ASSERTION_LIFETIME_SECS),
            iss,
            aud,
            scope: CLOUD_PLATFORM_SCOPE,
        };
        let mut jwt = b64_json(&header)?;
        jwt.push('.');
        jwt.push_str(&b64_json(&claims)?);
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, jwt.as_bytes(), &mut signature)
            .map_err(|_| Error::internal("the JWT could not be signed"))?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jwt)
    }
}

/// `value` as base64url JSON.
fn b64_json<T: Serialize>(value: &T) -> Result<String, Error> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Error::internal(format!("the JWT could not be encoded: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_pem_is_a_config_error() {
        for pem in [
            "",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            let err = Signer::from_pem(pem).expect_err("not a key");
            assert_eq!(err.param(), Some("credentials_file"));
        }
    }
}
