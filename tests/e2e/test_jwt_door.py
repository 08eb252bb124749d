"""Bearer tokens through the door (the stand-in's HTTP API: its JWT authorizer, then the function's own
check): every way a token can be bad is refused with 401 and a Bearer challenge, and a key rotation
refuses no good token, even when someone sent a token with a made-up key id just before it.
`shared/auth/tests/negative_matrix.rs` has the same matrix at unit level; this one is end to end."""

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.request
import uuid

from test_api import ISSUER_URL, b64, http, token_for

AUDIENCE = os.environ.get("CSMS_API_AUDIENCE", "csms-local-app")
PATH = "/v1/me/tokens"  # any driver route: the door is the same for all


def issuer_post(path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(ISSUER_URL + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def signed(claims: dict, key: str = "current") -> str:
    """`claims` exactly as given, signed by the development issuer's real key (or an unpublished one)."""
    return issuer_post("/dev/sign", {"claims": claims, "key": key})["access_token"]


def claims(**changes) -> dict:
    """A good driver access token's claims, with `changes` (None removes a claim)."""
    now = int(time.time())
    base = {"iss": ISSUER_URL, "sub": f"door-{uuid.uuid4().hex[:8]}", "client_id": AUDIENCE, "token_use": "access",
            "iat": now, "nbf": now, "exp": now + 600, "cognito:groups": ["drivers"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def assert_refused(name: str, token: str | None):
    status, body, headers = http("GET", PATH, token)
    assert status == 401, (name, status, body)
    challenge = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), (name, challenge)


def assert_accepted(name: str, token: str):
    status, body, _ = http("GET", PATH, token)
    assert status == 200, (name, status, body)


def public_key_secrets() -> dict[str, bytes]:
    """The published key's bytes in every form an HS256 confusion attack would try as the HMAC secret."""
    with urllib.request.urlopen(ISSUER_URL + "/.well-known/jwks.json", timeout=30) as response:
        jwk = json.loads(response.read())["keys"][0]
    raw = lambda v: base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))  # noqa: E731
    point = b"\x04" + raw(jwk["x"]) + raw(jwk["y"])
    # SubjectPublicKeyInfo of a P-256 key: a fixed prefix, then the uncompressed point.
    der = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + point
    body = base64.b64encode(der).decode()
    pem = "-----BEGIN PUBLIC KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END PUBLIC KEY-----\n"
    return {"point": point, "der": der, "pem": pem.encode(), "jwk": json.dumps(jwk).encode()}


def test_every_bad_token_is_refused_at_the_door():
    good = signed(claims())
    assert_accepted("good (dev/sign)", good)
    assert_accepted("good (dev/token)", token_for(f"door-{uuid.uuid4().hex[:8]}", ["driver"]))
    header, payload, signature = parts(good)
    now = int(time.time())

    bad = {
        "no token": None,
        "expired": signed(claims(iat=now - 900, nbf=now - 900, exp=now - 300)),
        "not yet valid (nbf)": signed(claims(nbf=now + 600, exp=now + 1200)),
        "wrong issuer": signed(claims(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other")),
        "issuer with a trailing slash": signed(claims(iss=ISSUER_URL + "/")),
        "wrong client_id": signed(claims(client_id="another-app")),
        "wrong aud, no client_id": signed(claims(client_id=None, aud="another-app")),
        "no audience at all": signed(claims(client_id=None)),
        "ID token (token_use id)": signed(claims(token_use="id", aud=AUDIENCE)),
        "no token_use": signed(claims(token_use=None)),
        "no exp": signed(claims(exp=None)),
        "no sub": signed(claims(sub=None)),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}.",
        "alg none, real kid": f"{b64({**header, 'alg': 'none'})}.{b64(payload)}.",
        "unknown kid, valid signature": signed(claims(), key="unpublished"),
        "tampered payload": f"{b64(header).rstrip('=')}.{b64({**payload, 'cognito:groups': ['admins']})}.{signature}",
        "tampered subject": f"{good.split('.')[0]}.{b64({**payload, 'sub': 'someone-else'})}.{signature}",
        "signature of another token": f"{good.split('.')[0]}.{good.split('.')[1]}.{parts(signed(claims()))[2]}",
        "no signature": f"{good.split('.')[0]}.{good.split('.')[1]}.",
        "garbage": "not-a-jwt",
    }
    for form, secret in public_key_secrets().items():
        hs_header = b64({**header, "alg": "HS256"})
        signing_input = f"{hs_header}.{b64(payload)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        bad[f"HS256 keyed with the public key ({form})"] = f"{signing_input}.{b64(mac)}"
    for name, token in bad.items():
        assert_refused(name, token)
    # The good token still works after all that.
    assert_accepted("good, again", good)


def test_a_key_rotation_refuses_no_good_token_even_after_an_unknown_kid():
    old = [token_for(f"rot-{i}-{uuid.uuid4().hex[:8]}", ["driver"]) for i in range(3)]
    for token in old:
        assert_accepted("old key, before the rotation", token)

    # Old-key tokens keep coming while the issuer rotates.
    failures, stop = [], threading.Event()

    def keep_using_old_tokens():
        while not stop.is_set():
            for token in old:
                status, body, _ = http("GET", PATH, token)
                if status != 200:
                    failures.append((status, body))
            # Paced well under the API's budget per user (600 requests a minute), which would
            # otherwise answer 429 on a fast machine.
            stop.wait(0.2)

    worker = threading.Thread(target=keep_using_old_tokens)
    worker.start()
    try:
        # An attacker's token with a made-up key id, sent just before the rotation, spends the
        # verifiers' rate-limited refetch on a key set without the new key.
        assert_refused("unknown kid just before the rotation", signed(claims(), key="unpublished"))
        rotated = issuer_post("/dev/rotate")
        assert rotated["kid"] != rotated["previous"]
        new = token_for("rot-new", ["driver"])
        assert parts(new)[0]["kid"] == rotated["kid"]
        started = time.monotonic()
        assert_accepted("new key, right after the rotation", new)
        assert time.monotonic() - started < 5
        # More made-up kids after the rotation change nothing for good tokens.
        for _ in range(5):
            assert_refused("unknown kid after the rotation", signed(claims(), key="unpublished"))
            assert_accepted("new key", token_for("rot-new", ["driver"]))
        time.sleep(0.5)
    finally:
        stop.set()
        worker.join()
    assert not failures, failures[:3]

    # A second rotation retires the first key. The verifiers drop a key when a fetch no longer finds
    # it, and the first third-key token makes them fetch; then the first key's tokens are refused.
    issuer_post("/dev/rotate")
    assert_accepted("current key", token_for("rot-newest", ["driver"]))
    assert_accepted("previous key", new)
    for token in old:
        assert_refused("retired key", token)


def test_the_function_checks_tokens_with_its_own_settings_behind_the_authorizer():
    """Issue 10 item 21: the function verifies with the settings it has in Lambda (AUTH_TOKEN_USE
    from the template, the issuer and audience standing for Cognito's, the keys over HTTP), not a
    copy of the door's. API Gateway's JWT authorizer does not look at `token_use`: an ID token
    passes the door and the function refuses it, with its own problem document."""
    status, body, headers = http("GET", PATH, signed(claims(token_use="id", aud=AUDIENCE)))
    assert status == 401, body
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert content_type == "application/problem+json", (content_type, body)
    assert body["status"] == 401 and "token_use" in body["detail"], body
    # The door itself answers as API Gateway does, before any function runs.
    status, body, _ = http("GET", PATH, signed(claims(client_id="another-app")))
    assert (status, body) == (401, {"message": "Unauthorized"})
