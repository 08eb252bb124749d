//! Who is calling: the bearer token verified against the issuer's keys (in AWS, API Gateway's JWT
//! authorizer has already checked it; verifying again here keeps the function safe behind any
//! door and is what the stand-in relies on), and what their roles let them do.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use csms_auth::{Principal, Role};
use std::sync::Arc;

use crate::App;
use crate::problem::Problem;

/// An authenticated caller.
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Problem> {
        let challenge = |error: Option<&str>| match error {
            None => r#"Bearer realm="csms""#.to_owned(),
            Some(e) => format!(r#"Bearer realm="csms", error="invalid_token", error_description="{e}""#),
        };
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                Problem::unauthorized("an Authorization: Bearer <token> header is required", challenge(None))
            })?;
        let token = csms_auth::bearer_token(header).ok_or_else(|| {
            Problem::unauthorized("the Authorization header must be `Bearer <token>`", challenge(None))
        })?;
        match app.verifier.verify(token).await {
            Ok(principal) => Ok(Caller(principal)),
            Err(e) => {
                tracing::info!(error = %e, "bearer token refused");
                Err(Problem::unauthorized(e.to_string(), e.www_authenticate()))
            }
        }
    }
}

impl Caller {
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The caller must hold `role`, else 403.
    pub fn require(&self, role: Role) -> Result<(), Problem> {
        if self.0.has_role(role) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!("this needs the {} role", role.group())))
        }
    }

    /// The organisation an operator acts for (403 without one). Every operator route asks here,
    /// so where the organisation comes from is decided in one place.
    pub async fn organisation_of(&self, _app: &App) -> Result<String, Problem> {
        self.organisation().map(str::to_owned)
    }

    /// An operator's organisation (403 without one).
    fn organisation(&self) -> Result<&str, Problem> {
        self.require(Role::Operator)?;
        self.0
            .organisation
            .as_deref()
            .ok_or_else(|| Problem::forbidden("your account has no organisation: ask an admin to set it"))
    }
}
