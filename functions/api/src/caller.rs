//! Who is calling: the bearer token verified against the issuer's keys (in AWS, API Gateway's JWT
//! authorizer has already checked it; verifying again here keeps the function safe behind any
//! door and is what the stand-in relies on), and what their roles let them do.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use csms_auth::{Principal, Role};
use csms_domain::Subject;
use csms_domain::limits::Verdict;
use csms_domain::organisation;
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
        let principal = match app.verifier.verify(token).await {
            Ok(principal) => principal,
            Err(e) => {
                tracing::info!(error = %e, "bearer token refused");
                return Err(Problem::unauthorized(e.to_string(), e.www_authenticate()));
            }
        };
        within_budget(app, &principal.subject).await?;
        Ok(Caller(principal))
    }
}

/// Every authenticated request counts against its subject's budget ([`crate::Limits`]); beyond
/// it, 429 until the minute is over. A failure to count lets the request through: the budget is
/// a guard against floods, not worth refusing people over.
async fn within_budget(app: &App, subject: &str) -> Result<(), Problem> {
    let limits = &app.limits;
    let key = format!("subject#{subject}");
    match limits.limiter.count(&key, limits.per_subject, chrono::Utc::now()).await {
        Ok(Verdict::Allowed) => Ok(()),
        Ok(Verdict::Refused { retry_after }) => Err(Problem::too_many_requests(
            format!(
                "at most {} requests a minute per user; retry after {} s",
                limits.per_subject.limit,
                retry_after.num_seconds().max(1)
            ),
            retry_after,
        )),
        Err(e) => {
            tracing::warn!(error = %e, "could not count the request against its budget; let through");
            Ok(())
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

    /// The organisation an operator acts for: their membership, read on every call (one strongly
    /// consistent GetItem), so an admin's change holds from the next request on, whatever the
    /// token says. 403 without the operator role or without a membership.
    pub async fn organisation_of(&self, app: &App) -> Result<String, Problem> {
        self.require(Role::Operator)?;
        let no_organisation =
            || Problem::forbidden("your account operates for no organisation: ask an admin to add you");
        // A subject the store cannot hold has no membership either.
        let Ok(subject) = Subject::parse(self.subject()) else {
            return Err(no_organisation());
        };
        organisation::organisation_of(&*app.services.organisations, &subject)
            .await?
            .map(|id| id.as_str().to_owned())
            .ok_or_else(no_organisation)
    }
}
