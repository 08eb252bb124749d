"""The app API keeps the contract it publishes: schemathesis generates requests for every operation
of the live `/openapi.json` (valid and invalid ones), sends each as a driver, an operator, an admin
and with no token, and checks every answer: no 5xx, a documented status code, the documented content
type, a body matching the documented schema, the documented headers."""

import json
import os
import subprocess
import urllib.request
import uuid

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

# No conftest here: tests/e2e's helpers are imported as `conftest`, and a second one would shadow them.
API_URL = os.environ.get("CSMS_API_URL", "")
ISSUER_URL = os.environ.get("CSMS_ISSUER_URL", "")
if not API_URL or not ISSUER_URL:
    raise pytest.UsageError("CSMS_API_URL / CSMS_ISSUER_URL are not set: run the contract tests through scripts/test.sh")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    unsupported_method,
    ignored_auth,
]


def token_for(subject: str, roles=(), organisation=None) -> str:
    """A token from the development issuer; with `organisation`, the subject is made its operator
    (the membership, not the token, says which organisation an operator acts for)."""
    if organisation:
        registry("org", "add", "--id", organisation)
        registry("operator", "add", "--org", organisation, "--subject", subject)
    body = {"subject": subject, "roles": list(roles)}
    request = urllib.request.Request(ISSUER_URL + "/dev/token", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access_token"]


def registry(*args: str) -> dict:
    binary = os.environ.get("CSMS_REGISTRY_BIN", "target/debug/csms-registry")
    out = subprocess.run([binary, "--json", *args], check=True, capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout) if out.stdout.strip() else {}


@pytest.fixture(scope="session")
def world() -> dict:
    """The roles' tokens and real objects of theirs (a station of the operator's organisation, the
    driver's id token and command), so valid requests also reach 2xx answers, not only 404s."""
    suffix = uuid.uuid4().hex[:8]
    driver, organisation = f"contract-driver-{suffix}", f"contract-org-{suffix}"
    station = f"CONTRACT-{suffix.upper()}"
    registry("register", "--id", station, "--protocol", "ocpp1.6", "--latitude", "60.17", "--longitude", "24.94",
             "--organisation", organisation)
    tag = f"C{suffix.upper()}"
    registry("token", "add", "--token", tag, "--organisation", organisation)
    claim_code = registry("token", "claim-code", "--token", tag, "--organisation", organisation)["claimCode"]
    tokens = {
        "driver": token_for(driver, ["driver"]),
        "operator": token_for(f"contract-operator-{suffix}", ["operator"], organisation=organisation),
        "admin": token_for(f"contract-admin-{suffix}", ["admin"]),
        "anonymous": None,
    }
    # The driver makes the card theirs, the only way there is.
    claim = urllib.request.Request(API_URL + "/v1/me/tokens", method="POST", data=json.dumps({"claimCode": claim_code}).encode(),
                                   headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens['driver']}"})
    with urllib.request.urlopen(claim, timeout=30) as response:
        assert response.status == 201
    request = urllib.request.Request(API_URL + "/v1/charging/start", method="POST",
                                     data=json.dumps({"stationId": station, "idToken": tag}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {tokens['driver']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        command = json.loads(response.read())["commandId"]
    return {"tokens": tokens, "ids": {"stationId": station, "commandId": command, "idToken": tag}}


def with_real_ids(case, ids: dict) -> None:
    """Valid requests name real objects (by parameter or body property name) instead of random ones."""
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    if case.path_parameters:
        case.path_parameters = {k: ids.get(k, v) for k, v in case.path_parameters.items()}
    if isinstance(case.body, dict):
        case.body = {k: ids.get(k, v) for k, v in case.body.items()}


# Loaded at collection (conftest refuses to run without a stack), so each operation is its own test.
schema = schemathesis.openapi.from_url(API_URL + "/openapi.json", wait_for_schema=30)


# Bounded: a few valid and invalid examples per operation, no shrinking (a failure is reported as
# found), so the whole run stays around a minute on two cores.
@schema.parametrize()
@hypothesis.settings(
    max_examples=12,
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_conforms_to_the_document(case, world):
    with_real_ids(case, world["ids"])
    for role, token in world["tokens"].items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            case.call_and_validate(base_url=API_URL, headers=headers, checks=CHECKS, timeout=30)
        except Exception as failure:
            failure.add_note(f"sent as: {role}")
            raise
