//! The development issuer's browser side, standing in for Cognito's hosted sign-in: the OAuth2
//! authorization code grant with PKCE (RFC 6749 section 4.1, RFC 7636), refresh tokens, and
//! sign-out, for the web apps.
//!
//! LOCAL DEVELOPMENT ONLY. `GET /oauth2/authorize` shows a page listing the demo users; choosing
//! one remembers them in a cookie (so a later authorize returns at once, as Cognito's session
//! does) and redirects back with a one-time code. `POST /oauth2/token` trades the code and its
//! PKCE verifier for an access token and a refresh token, and a refresh token for a new access
//! token. `GET /logout` forgets the user. Only the app client [`AUDIENCE`] and redirect URIs on
//! the apps' own origins are served, and PKCE (S256) is required, which Cognito supports but
//! cannot be told to require: the apps are held to the stricter rule here.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use csms_auth::{DevIssuer, Role};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http_api::{AUDIENCE, DEMO_PASSWORD, DEMO_USERS, ISSUER_PATH, TOKEN_LIFETIME};

/// Cognito's authorization codes are valid for 5 minutes.
const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// Cognito's default refresh token validity for our app client (`infra/lib/app-door.ts`).
const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// Remembers who signed in on this browser, like Cognito's session cookie.
const SESSION_COOKIE: &str = "csms_local_user";

/// The browser origins the apps are served from (`http://127.0.0.1:<port>`): the only places a
/// code is sent to and the only origins the token endpoint and the API answer with CORS.
#[derive(Debug, Clone, Default)]
pub struct AppOrigins(Arc<Vec<String>>);

