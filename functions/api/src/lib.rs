//! The app HTTP API (API Gateway HTTP API, payload format 2.0): what drivers, operators and
//! admins do from their apps. Every route but `/openapi.json` needs a bearer JWT ([`caller`]);
//! errors are RFC 9457 problem details ([`problem`]); the OpenAPI 3.1 document is generated from
//! the handlers below, so it cannot drift from them.
//!
//! Object-level authorization is decided here, per route: a driver reaches only commands they
//! asked for and sessions of their own tokens; an operator only stations of the organisation their
//! membership names (read on every call, [`caller::Caller::organisation_of`]).
//! Anything else is answered 404, so ids of other people's objects are not confirmed.
//!
//! The domain does the work (the same code `csms-registry` calls): remote commands go through
//! `commands::request` and the commands queue like every other sender; starting charging and
//! reservations are domain use cases (`remote_charging`, `reservation`).

mod admin;
pub mod caller;
mod charging;
mod contract;
mod operator;
mod operator_tokens;
pub mod paging;
pub mod problem;
mod remote;
mod reservations;
mod sessions;
mod stations;

use axum::Router;
use axum::routing::get;
use csms_auth::Verifier;
use csms_domain::Services;
use csms_domain::reservation::ReservationServices;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use problem::Problem;

/// What every handler may use, built once per process.
pub struct App {
    pub services: Services,
    /// The reservation ports (their own deps, apart from [`Services`]).
    pub reservations: ReservationServices,
    pub verifier: Verifier,
    /// What one caller may make the API do.
    pub limits: Limits,
}

/// The API's limits against abuse: a request budget per subject, and one pending remote command
/// per driver ([`csms_domain::limits`]).
pub struct Limits {
    pub ports: csms_domain::limits::LimitPorts,
    pub limiter: csms_domain::limits::Limiter,
    /// Requests per subject and minute.
    pub per_subject: csms_domain::limits::Budget,
}

impl Limits {
    /// The default per-subject budget, 10 a second: well above what an app does for a person,
    /// a tenth of the whole HTTP stage's throttle (100 a second), so one user cannot take it all.
    pub const REQUESTS_PER_MINUTE: u32 = 600;

    pub fn new(ports: csms_domain::limits::LimitPorts, requests_per_minute: u32) -> Self {
        Self {
            limiter: csms_domain::limits::Limiter::new(ports.counters.clone()),
            ports,
            per_subject: csms_domain::limits::Budget::per_minute(requests_per_minute),
        }
    }

    /// From `SUBJECT_REQUESTS_PER_MINUTE` (default [`Self::REQUESTS_PER_MINUTE`]).
    pub fn from_lookup(
        ports: csms_domain::limits::LimitPorts,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let per_minute = match lookup("SUBJECT_REQUESTS_PER_MINUTE") {
            None => Self::REQUESTS_PER_MINUTE,
            Some(raw) => raw
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| format!("SUBJECT_REQUESTS_PER_MINUTE must be a whole number from 1, got {raw:?}"))?,
        };
        Ok(Self::new(ports, per_minute))
    }

    /// In-memory limits with the default budget, for tests.
    pub fn memory() -> Self {
        Self::new(csms_domain::limits::LimitPorts::memory(), Self::REQUESTS_PER_MINUTE)
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CSMS app API",
        description = "Stations, charging and remote commands for drivers, operators and admins. \
                       Errors are RFC 9457 problem details.",
        version = "1.0.0"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "stations", description = "Charging stations and their live availability"),
        (name = "charging", description = "A driver starts and stops charging"),
        (name = "reservations", description = "A driver holds a connector on the way"),
        (name = "operator", description = "Operators run their organisation's stations"),
        (name = "admin", description = "Admins manage organisations and their operators"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn api_router() -> OpenApiRouter<Arc<App>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(stations::near))
        .routes(routes!(stations::station))
        .routes(routes!(charging::start))
        .routes(routes!(charging::stop))
        .routes(routes!(charging::command))
        .routes(routes!(charging::my_tokens, charging::claim_token))
        .routes(routes!(reservations::reserve, reservations::my_reservations))
        .routes(routes!(reservations::my_reservation, reservations::cancel_mine))
        .routes(routes!(reservations::operator_reservations))
        .routes(routes!(
            reservations::operator_reservation,
            reservations::operator_cancel
        ))
        .routes(routes!(operator::stations, operator::register))
        .routes(routes!(operator::station, operator::change, operator::decommission))
        .routes(routes!(operator::rotate_password))
        .routes(routes!(operator::status_history))
        .routes(routes!(operator::submit_command, operator::commands))
        .routes(routes!(sessions::my_sessions))
        .routes(routes!(sessions::my_session))
        .routes(routes!(sessions::operator_sessions))
        .routes(routes!(sessions::operator_session))
        .routes(routes!(operator_tokens::tokens, operator_tokens::register))
        .routes(routes!(
            operator_tokens::token,
            operator_tokens::change,
            operator_tokens::delete
        ))
        .routes(routes!(operator_tokens::claim_code))
        .routes(routes!(admin::create_organisation, admin::organisations))
        .routes(routes!(admin::organisation, admin::update_organisation))
        .routes(routes!(admin::operators))
        .routes(routes!(admin::add_operator, admin::remove_operator))
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    parts().1
}

fn parts() -> (Router<Arc<App>>, utoipa::openapi::OpenApi) {
    let (router, mut document) = api_router().split_for_parts();
    contract::complete(&mut document);
    (router, document)
}

/// The whole API, as the Lambda function and the local stand-in serve it.
pub fn router(app: Arc<App>) -> Router {
    let (router, document) = parts();
    let document = Arc::new(document);
    router
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json((*document).clone()) }
            }),
        )
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::middleware::from_fn(log_request))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(app)
}

/// One line per request with the route template it matched, never the path: paths carry id
/// tokens (`/v1/operator/tokens/{idToken}`), which are personal data. API Gateway's access log
/// leaves the path out for the same reason; its request id ties the two together.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(no route)", |matched| matched.as_str())
        .to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

/// A handler panicked: a bug of ours. The caller gets the same 500 problem as any failure of
/// ours, not a dropped connection; the panic's message goes to the log only.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "handler panicked");
    axum::response::IntoResponse::into_response(Problem::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "temporary failure, retry later",
    ))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("secret detail")
    }

    /// OpenAPI requires it, and client generators name their functions by it.
    #[test]
    fn every_operation_has_its_own_id() {
        let document = serde_json::to_value(super::openapi()).unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
                let here = format!("{} {path}", method.to_uppercase());
                assert!(!id.is_empty(), "{here} has no operationId");
                if let Some(first) = seen.insert(id.clone(), here.clone()) {
                    panic!("operationId {id:?} of {here} is also {first}'s");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_problem_without_its_message() {
        let router = axum::Router::new()
            .route("/boom", axum::routing::get(boom))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(super::panicked));
        let response = router
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("\"status\":500") && !text.contains("secret"), "{text}");
    }
}
