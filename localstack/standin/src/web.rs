//! The web door, locally: what CloudFront and the S3 bucket serve in AWS (`infra/lib/web-door.ts`).
//! The built apps from `web/dist` (the driver app at `/`, the operator console at `/console/`),
//! a `config.json` that tells them where the API, sign-in and map tiles are (in AWS written at
//! deploy time), the same security headers (`web/security-headers.json`, read by the CDK stack
//! too), and the same single-page fallback as the CloudFront function (`web-rewrite.js`): a path
//! without a file extension is the app's `index.html`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// What the apps need to know about their surroundings (`/config.json`).
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub api_url: String,
    /// Where piles connect (`<ocpp url><station id>`), shown when a station is registered.
    pub ocpp_url: String,
    /// The development issuer's URL (its `/oauth2/authorize`, `/oauth2/token`, `/logout`).
    pub issuer_url: String,
    pub client_id: String,
    /// `{z}/{x}/{y}` raster tiles (`{s}` for subdomains).
    pub tile_url: String,
    pub tile_attribution: String,
    /// Where the driver's map starts when the browser does not share its position.
    pub map_center: (f64, f64),
}

impl WebConfig {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "apiUrl": self.api_url,
            "ocppUrl": self.ocpp_url,
            "auth": {
                "authorizeUrl": format!("{}/oauth2/authorize", self.issuer_url),
                "tokenUrl": format!("{}/oauth2/token", self.issuer_url),
                "logoutUrl": format!("{}/logout", self.issuer_url),
                "clientId": self.client_id,
            },
            "map": {
                "tileUrl": self.tile_url,
                "attribution": self.tile_attribution,
                "center": [self.map_center.0, self.map_center.1],
            },
        })
    }
}

/// `web/security-headers.json`: the headers every answer carries. The policy names its
/// deployment-specific sources as `{api}`, `{auth}` and `{tiles}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct HeadersFile {
    content_security_policy: String,
    referrer_policy: String,
    permissions_policy: String,
}

/// `scheme://host[:port]` of a URL or URL template (`{s}` becomes a wildcard subdomain).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || !matches!(scheme, "http" | "https") {
        return None;
    }
    Some(format!("{scheme}://{}", authority.replace("{s}", "*")))
}

struct Door {
    dist: PathBuf,
    config: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

/// The security headers with the policy's placeholders filled in.
fn security_headers(file: &Path, config: &WebConfig) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let headers: HeadersFile = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let origin = |url: &str| origin_of(url).ok_or_else(|| format!("{url:?} is not an http(s) URL"));
    let csp = headers
        .content_security_policy
        .replace("{api}", &origin(&config.api_url)?)
        .replace("{auth}", &origin(&config.issuer_url)?)
        .replace("{tiles}", &origin(&config.tile_url)?);
    let value = |v: &str| HeaderValue::from_str(v).map_err(|e| format!("{}: {e}", file.display()));
    Ok(vec![
        (header::CONTENT_SECURITY_POLICY, value(&csp)?),
        (header::REFERRER_POLICY, value(&headers.referrer_policy)?),
        (
            HeaderName::from_static("permissions-policy"),
            value(&headers.permissions_policy)?,
        ),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ])
}

/// The file a request path is answered from, as the CloudFront function rewrites it: paths
/// without an extension in their last segment are the app's entry page. None for paths that
/// try to leave the directory.
pub fn file_for(path: &str) -> Option<PathBuf> {
    let last = path.rsplit('/').next().unwrap_or_default();
    let rewritten = if last.contains('.') {
        path.to_owned()
    } else if path == "/console" || path.starts_with("/console/") {
        "/console/index.html".to_owned()
    } else {
        "/index.html".to_owned()
    };
    let relative = Path::new(rewritten.trim_start_matches('/'));
    relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| relative.to_path_buf())
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn serve(State(door): State<Arc<Door>>, uri: Uri) -> Response {
    let mut headers = HeaderMap::new();
    for (name, value) in &door.headers {
        headers.insert(name.clone(), value.clone());
    }
    if uri.path() == "/config.json" {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return (headers, door.config.clone()).into_response();
    }
    let Some(relative) = file_for(uri.path()) else {
        return (StatusCode::BAD_REQUEST, headers, "bad path").into_response();
    };
    match tokio::fs::read(door.dist.join(&relative)).await {
        Ok(body) => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&relative)));
            // Vite names assets by their content hash: they never change. Everything else
            // (entry pages, manifest, service worker) is revalidated.
            let cache = if relative.starts_with("assets") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            (headers, body).into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, headers, "not found").into_response(),
    }
}

/// The web door's router, serving `<web>/dist` with `<web>/security-headers.json`.
pub fn router(web: &Path, config: &WebConfig) -> Result<Router, String> {
    let dist = web.join("dist");
    if !dist.join("index.html").is_file() {
        return Err(format!(
            "{} has no index.html: build the apps first (cd web && npm run build)",
            dist.display()
        ));
    }
    let door = Door {
        dist,
        config: config.to_json().to_string(),
        headers: security_headers(&web.join("security-headers.json"), config)?,
    };
    Ok(Router::new().fallback(serve).with_state(Arc::new(door)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_without_an_extension_are_the_apps_entry_pages() {
        let check = |path: &str, file: Option<&str>| assert_eq!(file_for(path), file.map(PathBuf::from), "{path}");
        check("/", Some("index.html"));
        check("/stations/CP-1", Some("index.html"));
        check("/auth/callback", Some("index.html"));
        check("/console", Some("console/index.html"));
        check("/console/", Some("console/index.html"));
        check("/console/stations/CP-1", Some("console/index.html"));
        check("/consoles", Some("index.html"));
        check("/assets/index-abc123.js", Some("assets/index-abc123.js"));
        check("/manifest.webmanifest", Some("manifest.webmanifest"));
        check("/../secret.txt", None);
        check("/assets/../../x.js", None);
    }

    #[test]
    fn origins_of_urls_and_tile_templates() {
        assert_eq!(
            origin_of("http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        assert_eq!(
            origin_of("https://api.example.com/v1?x").as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(
            origin_of("https://{s}.tile.example.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.example.org")
        );
        assert_eq!(origin_of("ftp://x/"), None);
        assert_eq!(origin_of("/relative"), None);
    }
}