impl AppOrigins {
    pub fn new(origins: impl IntoIterator<Item = String>) -> Self {
        Self(Arc::new(
            origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_owned())
                .collect(),
        ))
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// Whether `uri` is an absolute URL on one of the origins (checked before any redirect).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        origin_of(uri).is_some_and(|origin| self.allows(origin))
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL without credentials.
fn origin_of(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("http://").or_else(|| uri.strip_prefix("https://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(&uri[..uri.len() - rest.len() + end])
}

/// RFC 7636 section 4.6: BASE64URL(SHA256(verifier)) == challenge, with a verifier of 43-128
/// unreserved characters.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

struct PendingCode {
    user: &'static str,
    redirect_uri: String,
    challenge: String,
    expires: Instant,
}

struct RefreshGrant {
    user: &'static str,
    expires: Instant,
}

/// The sign-in state: outstanding codes and refresh tokens, in memory like the issuer's keys.
#[derive(Clone)]
pub struct SignIn {
    issuer: DevIssuer,
    origins: AppOrigins,
    codes: Arc<Mutex<HashMap<String, PendingCode>>>,
    refresh: Arc<Mutex<HashMap<String, RefreshGrant>>>,
}

fn demo_user(name: &str) -> Option<(&'static str, &'static [Role])> {
    DEMO_USERS.iter().find(|(n, _)| *n == name).map(|(n, r)| (*n, *r))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("system random number generator");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct AuthorizeRequest {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    /// `login`: show the user list even when someone is signed in.
    prompt: Option<String>,
    /// Set by the sign-in page's buttons.
    username: Option<String>,
}

/// The token endpoint's form: one of three grants.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: String,
    // password (scripts and tests)
    username: Option<String>,
    password: Option<String>,
    // authorization_code
    code: Option<String>,
    redirect_uri: Option<String>,
    client_id: Option<String>,
    code_verifier: Option<String>,
    // refresh_token
    refresh_token: Option<String>,
}

/// Why an authorization request is not served: a page when the app cannot be trusted with the
/// answer (unknown client, foreign redirect URI), else back to the app with an OAuth2 error.
enum Refusal {
    Page(String),
    Back(String),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(message) => (StatusCode::BAD_REQUEST, Html(error_page(&message))).into_response(),
            Refusal::Back(location) => redirect(&location),
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    for (i, (name, value)) in params.iter().enumerate() {
        let joiner = if i == 0 && !uri.contains('?') { '?' } else { '&' };
        out.push(joiner);
        out.push_str(name);
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn html_escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn cookie_user(headers: &HeaderMap) -> Option<&'static str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| demo_user(value))
        .map(|(name, _)| name)
}

impl SignIn {
    pub fn new(issuer: DevIssuer, origins: AppOrigins) -> Self {
        Self {
            issuer,
            origins,
            codes: Default::default(),
            refresh: Default::default(),
        }
    }

    fn issue_code(&self, user: &'static str, redirect_uri: &str, challenge: &str) -> String {
        let code = random_token();
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            PendingCode {
                user,
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                expires: now + CODE_LIFETIME,
            },
        );
        code
    }

    /// Takes the code out (one use only, even when the exchange then fails).
    fn redeem(&self, code: &str) -> Option<PendingCode> {
        let mut codes = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.remove(code).filter(|c| c.expires > Instant::now())
    }

    fn tokens_for(&self, user: &'static str, roles: &[Role], refresh_token: Option<String>) -> Response {
        let access = self.issuer.mint(user, roles, None, AUDIENCE, TOKEN_LIFETIME);
        let refresh_token = refresh_token.unwrap_or_else(|| {
            let token = random_token();
            let mut grants = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            grants.retain(|_, g| g.expires > now);
            grants.insert(
                token.clone(),
                RefreshGrant {
                    user,
                    expires: now + REFRESH_LIFETIME,
                },
            );
            token
        });
        (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({
                "access_token": access,
                "refresh_token": refresh_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME.as_secs(),
            })),
        )
            .into_response()
    }

    /// Checks an authorization request; an error that may not be redirected is a page, one
    /// that may is a redirect to the app with `error`.
    fn check(&self, request: &AuthorizeRequest) -> Result<(String, String), Refusal> {
        let page = |message: &str| Refusal::Page(message.to_owned());
        if request.client_id.as_deref() != Some(AUDIENCE) {
            return Err(page(&format!("unknown client_id: this issuer serves {AUDIENCE} only")));
        }
        let redirect_uri = match request.redirect_uri.as_deref() {
            Some(uri) if self.origins.allows_redirect(uri) => uri.to_owned(),
            _ => {
                return Err(page(
                    "redirect_uri is missing or not on an origin the apps are served from",
                ));
            }
        };
        let back = |error: &str, description: &str| {
            let mut params = vec![("error", error), ("error_description", description)];
            if let Some(state) = request.state.as_deref() {
                params.push(("state", state));
            }
            Refusal::Back(with_query(&redirect_uri, &params))
        };
        if request.response_type.as_deref() != Some("code") {
            return Err(back("unsupported_response_type", "only response_type=code"));
        }
        match (
            request.code_challenge.as_deref(),
            request.code_challenge_method.as_deref(),
        ) {
            (Some(challenge), Some("S256")) if challenge.len() == 43 => Ok((redirect_uri, challenge.to_owned())),
            _ => Err(back(
                "invalid_request",
                "PKCE is required: code_challenge (43 characters) with code_challenge_method=S256",
            )),
        }
    }

    fn complete(
        &self,
        request: &AuthorizeRequest,
        user: &'static str,
        redirect_uri: &str,
        challenge: &str,
    ) -> Response {
        let code = self.issue_code(user, redirect_uri, challenge);
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = request.state.as_deref() {
            params.push(("state", state));
        }
        redirect(&with_query(redirect_uri, &params))
    }
}

/// `GET /oauth2/authorize`: back at once for a remembered user, else the sign-in page.
pub async fn authorize(
    State(sign_in): State<SignIn>,
    headers: HeaderMap,
    Query(request): Query<AuthorizeRequest>,
) -> Response {
    let (redirect_uri, challenge) = match sign_in.check(&request) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.into_response(),
    };
    if request.prompt.as_deref() != Some("login")
        && let Some(user) = cookie_user(&headers)
    {
        return sign_in.complete(&request, user, &redirect_uri, &challenge);
    }
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                // No form-action: the form's answer redirects to the app's origin.
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        Html(sign_in_page(&request)),
    )
        .into_response()
}

