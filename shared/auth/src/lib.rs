//! Bearer-token authentication for the app API.
//!
//! People authenticate with OAuth2/OpenID Connect bearer JWTs. In AWS the issuer is an Amazon Cognito
//! user pool; locally it is the [`dev_issuer`] inside the local stand-in. Either way the same
//! [`Verifier`] checks them: the app API function, and the stand-in where it plays API Gateway's JWT
//! authorizer.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use csms_auth::{Role, Verifier};
//!
//! // AUTH_ISSUER, AUTH_AUDIENCE, optional AUTH_JWKS_URL and AUTH_TOKEN_USE.
//! let verifier = Verifier::from_env()?;
//! let header = "Bearer eyJ...";
//! let Some(token) = csms_auth::bearer_token(header) else { return Ok(()) };
//! match verifier.verify(token).await {
//!     Ok(principal) if principal.has_role(Role::Operator) => { /* go on */ }
//!     Ok(_) => { /* 403 */ }
//!     Err(e) => { /* 401 with WWW-Authenticate: e.www_authenticate() */ }
//! }
//! # Ok(())
//! # }
//! ```

mod config;
pub mod dev_issuer;
mod error;
mod jwks;
mod principal;
mod verifier;

pub use config::{
    DEFAULT_GROUPS_CLAIM, DEFAULT_LEEWAY_SECONDS, DEFAULT_REFETCH_INTERVAL, VerifierConfig, default_jwks_url,
};
pub use dev_issuer::DevIssuer;
pub use error::{AuthError, ConfigError, JwksFetchError};
pub use jwks::{HttpJwksSource, InMemoryJwksSource, JwksSource};
pub use principal::{Principal, Role};
pub use verifier::{Claims, Clock, MAX_TOKEN_BYTES, MIN_FETCH_SPACING, Verifier};

/// The token of an `Authorization` header value of the form `Bearer <token>` (scheme
/// case-insensitive, RFC 6750); `None` for any other scheme or an empty token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_token_takes_the_token_of_the_bearer_scheme_only() {
        assert_eq!(bearer_token("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(bearer_token("bearer   abc"), Some("abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer a b"), None);
        assert_eq!(bearer_token("abc.def.ghi"), None);
    }
}
