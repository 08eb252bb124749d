//! Errors: why a token was refused, why a configuration is unusable, why the JWKS could not be fetched.

use thiserror::Error;

/// Why a bearer token was refused.
///
/// Every message is a fixed text fit for the `error_description` of an HTTP 401 `WWW-Authenticate`
/// header: it never contains the token nor any part of it, and no `"` or `\`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthError {
    /// Not three base64url parts, a header or claims that are not JSON objects, a claim of the wrong
    /// type. The detail is a fixed text naming what is wrong.
    #[error("the token is malformed: {0}")]
    Malformed(&'static str),
    /// The header has no `kid`, so it cannot be matched to one of the issuer's keys.
    #[error("the token header has no key id (kid)")]
    MissingKid,
    /// The header's `alg` is not RS256 or ES256 (`none`, any HS*, PS*, ...), or the header asks for
    /// an extension (`crit`) this verifier does not implement.
    #[error("the token's signing algorithm is not accepted")]
    UnsupportedAlgorithm,
    /// The header's `alg` does not match the type or the declared algorithm of the key its `kid` names.
    #[error("the token's signing algorithm does not match its key")]
    AlgorithmMismatch,
    /// The issuer does not publish a usable key with the token's `kid`, even after a refetch (or a
    /// refetch was not allowed yet).
    #[error("the token's signing key is not known")]
    UnknownKey,
    /// The signature does not verify with the key its `kid` names.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not exactly the configured issuer.
    #[error("the token was issued by an unexpected issuer")]
    WrongIssuer,
    /// Neither `aud` nor `client_id` is the configured audience.
    #[error("the token is not meant for this audience")]
    WrongAudience,
    /// `token_use` is missing or not the configured value (e.g. an ID token where an access token is needed).
    #[error("the token is not of the accepted kind (token_use)")]
    WrongTokenUse,
    /// A required claim is missing (`exp`, `iss`, `sub`).
    #[error("the token has no {0} claim")]
    MissingClaim(&'static str),
    /// The issuer's JWKS could not be fetched or held no usable key, so the token's key could not be found.
    #[error("the issuer's signing keys are unavailable")]
    JwksUnavailable,
}

impl AuthError {
    /// The value of a `WWW-Authenticate` header for an HTTP 401 answer refusing a token for this reason
    /// (RFC 6750, section 3): `Bearer error="invalid_token", error_description="..."`.
    pub fn www_authenticate(&self) -> String {
        format!("Bearer error=\"invalid_token\", error_description=\"{self}\"")
    }
}

/// Why a [`crate::VerifierConfig`] or an HTTP JWKS source could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A required environment variable is not set (or is empty).
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// A value is present but unusable.
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Why a [`crate::JwksSource`] could not deliver the issuer's key set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("JWKS fetch failed: {0}")]
pub struct JwksFetchError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_authenticate_has_the_rfc6750_shape_and_no_quotes_inside() {
        let all = [
            AuthError::Malformed("bad base64"),
            AuthError::MissingKid,
            AuthError::UnsupportedAlgorithm,
            AuthError::AlgorithmMismatch,
            AuthError::UnknownKey,
            AuthError::BadSignature,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::WrongIssuer,
            AuthError::WrongAudience,
            AuthError::WrongTokenUse,
            AuthError::MissingClaim("sub"),
            AuthError::JwksUnavailable,
        ];
        for e in all {
            let message = e.to_string();
            assert!(!message.contains('"') && !message.contains('\\'), "{message}");
            assert_eq!(
                e.www_authenticate(),
                format!("Bearer error=\"invalid_token\", error_description=\"{message}\"")
            );
        }
    }
}