/// `POST /oauth2/authorize`: the page's choice of user.
pub async fn choose(State(sign_in): State<SignIn>, Form(request): Form<AuthorizeRequest>) -> Response {
    let (redirect_uri, challenge) = match sign_in.check(&request) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.into_response(),
    };
    let Some((user, _)) = request.username.as_deref().and_then(demo_user) else {
        return (
            StatusCode::BAD_REQUEST,
            Html(error_page("choose one of the demo users")),
        )
            .into_response();
    };
    let mut response = sign_in.complete(&request, user, &redirect_uri, &challenge);
    let cookie = format!("{SESSION_COOKIE}={user}; Path={ISSUER_PATH}; HttpOnly; SameSite=Lax");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct LogoutRequest {
    client_id: Option<String>,
    logout_uri: Option<String>,
}

/// `GET /logout`: forgets the remembered user and returns to the app, as Cognito's does.
pub async fn logout(State(sign_in): State<SignIn>, Query(request): Query<LogoutRequest>) -> Response {
    let target = match (request.client_id.as_deref(), request.logout_uri.as_deref()) {
        (Some(AUDIENCE), Some(uri)) if sign_in.origins.allows_redirect(uri) => uri.to_owned(),
        _ => {
            return (
                StatusCode::BAD_REQUEST,
                Html(error_page("logout needs client_id and a logout_uri on an app origin")),
            )
                .into_response();
        }
    };
    let mut response = redirect(&target);
    let cookie = format!("{SESSION_COOKIE}=; Path={ISSUER_PATH}; HttpOnly; SameSite=Lax; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `POST /oauth2/token`: password (demo users, for scripts), authorization_code (with the PKCE
/// verifier) and refresh_token grants.
pub async fn token(State(sign_in): State<SignIn>, Form(request): Form<TokenRequest>) -> Response {
    match request.grant_type.as_str() {
        "password" => {
            let user = request.username.as_deref().and_then(demo_user);
            match user {
                Some((name, roles)) if request.password.as_deref() == Some(DEMO_PASSWORD) => {
                    let access = sign_in.issuer.mint(name, roles, None, AUDIENCE, TOKEN_LIFETIME);
                    axum::Json(
                        json!({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME.as_secs()}),
                    )
                    .into_response()
                }
                _ => oauth_error("invalid_grant", "unknown demo user or wrong password"),
            }
        }
        "authorization_code" => {
            if request.client_id.as_deref() != Some(AUDIENCE) {
                return oauth_error("invalid_client", "unknown client_id");
            }
            let (Some(code), Some(verifier), Some(redirect_uri)) = (
                request.code.as_deref(),
                request.code_verifier.as_deref(),
                request.redirect_uri.as_deref(),
            ) else {
                return oauth_error("invalid_request", "code, code_verifier and redirect_uri are required");
            };
            let Some(pending) = sign_in.redeem(code) else {
                return oauth_error("invalid_grant", "unknown, used or expired code");
            };
            if pending.redirect_uri != redirect_uri {
                return oauth_error("invalid_grant", "redirect_uri differs from the authorization request's");
            }
            if !pkce_matches(verifier, &pending.challenge) {
                return oauth_error("invalid_grant", "code_verifier does not match the code_challenge");
            }
            let (user, roles) = demo_user(pending.user).expect("codes are issued to demo users");
            sign_in.tokens_for(user, roles, None)
        }
        "refresh_token" => {
            if request.client_id.as_deref() != Some(AUDIENCE) {
                return oauth_error("invalid_client", "unknown client_id");
            }
            let Some(token) = request.refresh_token else {
                return oauth_error("invalid_request", "refresh_token is required");
            };
            let user = {
                let grants = sign_in.refresh.lock().unwrap_or_else(|e| e.into_inner());
                grants
                    .get(&token)
                    .filter(|g| g.expires > Instant::now())
                    .map(|g| g.user)
            };
            match user.and_then(demo_user) {
                // Like Cognito (without rotation): the refresh token stays the same.
                Some((user, roles)) => sign_in.tokens_for(user, roles, Some(token)),
                None => oauth_error("invalid_grant", "unknown or expired refresh token"),
            }
        }
        _ => oauth_error(
            "unsupported_grant_type",
            "password (demo users), authorization_code or refresh_token",
        ),
    }
}

const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;min-height:100vh;display:grid;place-items:center;background:#f1f5f4;color:#14211d}\
main{background:#fff;border-radius:16px;box-shadow:0 10px 30px #0f2a2214;padding:32px;width:min(92vw,420px)}\
h1{font-size:1.4rem;margin:0 0 4px}p{margin:0 0 20px;color:#4b5c57}\
button{display:flex;flex-direction:column;align-items:flex-start;width:100%;padding:14px 16px;margin:0 0 12px;border:1px solid #cfdad6;border-radius:12px;background:#fff;font:inherit;cursor:pointer;text-align:left}\
button:hover,button:focus-visible{border-color:#0b7a5c;outline:2px solid #0b7a5c;outline-offset:1px}\
button span{color:#4b5c57;font-size:.9rem}small{color:#4b5c57}";

fn sign_in_page(request: &AuthorizeRequest) -> String {
    let hidden = [
        ("response_type", &request.response_type),
        ("client_id", &request.client_id),
        ("redirect_uri", &request.redirect_uri),
        ("state", &request.state),
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", &request.code_challenge_method),
        ("scope", &request.scope),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value
            .as_deref()
            .map(|v| format!(r#"<input type="hidden" name="{name}" value="{}">"#, html_escape(v)))
    })
    .collect::<String>();
    let buttons = DEMO_USERS
        .iter()
        .map(|(name, roles)| {
            let what = roles.iter().map(|r| r.group()).collect::<Vec<_>>().join(", ");
            format!(r#"<button type="submit" name="username" value="{name}">{name}<span>{what}</span></button>"#)
        })
        .collect::<String>();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in · csms (local)</title><style>{PAGE_STYLE}</style></head><body><main>
<h1>Sign in</h1><p>Local development issuer: choose a demo user. In AWS, Cognito's hosted sign-in asks for a password here.</p>
<form method="post">{hidden}{buttons}</form><small>LOCAL DEVELOPMENT ONLY</small></main></body></html>"#
    )
}

fn error_page(message: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error · csms (local)</title><style>{PAGE_STYLE}</style></head>
<body><main><h1>Cannot sign in</h1><p>{}</p></main></body></html>"#,
        html_escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_as_rfc_7636_appendix_b() {
        // RFC 7636 appendix B's example.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", challenge), "verifiers are 43-128 characters");
        assert!(
            !pkce_matches(&format!("{verifier} "), challenge),
            "unreserved characters only"
        );
    }

    #[test]
    fn redirects_only_to_the_apps_origins() {
        let origins = AppOrigins::new(["http://127.0.0.1:4100".to_owned(), "http://localhost:5173/".to_owned()]);
        assert!(origins.allows_redirect("http://127.0.0.1:4100/auth/callback"));
        assert!(origins.allows_redirect("http://127.0.0.1:4100/console/auth/callback?x=1"));
        assert!(origins.allows_redirect("http://localhost:5173/auth/callback"));
        assert!(!origins.allows_redirect("http://127.0.0.1:4101/auth/callback"));
        assert!(!origins.allows_redirect("http://127.0.0.1:4100@evil.example/"));
        assert!(!origins.allows_redirect("http://127.0.0.1:41000/"));
        assert!(!origins.allows_redirect("/auth/callback"));
        assert!(!origins.allows_redirect("javascript:alert(1)"));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query("http://a/cb", &[("code", "x+y/z"), ("state", "a b&c")]),
            "http://a/cb?code=x%2By%2Fz&state=a%20b%26c"
        );
        assert_eq!(
            with_query("http://a/cb?k=1", &[("code", "c")]),
            "http://a/cb?k=1&code=c"
        );
    }
}
