"""Contract-test fixtures: the running stand-in's app API (scripts/test.sh starts it) and bearer
tokens for each role from its development issuer."""

import json
import os
import urllib.request

import pytest

API_URL = os.environ.get("CSMS_API_URL", "")
ISSUER_URL = os.environ.get("CSMS_ISSUER_URL", "")


def pytest_configure(config):
    if not API_URL or not ISSUER_URL:
        raise pytest.UsageError("CSMS_API_URL / CSMS_ISSUER_URL are not set: run the contract tests through scripts/test.sh")


def token_for(subject: str, roles=(), organisation=None) -> str:
    body = {"subject": subject, "roles": list(roles)}
    if organisation:
        body["organisation"] = organisation
    request = urllib.request.Request(ISSUER_URL + "/dev/token", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]
