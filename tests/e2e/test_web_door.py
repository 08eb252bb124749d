"""The local web door and the development issuer's browser sign-in, through csms-local: the
authorization code grant with PKCE (RFC 7636) and its refusals, refresh tokens, CORS for the apps'
origin only, and what the web door serves (security headers, the single-page fallback, config.json).
The browser tests (web/e2e) drive the same flows through Chromium."""

import base64
import hashlib
import json
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request

import pytest

API_URL = os.environ.get("CSMS_API_URL", "")
ISSUER_URL = os.environ.get("CSMS_ISSUER_URL", "")
WEB_URL = os.environ.get("CSMS_WEB_URL", "")
CLIENT_ID = os.environ.get("CSMS_API_AUDIENCE", "csms-local-app")

pytestmark = pytest.mark.skipif(not WEB_URL, reason="csms-local serves no web apps (build web/ first: scripts/test.sh does)")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def request(method, url, data=None, headers=None):
    """(status, headers, body) without following redirects."""
    body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


CALLBACK = f"{WEB_URL}/auth/callback"


def authorize_params(challenge, redirect_uri=CALLBACK, **extra):
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": redirect_uri, "state": "s-1",
              "code_challenge": challenge, "code_challenge_method": "S256", "scope": "openid"}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def sign_in(user="demo-driver"):
    """The sign-in page's answer for `user`: (code, verifier, cookie)."""
    verifier, challenge = pkce()
    status, headers, _ = request("POST", f"{ISSUER_URL}/oauth2/authorize", {**authorize_params(challenge), "username": user})
    assert status == 303, status
    location = urllib.parse.urlparse(headers["Location"])
    query = urllib.parse.parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert query["state"] == ["s-1"]
    return query["code"][0], verifier, headers["Set-Cookie"].split(";")[0]


