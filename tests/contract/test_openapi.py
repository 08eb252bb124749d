"""The app API keeps the contract it publishes: schemathesis generates requests for every operation
of the live `/openapi.json` (valid and invalid ones), sends each as a driver, an operator, an admin
and with no token, and checks every answer: no 5xx, a documented status code, the documented content
type, a body matching the documented schema, the documented headers."""

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
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

from conftest import API_URL, token_for

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


@pytest.fixture(scope="session")
def role_tokens() -> dict[str, str | None]:
    return {
        "driver": token_for("contract-driver", ["driver"]),
        "operator": token_for("contract-operator", ["operator"], organisation="contract-org"),
        "admin": token_for("contract-admin", ["admin"]),
        "anonymous": None,
    }


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
def test_every_answer_conforms_to_the_document(case, role_tokens):
    for role, token in role_tokens.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            case.call_and_validate(base_url=API_URL, headers=headers, checks=CHECKS, timeout=30)
        except Exception as failure:
            failure.add_note(f"sent as: {role}")
            raise
