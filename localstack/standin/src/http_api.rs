//! The app door, locally: API Gateway's HTTP API with its JWT authorizer in front of the `api`
//! function's router, and a development OpenID issuer that signs tokens for it.
//!
//! LOCAL DEVELOPMENT ONLY. The issuer at `/local-issuer` has a key made at start-up, publishes it
//! as a JWKS, and hands out access tokens shaped like Amazon Cognito's: to the seeded demo users
//! (`demo-driver`, `demo-operator`, `demo-admin`, password [`DEMO_PASSWORD`]) through an OAuth2
//! password grant or, for the web apps, the authorization code grant with PKCE ([`sign_in`]),
//! and to any user a test describes through `POST /local-issuer/dev/token`. For
//! the tests of the door it also signs any claims a test chooses (`POST /local-issuer/dev/sign`,
//! with its real key or a key it never publishes) and rotates its key (`POST
//! /local-issuer/dev/rotate`). In AWS the issuer is the Cognito user pool. Tokens carry no
//! organisation: an operator's organisation is their membership in OrganisationsTable
//! (`scripts/run.sh` makes `demo-operator` an operator of `demo-org`).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use csms_auth::{DevIssuer, Role, Verifier};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

use crate::sign_in::{self, AppOrigins, SignIn};

/// Where the development issuer lives under the API's origin.
pub const ISSUER_PATH: &str = "/local-issuer";
/// The app client id the local tokens are issued for (the HTTP API's JWT audience).
pub const AUDIENCE: &str = "csms-local-app";
/// The api function's settings that name the Cognito user pool and its app client in AWS; locally
/// the development issuer and [`AUDIENCE`] take their place.
pub const AUTH_ISSUER: &str = "AUTH_ISSUER";
pub const AUTH_AUDIENCE: &str = "AUTH_AUDIENCE";
/// The seeded demo users' password. Local only.
pub const DEMO_PASSWORD: &str = "local-demo-password";
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The seeded demo users: (username, roles).
pub(crate) const DEMO_USERS: &[(&str, &[Role])] = &[
    ("demo-driver", &[Role::Driver]),
    ("demo-operator", &[Role::Operator]),
    ("demo-admin", &[Role::Admin]),
];

/// Routes that API Gateway serves without the authorizer.
const PUBLIC_ROUTES: &[&str] = &["/openapi.json"];

#[derive(Clone)]
struct Issuer(DevIssuer);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevToken {
    subject: String,
    #[serde(default)]
    roles: Vec<Role>,
    email: Option<String>,
    /// Seconds; negative makes an expired token (for tests of the refusal).
    lifetime_seconds: Option<i64>,
}

fn token_response(
    issuer: &DevIssuer,
    subject: &str,
    roles: &[Role],
    email: Option<&str>,
    lifetime: Duration,
) -> Response {
    let token = issuer.mint(subject, roles, email, AUDIENCE, lifetime);
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime.as_secs()})).into_response()
}

