//! Errors as RFC 9457 problem details (`application/problem+json`), with a sentence a developer
//! can act on. Internal failures are logged with their cause and answered without it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference for the problem type; `about:blank` means "see the title".
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's phrase.
    pub title: String,
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    #[serde(skip)]
    #[schema(ignore)]
    www_authenticate: Option<String>,
    /// Seconds, for 429.
    #[serde(skip)]
    #[schema(ignore)]
    retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401 with the RFC 6750 challenge.
    pub fn unauthorized(detail: impl Into<String>, challenge: String) -> Self {
        Self {
            www_authenticate: Some(challenge),
            ..Self::new(StatusCode::UNAUTHORIZED, detail)
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 429 with `Retry-After`: the caller's budget is spent until then.
    pub fn too_many_requests(detail: impl Into<String>, retry_after: chrono::Duration) -> Self {
        Self {
            retry_after: Some(retry_after.num_seconds().max(1) as u64),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }

    /// A failure of ours: logged with its cause, answered without it.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, source = ?cause.source(), "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "temporary failure, retry later")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let challenge = self.www_authenticate.clone();
        let retry_after = self.retry_after;
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<csms_domain::StoreError> for Problem {
    fn from(e: csms_domain::StoreError) -> Self {
        match e {
            csms_domain::StoreError::InvalidCursor => {
                Problem::bad_request("cursor is not one this API gave out for this list")
            }
            e => Problem::internal(&e),
        }
    }
}

/// A JSON request body whose rejection (not JSON, wrong content type, unknown or missing fields)
/// is a 400 problem document like every other error, not axum's plain-text answer.
pub struct JsonBody<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(Problem::bad_request(rejection.body_text())),
        }
    }
}