def exchange(code, verifier, redirect_uri=CALLBACK):
    status, _, body = request("POST", f"{ISSUER_URL}/oauth2/token", {
        "grant_type": "authorization_code", "client_id": CLIENT_ID, "code": code, "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    return status, json.loads(body)


def test_the_sign_in_page_lists_the_demo_users_and_a_remembered_user_returns_at_once():
    _, challenge = pkce()
    query = urllib.parse.urlencode(authorize_params(challenge))
    status, headers, page = request("GET", f"{ISSUER_URL}/oauth2/authorize?{query}")
    assert status == 200 and "default-src 'none'" in headers["Content-Security-Policy"]
    for user in ("demo-driver", "demo-operator", "demo-admin"):
        assert f'value="{user}"' in page
    _, _, cookie = sign_in("demo-operator")
    status, headers, _ = request("GET", f"{ISSUER_URL}/oauth2/authorize?{query}", headers={"Cookie": cookie})
    assert status == 303 and "code=" in headers["Location"]
    # prompt=login asks again; logout forgets.
    status, _, _ = request("GET", f"{ISSUER_URL}/oauth2/authorize?{query}&prompt=login", headers={"Cookie": cookie})
    assert status == 200
    logout = urllib.parse.urlencode({"client_id": CLIENT_ID, "logout_uri": f"{WEB_URL}/"})
    status, headers, _ = request("GET", f"{ISSUER_URL}/logout?{logout}", headers={"Cookie": cookie})
    assert status == 303 and headers["Location"] == f"{WEB_URL}/" and "Max-Age=0" in headers["Set-Cookie"]


def test_a_code_and_its_verifier_give_tokens_once_and_the_refresh_token_renews_them():
    code, verifier, _ = sign_in()
    status, tokens = exchange(code, verifier)
    assert status == 200, tokens
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    status, _, body = request("GET", f"{API_URL}/v1/me/tokens", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert status == 200, body
    status, again = exchange(code, verifier)
    assert (status, again["error"]) == (400, "invalid_grant"), "a code is good for one exchange"
    status, _, body = request("POST", f"{ISSUER_URL}/oauth2/token", {
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": tokens["refresh_token"]})
    renewed = json.loads(body)
    assert status == 200 and renewed["access_token"] != tokens["access_token"]
    assert renewed["refresh_token"] == tokens["refresh_token"]
    status, _, body = request("POST", f"{ISSUER_URL}/oauth2/token", {
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "refresh_token": "made-up"})
    assert (status, json.loads(body)["error"]) == (400, "invalid_grant")


def test_a_wrong_verifier_or_redirect_uri_is_refused_and_uses_up_the_code():
    code, verifier, _ = sign_in()
    status, answer = exchange(code, pkce()[0])
    assert (status, answer["error"]) == (400, "invalid_grant")
    assert exchange(code, verifier)[0] == 400
    code, verifier, _ = sign_in()
    status, answer = exchange(code, verifier, redirect_uri=f"{WEB_URL}/console/auth/callback")
    assert (status, answer["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize("case, params, error", [
    ("no PKCE", {"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ("plain PKCE", {"code_challenge_method": "plain"}, "invalid_request"),
    ("implicit grant", {"response_type": "token"}, "unsupported_response_type"),
])
def test_a_bad_authorization_request_returns_to_the_app_with_an_error(case, params, error):
    _, challenge = pkce()
    query = urllib.parse.urlencode({k: v for k, v in {**authorize_params(challenge), **params}.items() if v is not None})
    status, headers, _ = request("GET", f"{ISSUER_URL}/oauth2/authorize?{query}")
    assert status == 303, case
    answer = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)
    assert answer["error"] == [error] and answer["state"] == ["s-1"], case


@pytest.mark.parametrize("redirect_uri", ["https://evil.example/cb", f"{WEB_URL}@evil.example/cb", "/auth/callback"])
def test_a_code_is_never_sent_to_another_origin(redirect_uri):
    _, challenge = pkce()
    query = urllib.parse.urlencode(authorize_params(challenge, redirect_uri=redirect_uri))
    status, headers, page = request("GET", f"{ISSUER_URL}/oauth2/authorize?{query}")
    assert status == 400 and "Location" not in headers and "redirect_uri" in page
    status, headers, _ = request("GET", f"{ISSUER_URL}/oauth2/authorize?{urllib.parse.urlencode({**authorize_params(challenge), 'client_id': 'other'})}")
    assert status == 400 and "Location" not in headers


def test_cors_answers_the_apps_origin_only():
    preflight = {"Origin": WEB_URL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    status, headers, _ = request("OPTIONS", f"{API_URL}/v1/charging/start", headers=preflight)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == WEB_URL
    assert "authorization" in headers["Access-Control-Allow-Headers"]
    status, headers, _ = request("OPTIONS", f"{API_URL}/v1/charging/start", headers={**preflight, "Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
    status, headers, _ = request("GET", f"{API_URL}/v1/me/tokens", headers={"Origin": WEB_URL})
    assert status == 401 and headers["Access-Control-Allow-Origin"] == WEB_URL


def test_the_web_door_serves_the_apps_with_a_strict_policy_and_their_settings():
    status, headers, page = request("GET", f"{WEB_URL}/stations/CP-1")
    assert status == 200 and '<div id="root">' in page
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert API_URL in csp
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    status, _, console = request("GET", f"{WEB_URL}/console/stations/CP-1")
    assert status == 200 and "console" in console and console != page
    status, _, body = request("GET", f"{WEB_URL}/config.json")
    config = json.loads(body)
    assert config["apiUrl"] == API_URL and config["auth"]["clientId"] == CLIENT_ID
    assert config["auth"]["tokenUrl"] == f"{ISSUER_URL}/oauth2/token"
    assert request("GET", f"{WEB_URL}/assets/no-such-file.js")[0] == 404
    assert request("GET", f"{WEB_URL}/../Cargo.toml")[0] in (400, 404)