async fn dev_token(State(Issuer(issuer)): State<Issuer>, Json(request): Json<DevToken>) -> Response {
    let lifetime = request.lifetime_seconds.unwrap_or(TOKEN_LIFETIME.as_secs() as i64);
    if lifetime <= 0 {
        // DevIssuer mints forward in time only; an expired token is signed from its own claims.
        let now = chrono::Utc::now().timestamp();
        let token = issuer.sign(&json!({
            "sub": request.subject, "iss": issuer.issuer(), "client_id": AUDIENCE, "token_use": "access",
            "iat": now + lifetime - 60, "nbf": now + lifetime - 60, "exp": now + lifetime,
        }));
        return Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 0})).into_response();
    }
    token_response(
        &issuer,
        &request.subject,
        &request.roles,
        request.email.as_deref(),
        Duration::from_secs(lifetime as u64),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevSign {
    /// Signed as they are: any iss, aud, client_id, token_use, nbf, exp.
    claims: serde_json::Map<String, serde_json::Value>,
    /// `current` (default): the published signing key; `unpublished`: a fresh key whose `kid` no
    /// JWKS has, so the signature is valid but nobody should trust it.
    #[serde(default)]
    key: SignKey,
}

#[derive(Deserialize, Default, PartialEq)]
#[serde(rename_all = "lowercase")]
enum SignKey {
    #[default]
    Current,
    Unpublished,
}

async fn dev_sign(State(Issuer(issuer)): State<Issuer>, Json(request): Json<DevSign>) -> Response {
    let claims = serde_json::Value::Object(request.claims);
    let token = match request.key {
        SignKey::Current => issuer.sign(&claims),
        SignKey::Unpublished => DevIssuer::generate(issuer.issuer()).sign(&claims),
    };
    Json(json!({"access_token": token, "token_type": "Bearer"})).into_response()
}

/// Makes a new key current; the previous one stays published until the next rotation.
async fn dev_rotate(State(Issuer(issuer)): State<Issuer>) -> Response {
    let previous = issuer.current_kid();
    issuer.rotate();
    Json(json!({"kid": issuer.current_kid(), "previous": previous})).into_response()
}

/// API Gateway's JWT authorizer: a request without a valid bearer token never reaches the
/// function; it gets 401 `{"message":"Unauthorized"}` and a `WWW-Authenticate` challenge.
async fn authorizer(State(verifier): State<Arc<Verifier>>, request: Request, next: Next) -> Response {
    if PUBLIC_ROUTES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(csms_auth::bearer_token);
    let challenge = match token {
        None => r#"Bearer realm="csms""#.to_owned(),
        Some(token) => match verifier.verify(token).await {
            Ok(_) => return next.run(request).await,
            Err(e) => e.www_authenticate(),
        },
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(json!({"message": "Unauthorized"}))).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// CORS as the HTTP API's `corsPreflight` answers it, for the apps' origins only: a preflight is
/// answered before the authorizer (so it needs no token), and every answer to an app origin
/// names it. Bearer tokens, not cookies: no credentials.
async fn cors(State(origins): State<AppOrigins>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| origins.allows(o))
        .map(str::to_owned);
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if preflight {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET,POST,PUT,PATCH,DELETE"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization,content-type"),
            );
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
        }
    }
    response
}

/// The issuer's routes, and the API behind the authorizer when the template has the function;
/// `origins` are the web apps' (CORS, and where sign-in may redirect).
pub fn router(issuer: DevIssuer, api: Option<Arc<api::App>>, origins: AppOrigins) -> Router {
    let discovery = issuer.openid_configuration();
    let jwks_issuer = issuer.clone();
    let sign_in = SignIn::new(issuer.clone(), origins.clone());
    let browser_routes = Router::new()
        .route("/oauth2/authorize", get(sign_in::authorize).post(sign_in::choose))
        .route("/oauth2/token", post(sign_in::token))
        .route("/logout", get(sign_in::logout))
        .with_state(sign_in);
    let issuer_routes = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { Json(discovery.clone()) }),
        )
        .route(
            "/.well-known/jwks.json",
            get(move || async move { Json(jwks_issuer.jwks()) }),
        )
        .route("/dev/token", post(dev_token))
        .route("/dev/sign", post(dev_sign))
        .route("/dev/rotate", post(dev_rotate))
        .with_state(Issuer(issuer.clone()))
        .merge(browser_routes);
    let door = match api {
        Some(app) => {
            let verifier = Arc::new(authorizer_verifier(issuer.issuer()));
            api::router(app).layer(middleware::from_fn_with_state(verifier, authorizer))
        }
        None => Router::new(),
    };
    Router::new()
        .nest(ISSUER_PATH, issuer_routes)
        .merge(door)
        .layer(middleware::from_fn_with_state(origins, cors))
}

/// What API Gateway's JWT authorizer checks (the template's issuer and audience): signature with
/// the issuer's published keys (fetched over HTTP, as API Gateway does), `iss`, `aud` or
/// `client_id`, `exp`, `nbf`. It does not look at `token_use`: that is the function's own check.
pub fn authorizer_verifier(issuer_url: &str) -> Verifier {
    Verifier::from_config(csms_auth::VerifierConfig::new(issuer_url, AUDIENCE))
        .expect("the development issuer's URL is a loopback http URL")
}

/// The `api` function's verifier from its environment, exactly as its `main` builds one with
/// `Verifier::from_env`: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_TOKEN_USE`, `AUTH_JWKS_URL`, the
/// keys fetched over HTTP from the issuer's JWKS URL.
pub fn function_verifier(env: &std::collections::BTreeMap<String, String>) -> Result<Verifier, csms_auth::ConfigError> {
    Verifier::from_config(csms_auth::VerifierConfig::from_lookup(|name| env.get(name).cloned())?)
}
